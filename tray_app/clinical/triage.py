"""Triage priority: what the dentist should look at first.

priority = max(severity × confidence) over a study's findings + 0.1 × the rest, so one
periapical radiolucency outranks many calculus spurs; `urgent` when it reaches the
configured threshold (the tray raises an alert).
"""

from __future__ import annotations

from typing import Iterable

from ..analysis.tooth_mapping import ANATOMY_LABELS

# used when a model's manifest gives no severity for a label
DEFAULT_SEVERITY = {"periapical_radiolucency": 3, "deep_caries": 3, "caries": 2, "bone_loss": 2,
                    "calculus": 1, "margin_discrepancy": 2}


def priority(findings: Iterable[tuple[str, int, float]]) -> float:
    """findings: (label, severity, confidence) of proposed or accepted findings."""
    scores = sorted(((sev or DEFAULT_SEVERITY.get(label, 0)) * conf
                     for label, sev, conf in findings if label not in ANATOMY_LABELS), reverse=True)
    if not scores:
        return 0.0
    return round(scores[0] + 0.1 * sum(scores[1:]), 3)
