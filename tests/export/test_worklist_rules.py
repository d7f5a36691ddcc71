"""The worklist's rules on their own: C-FIND value matching, which codes make an imaging
appointment, its settings, the Open Dental reads against the loopback server, doctor."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from od_api.appointments import add_appointment
from od_server import CUST, DEV, FakeOpenDental
from tray_app.clinical.cdt import imaging_modality
from tray_app.config import Config, SourceConfig
from tray_app.pms.client import ODClient
from tray_app.pms.keys import ODKeys
from tray_app.pms.schedule import read_imaging_schedule
from tray_app.settings.export import OpenDentalConfig
from tray_app.settings.worklist import WorklistConfig
from tray_app.store.worklist import RefreshState
from tray_app.worklist.dataset import value_matches
from tray_app.worklist.identity import id_kind
from tray_app.worklist.refresh import freshness


@pytest.mark.parametrize("keyword, query, value, expected", [
    ("PatientName", "doe*", "Doe^Jane", True),
    ("PatientName", "D?e^J*", "Doe^Jane", True),
    ("PatientName", "Smith*", "Doe^Jane", False),
    ("PatientID", "50*", "501", True),
    ("PatientID", "501", "5012", False),
    ("PatientID", "c-501", "C-501", False),  # ids are exact, names are not
    ("Modality", "IO\\PX", "PX", True),
    ("Modality", "DX", "PX", False),
    ("ScheduledProcedureStepStartDate", "20261201", "20261201", True),
    ("ScheduledProcedureStepStartDate", "20261201-20261203", "20261202", True),
    ("ScheduledProcedureStepStartDate", "20261201-20261203", "20261204", False),
    ("ScheduledProcedureStepStartDate", "-20261201", "20261130", True),
    ("ScheduledProcedureStepStartDate", "20261202-", "20261201", False),
    ("ScheduledProcedureStepStartTime", "0800-1000", "093000", True),
    ("ScheduledProcedureStepStartTime", "08:00-10:00", "103000", False),
    ("ScheduledProcedureStepStartTime", "1000-", "103000", True),
    ("AccessionNumber", "", "OD7", True),  # universal matching
    ("AccessionNumber", "*", "OD7", True),
])
def test_c_find_value_matching(keyword, query, value, expected):
    assert value_matches(keyword, query, value) is expected


def test_which_codes_take_an_image():
    assert [imaging_modality(c) for c in ("D0274", "d0330", "D0340", "D0367", "D0708", " D0210 ")] == \
        ["IO", "PX", "DX", "CT", "IO", "IO"]
    assert [imaging_modality(c) for c in ("D1110", "D0350", "D0391", "D0120", "", "D0703")] == [""] * 6


def test_settings_are_checked_only_when_the_worklist_is_on():
    assert WorklistConfig(enabled=False, ae_title="", port=0, refresh_seconds=1).validate() == []
    errors = WorklistConfig(enabled=True, ae_title="A\\B", port=0, bind_address="pc1", days_ahead=30,
                            refresh_seconds=5, allowed_calling_aes=["x" * 17]).validate()
    assert len(errors) == 6
    for words in ("ae_title", "backslash", "worklist.port", "IP address", "days_ahead", "refresh_seconds", "1 to 16"):
        assert words in " ".join(errors)
    cfg = Config()
    cfg.set_value("worklist.enabled", "true")
    cfg.set_value("worklist.allowed_calling_aes", "SENSOR1, PANO")
    assert cfg.worklist.enabled and cfg.worklist.allowed_calling_aes == ["SENSOR1", "PANO"]
    from tray_app.guarded_settings import changed_guarded

    opened = Config(worklist=WorklistConfig(enabled=True, bind_address="0.0.0.0"))
    assert changed_guarded(cfg, opened) == ["worklist.bind_address"]  # the network sees patients' names


def test_the_patient_id_follows_the_watch_folders():
    assert id_kind(Config()) == ("chartnumber", "")  # nothing set up: the folders' default meaning
    assert id_kind(Config(sources=[SourceConfig(path="x", patient_id="patnum")])) == ("patnum", "")
    mixed = Config(sources=[SourceConfig(path="x", patient_id="patnum"), SourceConfig(path="y")])
    kind, problem = id_kind(mixed)
    assert kind == "" and "disagree" in problem


def test_freshness_says_how_old_the_copy_is():
    cfg = Config(worklist=WorklistConfig(refresh_seconds=300))
    now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    today = date(2026, 12, 1)
    read = (now - timedelta(minutes=7)).isoformat()
    fresh = freshness(RefreshState(read, "2026-12-01", "2026-12-01", read), cfg, now=now, today=today)
    assert not fresh.stale and fresh.sentence == "" and "7 min ago" in fresh.detail
    failed = freshness(RefreshState(read, "2026-12-01", "2026-12-01", now.isoformat(), "unreachable"), cfg, now=now,
                       today=today)
    assert failed.stale and failed.sentence == "Worklist: Open Dental not reachable, schedule 7 min old"
    old = (now - timedelta(minutes=90)).isoformat()
    assert freshness(RefreshState(old, "2026-12-01", "2026-12-01", old), cfg, now=now, today=today).stale
    yesterday = freshness(RefreshState(read, "2026-11-30", "2026-11-30", read), cfg, now=now, today=today)
    assert yesterday.stale and "today" in yesterday.sentence
    assert freshness(RefreshState(), cfg, now=now, today=today).stale


def test_the_schedule_is_read_with_the_documented_parameters_and_pages():
    server = FakeOpenDental().start()
    try:
        server.add_patient(9, "Doe", "Jane", "1980-01-02", "C-9")
        day = date(2026, 12, 1)
        for n in range(120):  # more than a page; only the last one is an imaging appointment
            apt = add_appointment(server, 9, f"{day} 08:{n % 60:02d}:00")
            server.add_procedure(9, "D1110", "TP", apt_num=apt["AptNum"])
        pano = add_appointment(server, 9, f"{day} 17:00:00")
        server.add_procedure(9, "D0330", "TP", apt_num=pano["AptNum"])
        add_appointment(server, 9, f"{day + timedelta(days=1)} 09:00:00")  # outside the window
        with ODClient(OpenDentalConfig(base_url=server.url), ODKeys(DEV, CUST)) as client:
            visits, skipped = read_imaging_schedule(client, day, day, imaging_modality)
        assert [(v.apt_num, v.procedures[0][:2], v.chart_number) for v in visits] == \
            [(pano["AptNum"], ("PX", "D0330"), "C-9")] and skipped == 0
        first = [r for r in server.state.requests if r["path"] == "/appointments"]
        assert [r["query"] for r in first] == [{"dateStart": "2026-12-01", "dateEnd": "2026-12-01"},
                                               {"dateStart": "2026-12-01", "dateEnd": "2026-12-01", "Offset": "100"}]
        assert {r["path"] for r in server.state.requests} == {"/appointments", "/procedurelogs", "/patients/9",
                                                              "/providers"}
        # the loopback server refuses what Open Dental refuses
        status, _ = server.handle("GET", "/api/v1/appointments?dateStart=12/01/2026",
                                  {"Authorization": f"ODFHIR {DEV}/{CUST}", "Content-Type": "application/json"}, b"")
        assert status == 400
    finally:
        server.stop()


def test_doctor_on_a_healthy_worklist(home, od_keys, tmp_path):
    from tray_app.app import Service
    from tray_app.commands.doctor import CHECKS
    from tray_app.doctor import Context, run
    from tray_app.config import Paths
    from service_helpers import wait_for
    from .pacs import free_port

    server = FakeOpenDental().start()
    port = free_port()
    cfg = Config(sources=[SourceConfig(path=str(tmp_path), patient_id="patnum")],
                 worklist=WorklistConfig(enabled=True, port=port))
    cfg.export.opendental = OpenDentalConfig(base_url=server.url, timeout=3.0, connect_timeout=0.5)
    svc = Service(cfg, Paths.resolve().ensure())
    svc.start()
    try:
        wait_for(lambda: svc.worklist.refresher.reads >= 1, 30, message="the first read")
        checks = {c.name: c for c in run(CHECKS, Context(cfg, Paths.resolve()))}
        assert checks["worklist port"].ok and "answers C-ECHO" in checks["worklist port"].message
        assert checks["worklist patient id"].ok and "PatNum" in checks["worklist patient id"].message
        assert checks["worklist schedule"].ok
        assert checks["worklist cache"].ok and "0 imaging item(s) today" in checks["worklist cache"].message
    finally:
        svc.stop()
        server.stop()
