"""The follow-up visit a signed study suggests: its type and codes, for the front desk to schedule.

From the dentist's accepted findings only, most pressing first:

- emergency   — a periapical radiolucency or deep caries: a problem-focused evaluation (D0140) soon;
- restorative — caries or a failing margin: the restorations cdt.py suggests (D23xx, D27xx);
- perio       — radiographic bone loss: scaling and root planing (D4341/D4342, cdt.py) after charting;
- recall      — nothing to treat: the routine recall (periodic evaluation D0120).

One visit type (the most pressing); its codes are every treatment code cdt.py suggests for the
accepted findings, so the front desk books enough chair time. Every code is a suggestion for the
dentist to confirm (cdt.CONFIRM); nothing here books an appointment.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..labels import PATHOLOGY_LABELS, TOOTH_TREATMENT_LABELS, describe
from ..teeth import fdi_to_universal
from . import cdt

# from labels.py, the one owner: the most severe pathology (deep caries, periapical radiolucency) is seen
# soon; the rest treated on the tooth itself (caries, a failing margin) is restorative
EMERGENCY_LABELS = frozenset(name for name in PATHOLOGY_LABELS if describe(name).severity >= 3)
RESTORATIVE_LABELS = TOOTH_TREATMENT_LABELS - EMERGENCY_LABELS

# the visit's own examination code, before any treatment code
VISIT_CODES = {"emergency": "D0140", "recall": "D0120"}
WHY = {"emergency": "to be seen soon", "restorative": "restorative treatment", "perio": "periodontal treatment",
       "recall": "routine recall; nothing to treat on these images"}


@dataclass(frozen=True)
class FollowUp:
    visit: str                          # emergency | restorative | perio | recall
    codes: tuple[str, ...]              # "D2391 #19", "D0140"
    reasons: tuple[str, ...]
    confirmed: bool = False             # the treatment codes are the ones the signing dentist confirmed

    def as_dict(self) -> dict:
        return {"visit": self.visit, "codes": list(self.codes), "reasons": list(self.reasons), "status": self.status,
                "text": self.text()}

    @property
    def status(self) -> str:
        return "treatment codes confirmed by the dentist" if self.confirmed else cdt.CONFIRM

    def text(self) -> str:
        """"Suggested follow-up: restorative visit (restorative treatment) — D2391 #19, D2740 #3 (suggested,
        dentist to confirm)." """
        codes = f" — {', '.join(self.codes)}" if self.codes else ""
        return f"Suggested follow-up: {self.visit} visit ({WHY[self.visit]}){codes} ({self.status})."


def suggest(accepted: list[dict], confirmed: list[dict] | None = None) -> FollowUp:
    """accepted: the dentist's accepted/edited/added findings (id, label, tooth_fdi, surfaces);
    confirmed: after sign-off, the codes the dentist confirmed ([{finding_id, code}]), which then
    replace the suggestions."""
    labels = {f["label"] for f in accepted}
    if labels & EMERGENCY_LABELS:
        visit = "emergency"
    elif labels & RESTORATIVE_LABELS:
        visit = "restorative"
    elif "bone_loss" in labels:  # cdt.py's scaling and root planing
        visit = "perio"
    else:
        visit = "recall"
    treatment = cdt.treatment_codes(accepted)
    planned = [f"{s.code} #{'/'.join(s.teeth)}" if s.teeth else s.code for s in treatment if s.code]
    if confirmed:
        teeth = {f.get("id"): f.get("tooth_fdi") for f in accepted}
        planned = [f"{c['code']} #{fdi_to_universal(int(teeth[c['finding_id']]))}" if teeth.get(c["finding_id"])
                   else c["code"] for c in confirmed]
    codes = ([VISIT_CODES[visit]] if visit in VISIT_CODES else []) + planned
    return FollowUp(visit, tuple(dict.fromkeys(codes)), tuple(s.reason for s in treatment), bool(confirmed))
