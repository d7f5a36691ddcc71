"""The review state machine the UI and CLI share: finding actions, undo, sign-off.

Each action is one transaction with its review row and audit entry. A signed study is
frozen: its report snapshot is written once (the table refuses updates) and later actions
are refused. Nothing reaches a PMS without a signature: signing is what queues exports.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from .. import audit, automation
from ..analysis.catalog import ModelCatalog
from ..clinical import study_summary
from ..config import Config
from ..store.db import Database, utcnow
from ..clinical.image_type import UNCERTAIN
from ..export.render import LABEL, demo_line, local_time
from ..store.studies import REPORT_FINDING_FIELDS, report_base
from ..store.studies import queue as queue_read
from . import clinicians as clin

EDITABLE = ("label", "tooth_fdi", "surfaces", "note", "x1", "y1", "x2", "y2")


class ReviewError(Exception):
    """An action that cannot be done, phrased for the person trying it."""


class SignError(ReviewError):
    pass


def image_pixels(db: Database, image_id: int) -> np.ndarray:
    """Display pixels of one image: the intake cache, else decoded again from the source after
    its sha256 is checked (raises intake.errors.OriginalChanged when the file was replaced)."""
    from ..intake import image_cache
    from ..store import images as image_repo

    row = image_repo.get(db, image_id)
    if row is None:
        raise ReviewError(f"image {image_id} does not exist")
    return image_cache.pixels(row)


class ReviewAPI:
    def __init__(self, db: Database, config: Config | None = None, catalog: ModelCatalog | None = None):
        self.db = db
        self.config = config or Config()
        # the installed models' manifests: label names, colours and floors, demonstration models
        self.catalog = catalog or ModelCatalog.bundled()

    # -- reads -------------------------------------------------------------------------------
    @property
    def silent_pilot(self) -> bool:
        return self.config.governance.rollout == "silent_pilot"

    def _visible(self, studies: list[dict]) -> list[dict]:
        """In a silent pilot the findings are recorded for later comparison but never shown."""
        if self.silent_pilot:
            for s in studies:
                for im in s["images"]:
                    im["findings"] = []
                s["findings_count"] = 0
                s["findings_hidden"] = "silent pilot: AI findings are recorded but not shown"
        return studies

    def queue(self, include_done: bool = False) -> list[dict]:
        return self._visible(queue_read(self.db, include_done=include_done))

    def study(self, study_id: int) -> dict:
        found = self._visible(queue_read(self.db, include_done=True, study_id=study_id))
        if not found:
            raise ReviewError(f"study {study_id} does not exist")
        s = found[0]
        row = self.db.one("SELECT clinical FROM studies WHERE id=?", (study_id,))
        clinical = json.loads(row["clinical"] or "{}")
        s["drafts"] = clinical.get("drafts", {})
        report = self.db.one("SELECT signer_name, signed_at FROM reports WHERE study_id=?", (study_id,))
        s["signed"] = {"by": report["signer_name"], "at": report["signed_at"]} if report else None
        return s

    def clinicians(self) -> list[dict]:
        return clin.list_clinicians(self.db)

    def demonstration_models(self, study_id: int) -> list[str]:
        """The models behind this study's images or findings that are for demonstration only."""
        rows = self.db.query("SELECT DISTINCT model_name, model_version FROM images WHERE study_id=? AND model_name<>'' "
                             "UNION SELECT DISTINCT model_name, model_version FROM findings WHERE study_id=? "
                             "AND model_name<>''", (study_id, study_id))
        return self.catalog.demonstration(sorted({f"{r[0]} {r[1]}".strip() for r in rows}))

    # -- finding actions ---------------------------------------------------------------------
    def _finding(self, c, finding_id: int):
        f = c.execute("SELECT * FROM findings WHERE id=?", (finding_id,)).fetchone()
        if f is None:
            raise ReviewError(f"finding {finding_id} does not exist")
        self._editable(c, f["study_id"])
        return f

    def _editable(self, c, study_id: int) -> None:
        s = c.execute("SELECT status FROM studies WHERE id=?", (study_id,)).fetchone()
        if s is None:
            raise ReviewError(f"study {study_id} does not exist")
        if s["status"] not in ("new", "in_review"):
            raise ReviewError(f"study {study_id} is {s['status']}; it can no longer be changed")

    def _record(self, c, study_id: int, finding_id: int, action: str, before: dict, after: dict, actor: str) -> None:
        c.execute("INSERT INTO reviews(study_id, finding_id, action, actor, before, after, at) VALUES (?,?,?,?,?,?,?)",
                  (study_id, finding_id, action, actor, json.dumps(before), json.dumps(after), utcnow()))
        c.execute("UPDATE studies SET status='in_review' WHERE id=? AND status='new'", (study_id,))
        audit.append(c, f"review_{action}", f"finding:{finding_id}", study=study_id, actor=actor, before=before,
                     after=after)

    def _set_status(self, finding_id: int, status: str, actor: str) -> None:
        with self.db.tx() as c:
            f = self._apply_status(c, finding_id, status, actor)
        self._refresh(f["study_id"])

    def _apply_status(self, c, finding_id: int, status: str, actor: str, study_id: int | None = None):
        f = self._finding(c, finding_id)
        if study_id is not None and f["study_id"] != study_id:
            raise ReviewError(f"finding {finding_id} is not in study {study_id}")
        if f["status"] != status:
            c.execute("UPDATE findings SET status=? WHERE id=?", (status, finding_id))
            action = {"accepted": "accept", "rejected": "reject"}[status]
            self._record(c, f["study_id"], finding_id, action, {"status": f["status"]}, {"status": status}, actor)
        return f

    def accept(self, finding_id: int, actor: str = "") -> None:
        self._set_status(finding_id, "accepted", actor)

    def reject(self, finding_id: int, actor: str = "") -> None:
        self._set_status(finding_id, "rejected", actor)

    def edit(self, finding_id: int, *, label: str | None = None, tooth_fdi: int | None = None,
             surfaces: str | None = None, note: str | None = None, box=None, actor: str = "") -> None:
        from ..teeth import fdi_to_universal

        changes: dict[str, Any] = {}
        if label is not None:
            changes["label"] = label
        if tooth_fdi is not None:
            changes["tooth_fdi"] = int(tooth_fdi)
            changes["tooth_universal"] = str(fdi_to_universal(int(tooth_fdi)))
        if surfaces is not None:
            if any(ch not in "MODBLIF" for ch in surfaces.upper()):
                raise ReviewError("surfaces are letters from M, O, D, B, L, I, F")
            changes["surfaces"] = surfaces.upper()
        if note is not None:
            changes["note"] = note
        if box is not None:
            x1, y1, x2, y2 = (float(v) for v in box)
            changes.update(x1=min(x1, x2), y1=min(y1, y2), x2=max(x1, x2), y2=max(y1, y2))
        if not changes:
            return
        with self.db.tx() as c:
            f = self._finding(c, finding_id)
            before = {k: f[k] for k in changes} | {"status": f["status"]}
            new_status = "added" if f["status"] == "added" else "edited"
            sets = ", ".join(f"{k}=?" for k in changes)
            c.execute(f"UPDATE findings SET {sets}, status=? WHERE id=?", (*changes.values(), new_status, finding_id))
            self._record(c, f["study_id"], finding_id, "edit", before, changes | {"status": new_status}, actor)
        self._refresh(f["study_id"])

    def add(self, image_id: int, label: str, box, *, tooth_fdi: int | None = None, surfaces: str = "",
            note: str = "", actor: str = "") -> int:
        from ..teeth import fdi_to_universal

        x1, y1, x2, y2 = (float(v) for v in box)
        with self.db.tx() as c:
            im = c.execute("SELECT study_id FROM images WHERE id=?", (image_id,)).fetchone()
            if im is None or im["study_id"] is None:
                raise ReviewError(f"image {image_id} is not part of a study")
            self._editable(c, im["study_id"])
            cur = c.execute(
                "INSERT INTO findings(image_id, study_id, label, code, confidence, x1, y1, x2, y2, tooth_fdi, "
                "tooth_universal, surfaces, severity, source, status, note, created_at) "
                "VALUES (?,?,?,?,1.0,?,?,?,?,?,?,?,?,'clinician','added',?,?)",
                (image_id, im["study_id"], label, label, min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2),
                 tooth_fdi, str(fdi_to_universal(tooth_fdi)) if tooth_fdi else "", surfaces.upper(),
                 study_summary_severity(label), note, utcnow()),
            )
            fid = cur.lastrowid
            self._record(c, im["study_id"], fid, "add", {}, {"label": label, "box": [x1, y1, x2, y2]}, actor)
        self._refresh(im["study_id"])
        return fid

    def undo(self, study_id: int, actor: str = "") -> bool:
        """Revert the latest not-yet-undone action on this study."""
        with self.db.tx() as c:
            self._editable(c, study_id)
            last = c.execute("SELECT * FROM reviews WHERE study_id=? AND undone=0 AND action<>'undo' "
                             "ORDER BY id DESC LIMIT 1", (study_id,)).fetchone()
            if last is None:
                return False
            before = json.loads(last["before"] or "{}")
            if last["action"] == "add":
                # kept for the audit trail's references, but out of every view and report
                c.execute("UPDATE findings SET status='withdrawn' WHERE id=? AND source='clinician'",
                          (last["finding_id"],))
            elif before:
                sets = ", ".join(f"{k}=?" for k in before)
                c.execute(f"UPDATE findings SET {sets} WHERE id=?", (*before.values(), last["finding_id"]))
            c.execute("UPDATE reviews SET undone=1 WHERE id=?", (last["id"],))
            c.execute("INSERT INTO reviews(study_id, finding_id, action, actor, before, after, at, undone) "
                      "VALUES (?,?,?,?,?,?,?,1)", (study_id, last["finding_id"], "undo", actor, last["after"],
                                                   last["before"], utcnow()))
            audit.append(c, "review_undo", f"finding:{last['finding_id']}", study=study_id, actor=actor,
                         undid=last["action"])
        self._refresh(study_id)
        return True

    def _refresh(self, study_id: int, signer: str = "") -> dict:
        cc = self.config.clinical
        return study_summary.refresh(self.db, study_id, urgent_threshold=cc.urgent_threshold, fmx_images=cc.fmx_images,
                                     signer=signer)

    # -- sign-off ------------------------------------------------------------------------------
    def destinations(self) -> list[str]:
        return list(self.config.export.destinations)

    def preview_export(self, study_id: int) -> dict:
        summary = self._refresh(study_id)
        accepted = self.db.query("SELECT id, image_id FROM findings WHERE study_id=? AND status IN "
                                 "('accepted','edited','added')", (study_id,))
        images = sorted({r["image_id"] for r in accepted}) or [
            r["id"] for r in self.db.query("SELECT id FROM images WHERE study_id=? AND state NOT IN "
                                           "('duplicate','quarantined') ORDER BY id", (study_id,))]
        codes = summary["cdt"]["imaging"] + summary["cdt"]["treatment"]
        demo = demo_line({"demonstration_models": self.demonstration_models(study_id)})
        note = "\n".join(x for x in (demo, summary["drafts"]["chart_note"].rstrip(), self.automation_addendum(study_id))
                         if x)
        return {"note": note, "codes": codes, "images": images,
                "findings": [r["id"] for r in accepted], "destinations": self.destinations() or
                ["none configured yet: the signed report stays in Dental AI Bridge"],
                "warnings": self.safety_warnings(study_id, summary)}

    def safety_warnings(self, study_id: int, summary: dict | None = None) -> list[str]:
        """What the signing dentist must see first: identity gaps, incomplete sets, uncertain types."""
        summary = summary or self._refresh(study_id)
        out = []
        s = self.db.one("SELECT patient_id, patient_id_kind, patient_name, birth_date FROM studies WHERE id=?",
                        (study_id,))
        if not s["patient_id"]:
            out.append("No patient id on these images: the export cannot find the chart. Check the imaging "
                       "software's patient record before signing.")
        elif not s["birth_date"] or not s["patient_name"]:
            out.append("The images carry no patient name or birth date, so the chart match rests on the "
                       f"{'PatNum' if s['patient_id_kind'] == 'patnum' else 'chart number'} alone.")
        names = automation.patient_names(self.db, study_id)
        if len(names) > 1:
            out.append(f"The images of this study name different patients ({', '.join(sorted(names))}): "
                       "a wrong-patient image may be mixed in.")
        if "opendental" in self.destinations():
            out.append("Before anything is written, Open Dental's record is compared with the images' "
                       "patient (id, last name, birth date); a mismatch stops the export.")
        demo = self.demonstration_models(study_id)
        if demo and self.destinations():
            if self.config.export.allow_demonstration_model:
                out.append(f"These findings come from a demonstration model ({', '.join(demo)}), not for clinical use. "
                           "They will be exported because the practice allows it; every file and note says so first.")
            else:
                out.append(f"These findings come from a demonstration model ({', '.join(demo)}), not for clinical use: "
                           "the signed report stays here and is not written to the chart (the export stops at "
                           "\"needs attention\") unless \"Export findings of a demonstration model\" is turned on "
                           "in Settings → Export.")
        st = summary.get("set") or {}
        if st and not st.get("complete", True):
            out.append(f"Incomplete set: {st.get('text')}.")
        uncertain = self.db.query("SELECT id, kind, kind_rule FROM images WHERE study_id=? AND kind_confidence>0 "
                                  "AND kind_confidence<? AND state NOT IN ('duplicate','quarantined')", (study_id, UNCERTAIN))
        for im in uncertain:
            out.append(f"Image {im['id']}: type uncertain ({im['kind']}? {im['kind_rule']}).")
        sent = automation.record(self.db, study_id)
        if sent is not None:
            out.append(f"{len(sent['findings'])} finding(s) of this study went to the chart automatically on "
                       f"{local_time(sent['at'])}, marked as not yet verified. Any of them you do not accept as sent "
                       "(rejected, edited or left unreviewed) is listed in the signed chart note as a correction.")
        return out

    def automation_addendum(self, study_id: int, sent: dict | None = None, fixes: list | None = None) -> str:
        """What the signed note adds when an unverified automatic export went out before it
        (`sent`/`fixes`: automation.record/corrections when the caller has them already)."""
        sent = sent or automation.record(self.db, study_id)
        if sent is None:
            return ""
        lines = [f"This signed report verifies the AI-generated export of {local_time(sent['at'])}."]
        fixes = automation.corrections(self.db, study_id, sent) if fixes is None else fixes
        for f in fixes:
            tooth = f" #{f['tooth_universal']}" if f.get("tooth_universal") else ""
            lines.append(f"- Correction: {f['label'].replace('_', ' ')}{tooth} from that export was {f['change']}.")
        if not fixes:
            lines.append("- All automatically exported findings were confirmed.")
        return "\n".join(lines)

    def sign(self, study_id: int, clinician_id: int, pin: str, *, accept=(), reject=()) -> dict:
        """Sign, after accepting/rejecting the given findings. The PIN is checked first; the
        actions, the report snapshot and the queued exports then commit together or not at all."""
        if self.silent_pilot:
            raise SignError("the practice runs a silent pilot: nothing is signed or exported until the rollout "
                            "mode is set to assistive (dental-bridge config set governance.rollout assistive)")
        try:
            who = clin.verify(self.db, clinician_id, pin)
        except clin.ClinicianError as exc:
            raise SignError(str(exc)) from exc
        if who["role"] not in clin.SIGNING_ROLES:
            raise SignError(f"{who['name']} is a {who['role']}; only a dentist can sign")
        actor = f"clinician:{who['id']}"
        with self.db.tx() as c:
            try:
                self._editable(c, study_id)
                for fid in sorted(set(accept) - set(reject)):
                    self._apply_status(c, fid, "accepted", actor, study_id)
                for fid in sorted(set(reject)):
                    self._apply_status(c, fid, "rejected", actor, study_id)
            except ReviewError as exc:
                raise SignError(str(exc)) from exc
            summary = self._refresh(study_id, signer=who["name"])  # a savepoint inside this transaction
            rows = c.execute(
                f"SELECT {', '.join(REPORT_FINDING_FIELDS)} FROM findings WHERE study_id=? AND status IN "
                "('accepted','edited','added') ORDER BY image_id, id", (study_id,)).fetchall()
            signed_at = utcnow()
            snapshot = report_base(self.db, study_id, rows, self.catalog) | {
                "label": LABEL, "cdt": summary["cdt"], "drafts": summary["drafts"],
                "signer": {"id": who["id"], "name": who["name"], "role": who["role"]}, "signed_at": signed_at,
            }
            sent = automation.record(self.db, study_id)  # same connection: read inside this transaction
            if sent is not None:
                fixes = automation.corrections(self.db, study_id, sent)
                snapshot["supersedes"] = {"automated_sha256": sent["sha256"], "at": sent["at"], "corrections": fixes}
                snapshot["drafts"] = dict(snapshot["drafts"], chart_note=snapshot["drafts"]["chart_note"].rstrip() +
                                          "\n" + self.automation_addendum(study_id, sent, fixes))
            body = json.dumps(snapshot, sort_keys=True, ensure_ascii=False)
            digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
            automation.supersede_unsent(c, study_id)
            c.execute("INSERT INTO reports(study_id, signed_by, signer_name, signed_at, snapshot, sha256) "
                      "VALUES (?,?,?,?,?,?)", (study_id, who["id"], who["name"], signed_at, body, digest))
            c.execute("UPDATE studies SET status='signed' WHERE id=?", (study_id,))
            c.execute("UPDATE images SET state='signed', updated_at=? WHERE study_id=? AND state='analyzed'",
                      (signed_at, study_id))
            # exports are queued in the same transaction as the signature, so none is ever lost
            for dest in self.destinations():
                c.execute("INSERT OR IGNORE INTO outbox(study_id, destination, created_at, updated_at) "
                          "VALUES (?,?,?,?)", (study_id, dest, signed_at, signed_at))
            audit.append(c, "signed", f"study:{study_id}", clinician=who["id"], report_sha256=digest,
                         findings=len(rows), destinations=self.destinations())
        result = {"study_id": study_id, "signed_by": who["name"], "signed_at": signed_at, "report_sha256": digest,
                  "findings": len(rows)}
        if who.get("pin_weak"):
            result["warning"] = (f"{who['name']}'s PIN is shorter than now required ({clin.pin_rule(who['role'])}); "
                                 f"change it soon: Settings → Clinicians, or dental-bridge clinicians set-pin {who['id']}")
        return result


def study_summary_severity(label: str) -> int:
    from ..clinical.triage import DEFAULT_SEVERITY

    return DEFAULT_SEVERITY.get(label, 0)
