"""Findings that contradict what Open Dental charts for the tooth, for the dentist to look at.

A flag is a question, not a correction: the chart may be out of date or the finding wrong.
- work (restoration, crown, root canal filling) or decay on a tooth charted missing or extracted,
  unless an implant is charted there (an implant crown is a crown);
- a missing tooth found where the chart has work in the mouth and no extraction;
- an implant found where the chart has a natural tooth with work (a root canal filling, a
  restoration or crown not on an implant) and no extraction.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..labels import CARIES_LABELS, DENTAL_WORK_LABELS, MISSING_TOOTH, describe
from ..pms.chart import ChartContext, ChartedWork, ToothChart
from ..teeth import fdi_to_universal

# on a tooth that is not there, these findings cannot be right
NEEDS_A_TOOTH = (DENTAL_WORK_LABELS - {"implant"}) | CARIES_LABELS


@dataclass(frozen=True)
class Flag:
    finding_id: int
    tooth: str   # Universal
    label: str
    text: str

    def to_dict(self) -> dict:
        return {"finding_id": self.finding_id, "tooth": self.tooth, "label": self.label, "text": self.text}


def _work(w: ChartedWork) -> str:
    what = describe(w.label).display.lower() if w.label else w.code
    return f"{what} ({w.code}{', ' + w.date if w.date else ''})"


def _check(label: str, tooth: ToothChart) -> str:
    implant = tooth.has("implant")
    if label in NEEDS_A_TOOTH and tooth.missing and not implant:
        return f"Open Dental has #{tooth.tooth} as {tooth.missing}: check this {describe(label).display.lower()}"
    natural_work = [w for w in tooth.existing if w.label and w.label != "implant"]
    if label == MISSING_TOOTH and not tooth.missing and tooth.existing:
        return f"Open Dental charts {_work(tooth.existing[-1])} on #{tooth.tooth} and no extraction"
    if label == "implant" and not implant and not tooth.missing and natural_work:
        return (f"Open Dental charts a natural tooth #{tooth.tooth} with {_work(natural_work[-1])} "
                "and no extraction or implant")
    return ""


def contradictions(findings: list[dict], chart: ChartContext) -> list[Flag]:
    """findings: the study's findings (label, tooth_fdi, status, id); rejected ones are not checked."""
    flags = []
    for f in findings:
        if f.get("status") == "rejected" or not f.get("tooth_fdi"):
            continue
        try:
            universal = str(fdi_to_universal(int(f["tooth_fdi"])))
        except ValueError:
            continue
        tooth = chart.tooth(universal)
        text = _check(f["label"], tooth) if tooth else ""
        if text:
            flags.append(Flag(int(f["id"]), universal, f["label"], text))
    return flags
