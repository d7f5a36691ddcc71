"""What a silent pilot shows: studies without their AI findings (recorded for the later comparison,
never shown to the people reviewing)."""

from __future__ import annotations

REASON = "silent pilot: AI findings are recorded but not shown"


def hide_findings(studies: list[dict]) -> list[dict]:
    for s in studies:
        for im in s["images"]:
            im["findings"] = []
        s["findings_count"] = 0
        s["findings_hidden"] = REASON
    return studies
