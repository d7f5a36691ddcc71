"""Reads from Open Dental shared by review and export (tray_app.pms), against the loopback server."""

from __future__ import annotations

from tray_app.pms.client import ODClient
from tray_app.pms.keys import ODKeys
from tray_app.pms.procedures import procedure_logs
from tray_app.settings.export import OpenDentalConfig

from .od_server import CUST, DEV


def test_a_patients_procedure_log_is_read_in_pages_without_deleted_rows(od_server):
    od_server.add_patient(7, "Smith", "Ann", "1980-02-03")
    od_server.add_patient(8, "Other", "Bob", "1970-01-01")
    for n in range(130):  # more than one page of 100
        od_server.add_procedure(7, "D1110", "C", date="2024-01-01")
    od_server.add_procedure(7, "D2740", "EO", tooth="3")
    od_server.add_procedure(7, "D2391", "D", tooth="19", surf="MO")
    od_server.add_procedure(8, "D2740", "C", tooth="14")
    settings = OpenDentalConfig(base_url=od_server.url)
    with ODClient(settings, ODKeys(DEV, CUST)) as client:
        rows = procedure_logs(client, 7)
    assert len(rows) == 131
    crown = [r for r in rows if r.code == "D2740"]
    assert [(c.tooth, c.status, c.pat_num) for c in crown] == [("3", "EO", 7)]
    assert not any(r.status == "D" for r in rows)
    assert [r["query"].get("Offset") for r in od_server.state.requests if r["path"] == "/procedurelogs"] == [None, "100"]
