"""`dental-bridge pilot report`: how the AI's silent-pilot findings compare with what the
clinicians recorded — their review decisions, or a CSV exported from the chart.

From reviews: a model finding accepted or edited counts as agreed (TP), rejected as a false
alarm (FP), and a finding the clinician added as a miss (FN); unreviewed findings are left
out. From a chart CSV (columns patient_id, tooth, label; tooth in Universal numbering):
findings and chart entries are compared per patient, tooth and label.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from .labels import ANATOMY_LABELS
from .store import findings
from .store.db import Database


def _rates(tp: int, fp: int, fn: int) -> dict:
    return {"tp": tp, "fp": fp, "fn": fn,
            "sensitivity": tp / (tp + fn) if tp + fn else None,
            "ppv": tp / (tp + fp) if tp + fp else None,
            "agreement": tp / (tp + fp + fn) if tp + fp + fn else None}


def from_reviews(db: Database) -> dict:
    tp, fp, fn = Counter(), Counter(), Counter()
    unreviewed = 0
    for f in findings.review_outcomes(db):
        if f["label"] in ANATOMY_LABELS:
            continue
        if f["source"] == "clinician":
            fn[f["label"]] += 1
        elif f["status"] in ("accepted", "edited"):
            tp[f["label"]] += 1
        elif f["status"] == "rejected":
            fp[f["label"]] += 1
        else:
            unreviewed += 1
    labels = sorted(set(tp) | set(fp) | set(fn))
    return {"source": "clinician review", "labels": {l: _rates(tp[l], fp[l], fn[l]) for l in labels},
            "total": _rates(sum(tp.values()), sum(fp.values()), sum(fn.values())), "unreviewed": unreviewed}


def from_chart_csv(db: Database, path: Path) -> dict:
    chart: set[tuple[str, str, str]] = set()
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"patient_id", "tooth", "label"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: the CSV needs columns patient_id, tooth, label (missing {', '.join(sorted(missing))})")
        for row in reader:
            chart.add((row["patient_id"].strip().upper(), row["tooth"].strip().lstrip("#").upper(),
                       row["label"].strip().lower()))
    patients = {p for p, _, _ in chart}
    model: set[tuple[str, str, str]] = set()
    unplaced = 0
    for f in findings.model_findings_with_patient(db):
        pid = (f["patient_id"] or "").upper()
        if pid not in patients or f["label"] in ANATOMY_LABELS:
            continue
        if not f["tooth_universal"]:
            unplaced += 1
            continue
        model.add((pid, f["tooth_universal"].upper(), f["label"]))
    labels = sorted({l for _, _, l in chart | model})
    result = {}
    for l in labels:
        m = {k for k in model if k[2] == l}
        c = {k for k in chart if k[2] == l}
        result[l] = _rates(len(m & c), len(m - c), len(c - m))
    return {"source": f"chart CSV {path.name}", "labels": result,
            "total": _rates(len(model & chart), len(model - chart), len(chart - model)),
            "unplaced_findings": unplaced, "patients": len(patients)}


def format_report(r: dict) -> str:
    def pct(v):
        return "   -" if v is None else f"{v:.0%}"

    lines = [f"Silent-pilot comparison against {r['source']}", "",
             f"{'label':<26}{'TP':>5}{'FP':>5}{'FN':>5}{'sens.':>8}{'PPV':>7}{'agree':>7}"]
    for label, x in list(r["labels"].items()) + [("all labels", r["total"])]:
        lines.append(f"{label:<26}{x['tp']:>5}{x['fp']:>5}{x['fn']:>5}{pct(x['sensitivity']):>8}"
                     f"{pct(x['ppv']):>7}{pct(x['agreement']):>7}")
    if r.get("unreviewed"):
        lines.append(f"\n{r['unreviewed']} finding(s) not reviewed yet are left out.")
    if r.get("unplaced_findings"):
        lines.append(f"\n{r['unplaced_findings']} finding(s) without a tooth number could not be compared.")
    return "\n".join(lines)
