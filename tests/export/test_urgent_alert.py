"""The urgent alert at analysis (issue 19 item 4a): the real service analyses an urgent study and
tells the dentist once — an Open Dental task on the patient (loopback server, documented Tasks
contract) and the tray's text — however many images the study has, across a restart, and
through Open Dental being down or answering 500 after writing."""

from __future__ import annotations

import pytest

from model_factory import write_model, yolo_output
from samples import write_dicom
from service_helpers import fast_config, home_paths, wait_for
from tray_app.app import Service
from tray_app.review.api import ReviewAPI
from tray_app.export.urgent_alert import alert_text
from tray_app.store import alerts

from .conftest import od_config

TASK_LIST, USER = 74, 3


def urgent_model(directory, *, demonstration: bool = False):
    """A periapical radiolucency (severity 3) at 0.9 on every image: 2.7 ≥ the 2.4 urgent threshold."""
    const = yolo_output(4, 336, [(3, 30, 30, 10, 10, 0.9)])
    extra = {"intended_use": "demonstration only, not for clinical use"} if demonstration else {}
    return write_model(directory, const, ["tooth", "caries", "restoration", "periapical_radiolucency"],
                       size=(64, 64), **extra)


@pytest.fixture
def alert_home(tmp_path, monkeypatch, od_keys):
    h = tmp_path / "home"
    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(h))
    return h


def config_for(export_dir, od_server, **next_steps):
    cfg = fast_config(export_dir)
    cfg.sources[0].patient_id = "patnum"
    cfg.export = od_config(od_server)
    ns = cfg.export.opendental.next_steps
    ns.task_list_num, ns.user_num = TASK_LIST, USER
    for key, value in next_steps.items():
        setattr(ns, key, value)
    return cfg


@pytest.fixture
def task_server(od_server):
    od_server.state.tables["tasklists"].append({"TaskListNum": TASK_LIST})
    return od_server


def tasks(server):
    return list(server.state.tables["tasks"])


def fmx(folder, n, *, start=0, study="1.2.840.99.77"):
    for i in range(start, start + n):
        write_dicom(folder / f"fmx{i}.dcm", seed=40 + i, patient_id="1001", study_uid=study)


def run_service(config):
    svc = Service(config, home_paths())
    svc.start()
    return svc


def test_an_urgent_fmx_alerts_once_and_not_again_after_a_restart(alert_home, export_dir, task_server):
    urgent_model(alert_home / "models" / "urgent")
    fmx(export_dir, 4)
    svc = run_service(config_for(export_dir, task_server))
    try:
        wait_for(lambda: svc.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 4, 60,
                 message="four analysed images")
        wait_for(lambda: tasks(task_server), 30, message="the alert task")
        row = wait_for(lambda: (r := alerts.of_study(svc.db, 1)) and r["state"] == "done" and r, 30,
                       message="the alert done")
        # the hub's queue carries the text to the clients' trays
        assert ReviewAPI(svc.db).queue()[0]["alert"] == row["text"]
    finally:
        svc.stop()
    (task,) = tasks(task_server)
    assert (task["KeyNum"], task["ObjectType"], task["TaskListNum"], task["UserNum"]) == (1001, "Patient",
                                                                                          TASK_LIST, USER)
    assert "AI flagged possible periapical radiolucency" in task["Descript"]
    assert "not yet reviewed by a dentist" in task["Descript"]
    assert row["marker"] in task["Descript"] and str(row["remote_id"]) == str(task["TaskNum"])
    assert "Doe" not in task["Descript"] and "Jane" not in task["Descript"]  # the task sits on the patient
    assert "DEMONSTRATION" not in task["Descript"]

    # a restart, and one more image of the same study: no second alert
    fmx(export_dir, 1, start=4)
    svc = run_service(config_for(export_dir, task_server))
    try:
        wait_for(lambda: svc.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 5, 60,
                 message="the fifth image analysed")
        svc.alert_sender.wake()
        wait_for(lambda: svc.alert_sender.passes >= 2, 10, message="the sender to look again")
    finally:
        svc.stop()
    assert len(tasks(task_server)) == 1
    assert [r["method"] for r in task_server.writes() if r["path"] == "/tasks"] == ["POST"]


