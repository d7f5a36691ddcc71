"""The review state machine the UI and CLI share: finding actions, undo, sign-off.

Each action is one transaction with its review row and audit entry. A signed study is
frozen: its report snapshot is written once (the table refuses updates) and later actions
are refused. Nothing reaches a PMS without a signature: signing is what queues exports.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..store import audit
from ..analysis.catalog import ModelCatalog
from ..clinical import follow_up, study_summary
from ..config import Config
from ..labels import describe
from ..store.db import Database, utcnow
from ..clinical.image_type import UNCERTAIN
from ..intake import image_cache
from ..teeth import fdi_to_universal
from ..store import alerts, findings, images, outbox, priors, reports, studies
from ..store.reports import Signer
from ..store.status import change_fingerprint
from ..store.studies import queue as queue_read
from . import clinicians as clin
from .chart import ChartCache, context as chart_view
from .codes import chart_preview, confirmed as confirmed_codes
from .patient import PatientMatch, find as find_patient
from .silent_pilot import hide_findings
from .report import LABEL, automated_record, build as build_report, corrections, demo_text, local_time

EDITABLE = ("label", "tooth_fdi", "surfaces", "note", "x1", "y1", "x2", "y2")


class ReviewError(Exception):
    """An action that cannot be done, phrased for the person trying it."""


class SignError(ReviewError):
    pass


STALE_SENTENCE = "this study changed on another PC"  # how a client tells a 409 for a stale version


class StaleVersion(ReviewError):
    """The study changed (on another PC) since the version the action was based on."""


class AlreadySigned(SignError):
    """The study is signed: a signature is exclusive and final (a conflict, not a wrong PIN)."""


def image_pixels(db: Database, image_id: int) -> np.ndarray:
    """Display pixels of one image: the intake cache, else decoded again from the source after
    its sha256 is checked (raises intake.errors.OriginalChanged when the file was replaced)."""
    row = images.get(db, image_id)
    if row is None:
        raise ReviewError(f"image {image_id} does not exist")
    return image_cache.pixels(row)


class ReviewAPI:
    def __init__(self, db: Database, config: Config | None = None, catalog: ModelCatalog | None = None):
        self.db = db
        self.config = config or Config()
        # the installed models' manifests: label names, colours and floors, demonstration models
        self.catalog = catalog or ModelCatalog.bundled()
        self.charts = ChartCache(lambda: self.config.export.opendental)  # per process, in memory only

    # -- reads -------------------------------------------------------------------------------
    @property
    def silent_pilot(self) -> bool:
        return self.config.governance.rollout == "silent_pilot"

    def _visible(self, studies: list[dict]) -> list[dict]:
        return hide_findings(studies) if self.silent_pilot else studies

    def queue(self, include_done: bool = False) -> list[dict]:
        # with each urgent study's alert text, for a client's tray (export/urgent_alert.py)
        return alerts.with_texts(self.db.conn(), self._visible(queue_read(self.db, include_done=include_done)))

    def study(self, study_id: int) -> dict:
        found = self._visible(queue_read(self.db, include_done=True, study_id=study_id))
        if not found:
            raise ReviewError(f"study {study_id} does not exist")
        s = found[0]  # its "version" was read first: a change since then makes an action stale, never lost
        s["drafts"] = studies.clinical(self.db, study_id).get("drafts", {})
        report = reports.signed(self.db, study_id)
        s["signed"] = {"by": report["signer_name"], "at": report["signed_at"]} if report else None
        return s

    def clinicians(self) -> list[dict]:
        return clin.list_clinicians(self.db)

    def demonstration_models(self, study_id: int) -> list[str]:
        """The models behind this study's images or findings that are for demonstration only."""
        return self.catalog.demonstration(findings.models_of_study(self.db, study_id))

    def changes(self) -> tuple:
        """Changes whenever anything the review window shows changes: poll it, reload on change
        (a client home's RemoteReviewAPI asks its hub instead)."""
        return change_fingerprint(self.db)

    def pixels(self, image_id: int) -> np.ndarray:
        return image_pixels(self.db, image_id)

    def comparison(self, image_id: int) -> dict | None:
        """How this image compares with its prior (clinical/comparison.py), or None."""
        return priors.of_image(self.db, image_id)

    def find_patient(self, patient_id: str, id_kind: str | None = None) -> PatientMatch:
        """The study `review --patient ID` opens (the patient's newest), or why none."""
        return find_patient(self.db, self.config, patient_id, id_kind)

    def chart_context(self, study_id: int) -> dict:
        """What Open Dental charts for the study's patient and the findings that contradict it (never logged)."""
        return chart_view(study := self.study(study_id), self.charts.get(study_id, study["patient"]))

    def exports(self, study_id: int) -> list[dict]:
        """Where this study's signed (or automated) report is going: one row per destination."""
        return outbox.of_study(self.db, study_id)

    # -- finding actions ---------------------------------------------------------------------
    def _finding(self, c, finding_id: int):
        f = findings.get(c, finding_id)
        if f is None:
            raise ReviewError(f"finding {finding_id} does not exist")
        self._editable(c, f["study_id"])
        return f

    def _editable(self, c, study_id: int) -> None:
        status = studies.status_of(c, study_id)
        if status is None:
            raise ReviewError(f"study {study_id} does not exist")
        if status not in ("new", "in_review"):
            report = reports.signed(self.db, study_id) if reports.is_signed(c, study_id) else None
            if report is not None:
                raise AlreadySigned(f"study {study_id} was already signed by {report['signer_name']} at "
                                    f"{local_time(report['signed_at'])}; it can no longer be changed")
            raise ReviewError(f"study {study_id} is {status}; it can no longer be changed")

    def _check_version(self, c, study_id: int, expected: int | None) -> None:
        """An action based on an older view of the study (another PC changed it since) is refused."""
        if expected is None:
            return
        now = studies.version_of(c, study_id)
        if now == int(expected):
            return
        last = findings.last_review(c, study_id)
        what = "it was changed"
        if last is not None:
            done = {"accept": "accepted", "reject": "rejected", "edit": "edited", "add": "added",
                    "undo": "undone"}.get(last["action"], last["action"])
            who = (last["actor"] or "the hub").removeprefix("hub:")
            what = f"finding {last['finding_id']} was {done} by {who} at {local_time(last['at'])}"
        raise StaleVersion(f"{STALE_SENTENCE}: {what} (version {now}, this PC had {expected}); "
                           "reload it and try again")

    def _record(self, c, study_id: int, finding_id: int, action: str, before: dict, after: dict, actor: str) -> None:
        findings.record_review(c, study_id, finding_id, action, actor, before, after, utcnow())
        studies.mark_in_review(c, study_id)
        studies.bump_version(c, study_id)
        audit.append(c, f"review_{action}", f"finding:{finding_id}", study=study_id, actor=actor, before=before,
                     after=after)

    def _set_status(self, finding_id: int, status: str, actor: str, expected_version: int | None) -> None:
        with self.db.tx() as c:
            f = self._apply_status(c, finding_id, status, actor, expected_version=expected_version)
        self._refresh(f["study_id"])

    def _apply_status(self, c, finding_id: int, status: str, actor: str, study_id: int | None = None,
                      expected_version: int | None = None):
        f = self._finding(c, finding_id)
        if study_id is not None and f["study_id"] != study_id:
            raise ReviewError(f"finding {finding_id} is not in study {study_id}")
        if f["status"] != status:  # already so (a retried request): nothing to conflict with
            self._check_version(c, f["study_id"], expected_version)
            findings.set_status(c, finding_id, status)
            action = {"accepted": "accept", "rejected": "reject"}[status]
            self._record(c, f["study_id"], finding_id, action, {"status": f["status"]}, {"status": status}, actor)
        return f

    def accept(self, finding_id: int, actor: str = "", *, expected_version: int | None = None) -> None:
        self._set_status(finding_id, "accepted", actor, expected_version)

    def reject(self, finding_id: int, actor: str = "", *, expected_version: int | None = None) -> None:
        self._set_status(finding_id, "rejected", actor, expected_version)

    def edit(self, finding_id: int, *, label: str | None = None, tooth_fdi: int | None = None,
             surfaces: str | None = None, note: str | None = None, box=None, actor: str = "",
             expected_version: int | None = None) -> None:
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
            self._check_version(c, f["study_id"], expected_version)
            before = {k: f[k] for k in changes} | {"status": f["status"]}
            new_status = "added" if f["status"] == "added" else "edited"
            findings.update(c, finding_id, changes | {"status": new_status})
            self._record(c, f["study_id"], finding_id, "edit", before, changes | {"status": new_status}, actor)
        self._refresh(f["study_id"])

    def add(self, image_id: int, label: str, box, *, tooth_fdi: int | None = None, surfaces: str = "",
            note: str = "", actor: str = "", expected_version: int | None = None) -> int:
        x1, y1, x2, y2 = (float(v) for v in box)
        with self.db.tx() as c:
            study_id = images.study_of(c, image_id)
            if study_id is None:
                raise ReviewError(f"image {image_id} is not part of a study")
            self._editable(c, study_id)
            self._check_version(c, study_id, expected_version)
            fid = findings.add(c, image_id, study_id, label, (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)),
                               tooth_fdi=tooth_fdi, tooth_universal=str(fdi_to_universal(tooth_fdi)) if tooth_fdi else "",
                               surfaces=surfaces.upper(), severity=describe(label).severity, note=note,
                               at=utcnow())
            self._record(c, study_id, fid, "add", {}, {"label": label, "box": [x1, y1, x2, y2]}, actor)
        self._refresh(study_id)
        return fid

    def undo(self, study_id: int, actor: str = "", *, expected_version: int | None = None) -> bool:
        """Revert the latest not-yet-undone action on this study."""
        with self.db.tx() as c:
            self._editable(c, study_id)
            self._check_version(c, study_id, expected_version)
            last = findings.last_undoable(c, study_id)
            if last is None:
                return False
            before = json.loads(last["before"] or "{}")
            if last["action"] == "add":
                findings.withdraw_added(c, last["finding_id"])
            elif before:
                findings.update(c, last["finding_id"], before)
            findings.mark_undone(c, last["id"])
            findings.record_review(c, study_id, last["finding_id"], "undo", actor, last["after"], last["before"],
                                   utcnow(), undone=True)
            studies.bump_version(c, study_id)
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
        accepted = findings.reported_ids(self.db, study_id)
        shown = sorted({r["image_id"] for r in accepted}) or [r["id"] for r in images.of_study(self.db, study_id)]
        codes = summary["cdt"]["imaging"] + summary["cdt"]["treatment"]
        demo = demo_text(self.demonstration_models(study_id))
        note = "\n".join(x for x in (demo, summary["drafts"]["chart_note"].rstrip(), self.automation_addendum(study_id))
                         if x)
        decided = [dict(f) for f in findings.of_study(self.db, study_id) if f["status"] in findings.DECIDED]
        return {"note": note, "codes": codes, "images": shown, **chart_preview(self.db, study_id, self.config),
                "follow_up": follow_up.suggest(decided).as_dict(),
                "findings": [r["id"] for r in accepted], "destinations": self.destinations() or
                ["none configured yet: the signed report stays in Dental AI Bridge"],
                "warnings": self.safety_warnings(study_id, summary)}

    def safety_warnings(self, study_id: int, summary: dict | None = None) -> list[str]:
        """What the signing dentist must see first: identity gaps, incomplete sets, uncertain types."""
        summary = summary or self._refresh(study_id)
        out = []
        s = studies.identity(self.db, study_id)
        if not s["patient_id"]:
            out.append("No patient id on these images: the export cannot find the chart. Check the imaging "
                       "software's patient record before signing.")
        elif not s["birth_date"] or not s["patient_name"]:
            out.append("The images carry no patient name or birth date, so the chart match rests on the "
                       f"{'PatNum' if s['patient_id_kind'] == 'patnum' else 'chart number'} alone.")
        names = images.patient_names(self.db, study_id)
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
        for im in images.type_uncertain(self.db, study_id, UNCERTAIN):
            out.append(f"Image {im['id']}: type uncertain ({im['kind']}? {im['kind_rule']}).")
        sent = automated_record(self.db, study_id)
        if sent is not None:
            out.append(f"{len(sent['findings'])} finding(s) of this study went to the chart automatically on "
                       f"{local_time(sent['at'])}, marked as not yet verified. Any of them you do not accept as sent "
                       "(rejected, edited or left unreviewed) is listed in the signed chart note as a correction.")
        return out

    def automation_addendum(self, study_id: int, sent: dict | None = None, fixes: list | None = None) -> str:
        """What the signed note adds when an unverified automatic export went out before it
        (`sent`/`fixes`: report.automated_record/corrections when the caller has them already)."""
        sent = sent or automated_record(self.db, study_id)
        if sent is None:
            return ""
        lines = [f"This signed report verifies the AI-generated export of {local_time(sent['at'])}."]
        fixes = corrections(self.db, study_id, sent) if fixes is None else fixes
        for f in fixes:
            tooth = f" #{f['tooth_universal']}" if f.get("tooth_universal") else ""
            lines.append(f"- Correction: {f['label'].replace('_', ' ')}{tooth} from that export was {f['change']}.")
        if not fixes:
            lines.append("- All automatically exported findings were confirmed.")
        return "\n".join(lines)

    def sign(self, study_id: int, clinician_id: int, pin: str, *, accept=(), reject=(), via: str = "",
             expected_version: int | None = None, codes: dict | None = None) -> dict:
        """Sign, after accepting/rejecting the given findings. The PIN is checked first; the
        actions, the report snapshot (with the treatment `codes` confirmed, {finding id: code}) and
        the queued exports then commit together or not at all.
        `via`: the hub client (operatory PC) the signature came from, named in its audit entries."""
        if self.silent_pilot:
            raise SignError("the practice runs a silent pilot: nothing is signed or exported until the rollout "
                            "mode is set to assistive (dental-bridge config set governance.rollout assistive)")
        try:
            who = clin.verify(self.db, clinician_id, pin)
        except clin.ClinicianError as exc:
            raise SignError(str(exc)) from exc
        if who["role"] not in clin.SIGNING_ROLES:
            raise SignError(f"{who['name']} is a {who['role']}; only a dentist can sign")
        actor = f"clinician:{who['id']}" + (f" via hub:{via}" if via else "")
        remote = {"via": via} if via else {}
        with self.db.tx() as c:
            try:
                self._editable(c, study_id)  # the first signature wins; a second is told whose it is
                self._check_version(c, study_id, expected_version)
                for fid in sorted(set(accept) - set(reject)):
                    self._apply_status(c, fid, "accepted", actor, study_id)
                for fid in sorted(set(reject)):
                    self._apply_status(c, fid, "rejected", actor, study_id)
                confirmed = confirmed_codes(findings.reported(c, study_id), codes)
            except (AlreadySigned, StaleVersion):
                raise
            except (ReviewError, ValueError) as exc:
                raise SignError(str(exc)) from exc
            summary = self._refresh(study_id, signer=who["name"])  # a savepoint inside this transaction
            rows = findings.reported(c, study_id)
            signed_at = utcnow()
            drafts, supersedes = summary["drafts"], None
            sent = automated_record(self.db, study_id)  # same connection: read inside this transaction
            if sent is not None:
                fixes = corrections(self.db, study_id, sent)
                supersedes = {"automated_sha256": sent["sha256"], "at": sent["at"], "corrections": fixes}
                drafts = dict(drafts, chart_note=drafts["chart_note"].rstrip() + "\n" +
                              self.automation_addendum(study_id, sent, fixes))
            report = build_report(self.db, study_id, rows, label=LABEL, cdt=summary["cdt"], drafts=drafts,
                                  signer=Signer(who["id"], who["name"], who["role"]), signed_at=signed_at,
                                  supersedes=supersedes, catalog=self.catalog, confirmed_codes=confirmed)
            body = report.to_json()
            digest = reports.digest(body)
            outbox.supersede_unsent(c, study_id, utcnow())
            reports.insert_signed(c, study_id, report.signer, signed_at, body, digest)
            studies.mark_signed(c, study_id)
            studies.bump_version(c, study_id)
            images.mark_signed(c, study_id, signed_at)
            # exports are queued in the same transaction as the signature, so none is ever lost
            for dest in self.destinations():
                outbox.queue(c, study_id, dest, signed_at)
            audit.append(c, "signed", f"study:{study_id}", clinician=who["id"], report_sha256=digest,
                         findings=len(rows), destinations=self.destinations(), **remote)
        result = {"study_id": study_id, "signed_by": who["name"], "signed_at": signed_at, "report_sha256": digest,
                  "findings": len(rows)}
        if who.get("pin_weak"):
            result["warning"] = (f"{who['name']}'s PIN is shorter than now required ({clin.pin_rule(who['role'])}); "
                                 f"change it soon: Settings → Clinicians, or dental-bridge clinicians set-pin {who['id']}")
        return result
