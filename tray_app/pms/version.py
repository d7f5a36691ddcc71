"""Which Open Dental version answers: some fields and values of the API exist only from a version on.

`GET /preferences?PrefName=ProgramVersion` (Preferences GET, API 21.1, Read All): the preference
table's `ProgramVersion` row holds the version of the program that last updated the database,
e.g. "25.1.14.0" (Open Dental's source compares it with the running program at every start).
"""

from __future__ import annotations

import re

from .client import ODClient, ODError


def program_version(client: ODClient) -> tuple[int, ...] | None:
    """(25, 1, 14, 0), or None when Open Dental does not say (an unreadable answer, a refused read)."""
    try:
        rows = client.request("GET", "preferences", params={"PrefName": "ProgramVersion"})
    except ODError as exc:
        if exc.retry:  # unreachable, timed out: the export retries as a whole
            raise
        return None
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("PrefName") == "ProgramVersion":
            m = re.fullmatch(r"\s*(\d+(?:\.\d+){1,3})\s*", str(row.get("ValueString") or ""))
            return tuple(int(x) for x in m.group(1).split(".")) if m else None
    return None