def test_open_dental_down_then_back_writes_the_alert_once(alert_home, export_dir, task_server):
    urgent_model(alert_home / "models" / "urgent")
    for _ in range(3):
        task_server.fail("reset", "POST /tasks")  # the connection drops: nobody knows whether it was written
    task_server.fail("500_after", "POST /tasks")  # written, then a 500: found by its marker, not written again
    fmx(export_dir, 2)
    svc = run_service(config_for(export_dir, task_server))
    try:
        row = wait_for(lambda: (r := alerts.of_study(svc.db, 1)) and r["state"] == "done" and r, 90,
                       message="the alert written after the failures")
    finally:
        svc.stop()
    assert len(tasks(task_server)) == 1
    assert row["attempts"] == 5 and row["reason"] == "found by marker; not written again"
    searches = [r for r in task_server.state.requests if r["method"] == "GET" and r["path"] == "/tasks"]
    assert searches and all(r["query"]["KeyNum"] == "1001" and r["query"]["ObjectType"] == "Patient"
                            for r in searches)


def test_a_demonstration_model_says_so_and_reaches_open_dental_only_when_allowed(alert_home, export_dir,
                                                                                  task_server):
    urgent_model(alert_home / "models" / "urgent", demonstration=True)
    fmx(export_dir, 1)
    cfg = config_for(export_dir, task_server)
    svc = run_service(cfg)
    try:
        row = wait_for(lambda: alerts.of_study(svc.db, 1), 60, message="the alert recorded")
    finally:
        svc.stop()
    assert row["state"] == "not_sent" and "demonstration model" in row["reason"]
    assert row["text"].startswith("DEMONSTRATION MODEL — not for clinical use")
    assert "not yet reviewed by a dentist" in row["text"]
    assert tasks(task_server) == []

    fmx(export_dir, 1, start=1, study="1.2.840.99.78")
    cfg.export.allow_demonstration_model = True
    svc = run_service(cfg)
    try:
        wait_for(lambda: tasks(task_server), 60, message="the demonstration alert task")
    finally:
        svc.stop()
    (task,) = tasks(task_server)
    assert task["Descript"].startswith("Dental AI Bridge: DEMONSTRATION MODEL — not for clinical use")


def test_popup_when_chosen_and_tray_only_without_a_task_list(alert_home, export_dir, task_server):
    urgent_model(alert_home / "models" / "urgent")
    fmx(export_dir, 1)
    svc = run_service(config_for(export_dir, task_server, alert_via="popup"))
    try:
        wait_for(lambda: task_server.state.popups, 60, message="the popup")
    finally:
        svc.stop()
    (popup,) = task_server.state.popups
    assert popup["PatNum"] == 1001 and "not yet reviewed by a dentist" in popup["Description"]

    fmx(export_dir, 1, start=1, study="1.2.840.99.78")
    svc = run_service(config_for(export_dir, task_server, task_list_num=0, user_num=0))
    try:
        row = wait_for(lambda: alerts.of_study(svc.db, 2), 60, message="the second study's alert")
    finally:
        svc.stop()
    assert (row["via"], row["state"]) == ("none", "not_sent") and "task list" in row["reason"]
    assert tasks(task_server) == [] and len(task_server.state.popups) == 1


def test_alert_text_names_finding_and_tooth_only():
    findings = [{"label": "periapical_radiolucency", "severity": 3, "confidence": 0.9, "tooth_universal": "19",
                 "status": "proposed"},
                {"label": "caries", "severity": 2, "confidence": 0.95, "tooth_universal": "30", "status": "proposed"},
                {"label": "deep_caries", "severity": 3, "confidence": 0.99, "tooth_universal": "3",
                 "status": "rejected"}]
    assert alert_text(findings, 2.4) == ("AI flagged possible periapical radiolucency on #19 — not yet reviewed "
                                         "by a dentist.")
    demo = alert_text(findings, 2.4, ["demo-yolo 0.1"])
    assert demo.startswith("DEMONSTRATION MODEL — not for clinical use (demo-yolo 0.1)")


