"""A patient's procedure log in Open Dental, as typed rows.

`GET /procedurelogs?PatNum=` (API 21.1, Read All). ProcStatus: TP treatment plan, C complete,
EC/EO existing (current / other provider), R referred out, D deleted, Cn condition, TPi inactive
plan. ToothNum is Universal ("1".."32", "A".."T"); Surf letters M O D B L I F V.
"""

from __future__ import annotations

from dataclasses import dataclass

from .client import ODClient

STATUSES = ("TP", "C", "EC", "EO", "R", "D", "Cn", "TPi")
EXISTING = ("C", "EC", "EO")  # work that is in the mouth now
PLANNED = ("TP",)


@dataclass(frozen=True)
class ProcedureLog:
    proc_num: int
    pat_num: int
    code: str  # the CDT code, e.g. "D2391"
    status: str
    tooth: str = ""  # Universal; "" for a mouth or quadrant procedure
    surfaces: str = ""
    date: str = ""  # yyyy-MM-dd
    description: str = ""
    apt_num: int = 0

    @classmethod
    def from_row(cls, row: dict) -> "ProcedureLog":
        return cls(proc_num=_int(row.get("ProcNum")), pat_num=_int(row.get("PatNum")),
                   code=str(row.get("procCode") or "").strip(), status=str(row.get("ProcStatus") or "").strip(),
                   tooth=str(row.get("ToothNum") or "").strip(), surfaces=str(row.get("Surf") or "").strip(),
                   date=str(row.get("ProcDate") or "")[:10], description=str(row.get("descript") or ""),
                   apt_num=_int(row.get("AptNum")))

    @property
    def deleted(self) -> bool:
        return self.status == "D"


def _int(value) -> int:
    # the documentation shows AptNum both as 0 and as "0"
    try:
        return int(str(value or 0).strip() or 0)
    except ValueError:
        return 0


def procedure_logs(client: ODClient, pat_num: int, *, include_deleted: bool = False) -> list[ProcedureLog]:
    rows = [ProcedureLog.from_row(r) for r in client.get_all("procedurelogs", {"PatNum": int(pat_num)})
            if isinstance(r, dict)]
    return rows if include_deleted else [r for r in rows if not r.deleted]
