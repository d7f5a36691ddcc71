"""Providers GET (multiple, API 21.1; ClinicNum, DateTStamp 21.3) and GET single (24.4.17), as on
https://opendental.com/site/apiproviders.html. Rows live in `server.state.tables["providers"]`."""

from __future__ import annotations


def add_provider(server, prov_num: int, abbr: str, last: str, first: str) -> dict:
    row = {"ProvNum": prov_num, "Abbr": abbr, "LName": last, "FName": first, "MI": "", "Suffix": "",
           "IsSecondary": "false", "IsHidden": "false", "ProvStatus": "Active", "IsNotPerson": "false",
           "DateTStamp": "2026-01-01 08:00:00"}
    server.state.tables["providers"].append(row)
    return row


def list_providers(server, match, q, data):
    rows = server.state.tables["providers"]
    if "ClinicNum" in q and not q["ClinicNum"].isdigit():
        return 400, "ClinicNum is invalid"
    return 200, server._page(rows, q)


def one_provider(server, match, q, data):
    found = [r for r in server.state.tables["providers"] if r["ProvNum"] == int(match.group(1))]
    return (200, found[0]) if found else (404, "Provider not found")


ROUTES = [("GET", r"providers", list_providers), ("GET", r"providers/(\d+)", one_provider)]
