"""Triage priority: what the dentist should look at first.

priority = max(severity × confidence) over a study's findings + 0.1 × the rest, so one
periapical radiolucency outranks many calculus spurs; a change since the prior image adds to it
(more when something progresses: a lesion grew, bone receded); `urgent` when the single most severe
finding reaches the configured threshold (the tray raises an alert).
"""

from __future__ import annotations

from typing import Iterable

from ..labels import ANATOMY_LABELS, describe


def _scores(findings: Iterable[tuple[str, int, float]]) -> list[float]:
    # a severity of 0 stored with a finding: the manifest gave none, so the product's applies
    return sorted(((sev or describe(label).severity) * conf
                   for label, sev, conf in findings if label not in ANATOMY_LABELS), reverse=True)


def priority(findings: Iterable[tuple[str, int, float]]) -> float:
    """findings: (label, severity, confidence) of proposed or accepted findings."""
    scores = _scores(findings)
    if not scores:
        return 0.0
    return round(scores[0] + 0.1 * sum(scores[1:]), 3)


CHANGED_WEIGHT = 0.3        # something new or gone since the prior image
PROGRESSING_WEIGHT = 0.8    # a lesion grew or bone receded: above most single moderate findings


def with_change(score: float, *, changed: bool, progressing: bool) -> float:
    return round(score + (PROGRESSING_WEIGHT if progressing else CHANGED_WEIGHT if changed else 0.0), 3)


def is_urgent(findings: Iterable[tuple[str, int, float]], threshold: float) -> bool:
    """Urgent when one finding alone is severe and confident enough (e.g. a periapical
    radiolucency at ≥ 80 %) — many small findings make a study busier, not urgent."""
    scores = _scores(findings)
    return bool(scores) and scores[0] >= threshold
