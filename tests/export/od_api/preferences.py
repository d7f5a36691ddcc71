"""Preferences GET (API 21.1, Read All): `GET /preferences?PrefName=` → [{PrefNum, PrefName, ValueString}].

The stand-in holds one preference, `ProgramVersion` (default a 25.3 office); a test sets an older
one by replacing `server.state.tables["preferences"]`.
"""

from __future__ import annotations

DEFAULT = "25.3.20.0"


def _rows(server) -> list[dict]:
    rows = server.state.tables["preferences"]
    if not rows:
        rows.append({"PrefNum": 1, "PrefName": "ProgramVersion", "ValueString": DEFAULT})
    return rows


def list_preferences(server, match, q, data):
    rows = _rows(server)
    if "PrefName" in q:
        rows = [r for r in rows if r["PrefName"] == q["PrefName"]]
    return 200, server._page(rows, q)


ROUTES = [("GET", r"preferences", list_preferences)]
