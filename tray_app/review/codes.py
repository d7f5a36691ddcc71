"""Treatment codes the signing dentist confirms: what the sign-off offers and what it freezes.

A CDT suggestion is only a suggestion (clinical/cdt.py). At sign-off the dentist ticks, or
changes, the code of each accepted pathology finding on a tooth; only those confirmed codes go
into the signed report (`Report.confirmed_codes`) and only they may become treatment-planned
procedures in the practice system. A finding whose code nobody confirmed is never charted.
"""

from __future__ import annotations

from ..clinical import cdt
from ..store import findings
from ..store.db import Database


def chart_preview(db: Database, study_id: int, config) -> dict:
    """What the sign-off shows of the chart: `confirm`, the accepted pathology findings on a tooth,
    each with its suggested code (maybe ""); `plans_treatment`, whether confirmed codes become
    planned procedures in Open Dental; `existing`, the accepted existing work it charts there."""
    rows = [dict(r) for r in findings.reported(db.conn(), study_id)]
    suggested = cdt.finding_codes(rows)
    od = config.export.opendental
    to_od = "opendental" in config.export.destinations
    return {"confirm": [{"finding_id": r["id"], "label": r["label"], "tooth_universal": r["tooth_universal"] or "",
                         "surfaces": r["surfaces"] or "", "code": suggested[r["id"]].code,
                         "reason": suggested[r["id"]].reason} for r in rows if r["id"] in suggested],
            "plans_treatment": to_od and od.write_treatment_plan,
            "existing": [e for r in rows if to_od and od.write_existing_conditions for e in _existing(r)]}


def _existing(r: dict) -> list[dict]:
    """Accepted existing work as Open Dental charts it (export/od_procedures.py), or nothing."""
    code = cdt.existing_code(r["label"], int(r["tooth_fdi"]), r["surfaces"] or "") if r["tooth_fdi"] else ""
    if not code or (cdt.takes_surfaces(code) and not r["surfaces"]):
        return []
    return [{"finding_id": r["id"], "label": r["label"], "tooth_universal": r["tooth_universal"], "code": code}]


def confirmed(rows, codes: dict | None) -> list[dict] | None:
    """`codes` ({finding id: code}) checked against the findings the report carries; the frozen list,
    or None when nothing was confirmed. Raises ValueError with a sentence for the dentist."""
    if not codes:
        return None
    by_id = {r["id"]: dict(r) for r in rows}
    offered = cdt.finding_codes(by_id.values())
    out = []
    for fid, code in sorted((int(k), str(v or "").strip().upper()) for k, v in codes.items()):
        if fid not in offered:
            raise ValueError(f"finding {fid} is not an accepted finding on a tooth that takes a treatment code")
        if not cdt.CODE.match(code):
            raise ValueError(f"{code or 'an empty code'} (finding {fid}, #{by_id[fid]['tooth_universal']}) is not "
                             "a CDT code: a D and four digits, e.g. D2392")
        if cdt.takes_surfaces(code) and not by_id[fid]["surfaces"]:
            raise ValueError(f"{code} is charted by surface, but finding {fid} on #{by_id[fid]['tooth_universal']} has "
                             "no surfaces: set them (Edit) or confirm another code")
        out.append({"finding_id": fid, "code": code})
    return out or None