def test_a_crash_after_the_write_is_found_by_marker_not_written_again(alert_home, export_dir, task_server,
                                                                     monkeypatch):
    from tray_app.export.urgent_alert import UrgentAlerts

    from .conftest import FakeClock

    urgent_model(alert_home / "models" / "urgent")
    fmx(export_dir, 1)
    cfg = config_for(export_dir, task_server)
    svc = Service(cfg, home_paths())
    svc.run_once()  # analysed and the alert recorded; no sender thread runs here
    assert alerts.of_study(svc.db, 1)["state"] == "queued"
    clock = FakeClock()

    class Crash(Exception):
        pass

    real_finish = alerts.finish

    def crash_once(c, alert_id, state, *a, **kw):
        if state == "done":
            monkeypatch.setattr(alerts, "finish", real_finish)
            raise Crash("the process died after Open Dental answered, before our commit")
        return real_finish(c, alert_id, state, *a, **kw)

    monkeypatch.setattr(alerts, "finish", crash_once)
    with pytest.raises(Crash):
        UrgentAlerts(svc.db, cfg, lambda s: [], clock=clock).drain_once()
    assert len(tasks(task_server)) == 1 and alerts.of_study(svc.db, 1)["state"] == "sending"
    restarted = UrgentAlerts(svc.db, cfg, lambda s: [], clock=clock)
    assert restarted.drain_once() == []  # its lease holds it while the dead sender might still be writing
    clock.advance(cfg.export.retry.lease_seconds + 1)
    [result] = restarted.drain_once()
    assert result["state"] == "done" and result["reason"] == "found by marker; not written again"
    assert len(tasks(task_server)) == 1
    svc.db.close()


def test_doctor_says_where_alerts_go_and_which_need_attention(alert_home, export_dir, task_server):
    from tray_app.doctor import Context, run
    from tray_app.export.next_steps_doctor import CHECKS

    cfg = config_for(export_dir, task_server, task_list_num=0, user_num=0)
    (line,) = run(CHECKS, Context(cfg, home_paths()))
    assert line.ok and line.warning and "the tray only" in line.message and "task_list_num" in line.message
    cfg = config_for(export_dir, task_server)
    (line,) = run(CHECKS, Context(cfg, home_paths()))
    assert not line.warning and "task list 74" in line.message

    urgent_model(alert_home / "models" / "urgent")
    write_dicom(export_dir / "unknown.dcm", seed=9, patient_id="4004", study_uid="1.2.840.99.79")  # not in OD
    svc = Service(cfg, home_paths())
    svc.run_once()
    svc.urgent_alerts.drain_once()
    svc.db.close()
    lines = run(CHECKS, Context(cfg, home_paths()))
    assert [(c.name, c.ok) for c in lines[1:]] == [("urgent alert (study 1)", False)]
    assert "4004" in lines[1].message


def test_a_silent_pilot_raises_no_alert(alert_home, export_dir, task_server):
    urgent_model(alert_home / "models" / "urgent")
    fmx(export_dir, 1)
    cfg = config_for(export_dir, task_server)
    cfg.governance.rollout = "silent_pilot"
    svc = Service(cfg, home_paths())
    svc.run_once()
    assert svc.db.one("SELECT urgent FROM studies")["urgent"] == 1 and alerts.status(svc.db) == []
    svc.db.close()


def test_where_an_unreviewed_alert_goes_is_a_guarded_setting(home, monkeypatch, capsys):
    import io
    import sys

    from tray_app.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO("246813\n"))
    assert main(["clinicians", "add", "Dr Ada", "--role", "dentist", "--pin-stdin"]) == 0
    assert main(["config", "set", "export.opendental.next_steps.alert_via", "popup"]) == 2
    assert "needs a dentist's or admin's PIN" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("246813\n"))
    assert main(["config", "set", "export.opendental.next_steps.task_list_num", "74", "--as-clinician", "1",
                 "--pin-stdin"]) == 0
