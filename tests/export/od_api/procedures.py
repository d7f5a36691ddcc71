"""ProcedureLogs GET (multiple, API 21.1): filters PatNum and AptNum (22.3.32), paged."""

from __future__ import annotations


def list_procedures(server, match, q, data):
    rows = server.state.tables["procedurelogs"]
    for key in ("PatNum", "AptNum"):
        if key in q:
            if not q[key].isdigit():
                return 400, f"{key} is invalid"
            rows = [r for r in rows if int(r.get(key) or 0) == int(q[key])]
    return 200, server._page(rows, q)


ROUTES = [("GET", r"procedurelogs", list_procedures)]
