"""Recomputes a study's clinical summary: tags, set completeness, priority, codes, drafts.

Everything here is derived from the images and findings, so it can be recomputed at any
time (after each image, after each review action); changes of tags or completeness are
audited.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from typing import Any

from ..store import audit
from ..labels import ANATOMY_LABELS, CARIES_LABELS, DENTAL_WORK_LABELS, PATHOLOGY_LABELS, TOOTH_TREATMENT_LABELS
from ..store import findings as findings_repo
from ..store import images as image_repo
from ..store import priors as priors_repo
from ..store import studies as studies_repo
from ..store.db import Database
from ..teeth import fdi_to_universal
from . import cdt, notes
from .change import summary_of as change_summary
from .change_text import note_paragraph
from .image_type import UNCERTAIN, description_text
from .triage import is_urgent, priority, with_change
from .views import set_status, teeth_of_image, view_of

POST_OP = re.compile(r"\b(post ?op\w*|postoperative|after (rct|endo|extraction|implant)|final|check ?film)\b")


def _bone_measurements(findings: list[dict], images: dict[int, Any]) -> list[dict]:
    out = []
    for f in findings:
        if f["label"] != "bone_loss" or not f.get("tooth_fdi"):
            continue
        im = images[f["image_id"]]
        meta = json.loads(im["meta"] or "{}")
        spacing = (meta.get("pixel_spacing_mm") or [None])[0]
        if im["kind"] == "panoramic" or not spacing:
            out.append({"tooth_fdi": int(f["tooth_fdi"]), "cej_to_crest_mm": None, "rbl": None})
            continue
        d_mm = (f["y2"] - f["y1"]) * spacing
        rbl = None
        tooth = next((t for t in images[f["image_id"]]["_findings"] if t["label"] in ANATOMY_LABELS
                      and t.get("tooth_fdi") == f["tooth_fdi"]), None)
        if tooth is not None and 2 < tooth["y1"] and tooth["y2"] < (im["height"] or 0) - 2:  # apex in view
            root_mm = 0.6 * (tooth["y2"] - tooth["y1"]) * spacing  # the root is ~60% of tooth length
            if root_mm > 4:
                rbl = min(1.0, max(0.0, (d_mm - 2.0) / (root_mm - 2.0)))
        out.append({"tooth_fdi": int(f["tooth_fdi"]), "cej_to_crest_mm": round(d_mm, 1), "rbl": rbl})
    return out


def _treated_before(db: Database, study_id: int, teeth: set[int]) -> bool:
    """Prior history: an earlier study of this patient (within 180 days) had an accepted
    finding needing treatment on a tooth imaged now — this is likely the follow-up film."""
    return studies_repo.earlier_finding_on_teeth(
        db, study_id, sorted(teeth), statuses=findings_repo.DECIDED, days=180,
        labels=tuple(sorted(TOOTH_TREATMENT_LABELS)))


def refresh(db: Database, study_id: int, *, urgent_threshold: float = 2.4, fmx_images: int = 18,
            signer: str = "") -> dict:
    images = image_repo.of_study(db, study_id)
    rows = [dict(r) for r in findings_repo.of_study(db, study_id)]
    live = [f for f in rows if f["status"] not in ("rejected", "withdrawn")]
    accepted = [f for f in rows if f["status"] in findings_repo.DECIDED]
    by_image: dict[int, list[dict]] = {}
    for f in live:
        by_image.setdefault(f["image_id"], []).append(f)
    image_map = {}
    set_input, kinds, regions, teeth_all, uncertain = [], Counter(), [], set(), False
    text = ""
    for im in images:
        meta = json.loads(im["meta"] or "{}")
        fs = by_image.get(im["id"], [])
        image_map[im["id"]] = dict(im) | {"_findings": fs}
        teeth = teeth_of_image(meta, fs)
        teeth_all.update(t for t in teeth if t // 10 <= 8)
        kinds[im["kind"]] += 1
        lat = meta.get("laterality") or ""
        set_input.append((im["kind"], teeth, lat))
        v = view_of(im["kind"], teeth, lat)
        if v:
            regions.append(v.replace("BW", "bitewing").replace("PA ", "periapical ").lower())
        elif im["kind"] == "periapical" and teeth:
            regions.append(f"periapical #{fdi_to_universal(teeth[len(teeth) // 2])}")
        elif im["kind"] in ("panoramic", "cbct", "cephalometric"):
            regions.append({"panoramic": "panoramic full mouth", "cbct": "CBCT", "cephalometric": "cephalometric"}[im["kind"]])
        uncertain |= bool(im["kind_confidence"]) and im["kind_confidence"] < UNCERTAIN
        text += " " + description_text(meta)
    status = set_status(set_input, fmx_images)
    labels = {f["label"] for f in live}
    scored = [(f["label"], f["severity"], f["confidence"]) for f in live]
    comparisons = priors_repo.of_study(db, study_id)
    since = change_summary(comparisons)
    score = with_change(priority(scored), changed=bool(since["since"]), progressing=since["progressing"])
    urgent = is_urgent(scored, urgent_threshold)
    tags = [k for k, _ in kinds.most_common() if k]
    tags += [f"region:{r}" for r in dict.fromkeys(regions)]
    if teeth_all:
        universal = sorted((fdi_to_universal(t) for t in teeth_all), key=lambda u: (isinstance(u, str), str(u).zfill(2)))
        tags.append("teeth:" + " ".join(f"#{u}" for u in universal))
    if POST_OP.search(text) or _treated_before(db, study_id, teeth_all):
        tags.append("post-op")
    if labels & DENTAL_WORK_LABELS:
        tags.append("restoration_present")
    if labels & CARIES_LABELS:
        tags.append("caries_suspected")
    if labels & (PATHOLOGY_LABELS - CARIES_LABELS):
        tags.append("anomaly_detected")
    if uncertain:
        tags.append("type_uncertain")
    if not status.complete:
        tags.append("incomplete")
    if since["since"]:
        tags.append(f"changed since {since['since']}")
    if since["progressing"]:
        tags.append("progressing")
    if urgent:
        tags.append("urgent")
    codes = cdt.imaging_codes(status.protocol, dict(kinds))
    treatment = cdt.treatment_codes(accepted)
    preview = cdt.treatment_codes(live)
    model = ", ".join(dict.fromkeys(f"{f['model_name']} {f['model_version']}" for f in live if f["model_name"])) or "—"
    study_line = f"{status.text or 'study'}: {', '.join(dict.fromkeys(regions)) or 'images'}"
    when = date.today().isoformat()
    kinds_text = ", ".join(sorted(k for k in kinds if k)) or "images"
    clinical = {
        "set": status.as_dict(),
        "since_prior": since,
        "study_line": study_line,
        "cdt": {"imaging": [c.as_dict() for c in codes], "treatment": [c.as_dict() for c in treatment],
                "treatment_from_proposed": [c.as_dict() for c in preview]},
        "drafts": {
            "chart_note": notes.chart_note(accepted if signer else (accepted or live), study_line=study_line,
                                           codes=codes + (treatment if signer else (treatment or preview)),
                                           model=model, signer=signer).rstrip("\n")
                          + ("\n" + note_paragraph(comparisons) + "\n" if comparisons else "\n"),
            "patient_summary": notes.patient_summary(accepted or live),
            "perio_narrative": notes.perio_narrative(_bone_measurements(accepted or live, image_map), when=when,
                                                     image_kinds=kinds_text),
            "crown_narrative": notes.crown_narrative(treatment or preview, accepted or live, when=when),
            "based_on": "accepted findings" if accepted else "proposed findings (not yet reviewed)",
        },
    }
    with db.tx() as c:
        old = studies_repo.summary(c, study_id)
        old_tags = json.loads(old["tags"] or "[]") if old else []
        old_set = json.loads(old["clinical"] or "{}").get("set") if old else None
        new_row = (json.dumps(tags), score, int(urgent), json.dumps(clinical))
        if old is None or tuple(old) != new_row:  # called after every image and review action
            studies_repo.set_summary(c, study_id, *new_row)
        if old_tags != tags or old_set != clinical["set"]:
            audit.append(c, "tags", f"study:{study_id}", tags=tags, set=status.text, complete=status.complete,
                         missing=status.missing, priority=score, urgent=urgent)
    return {"tags": tags, "priority": score, "urgent": urgent, **clinical}
