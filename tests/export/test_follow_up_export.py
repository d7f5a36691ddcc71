"""The follow-up after sign-off (issue 19 item 4b): the suggested visit and codes, written once to
Open Dental through the outbox — a task on the patient, or a commlog note without a task list —
found by its marker after a 500 that came after the write; never an appointment."""

from __future__ import annotations

from tray_app.export.outbox import Outbox
from tray_app.settings.next_steps import NextStepsConfig

from .conftest import od_config

ONLY_FOLLOW_UP = dict(write_pdf=False, write_images=False, write_chart_note=False)


def cfg(server, **next_steps):
    # the export must write something besides the follow-up (settings validation): the chart note stays off
    # through write_patient_summary, which writes nothing for a study without a patient summary draft
    ns = NextStepsConfig(follow_up=True, **next_steps)
    return od_config(server, next_steps=ns, **ONLY_FOLLOW_UP, write_patient_summary=True)


def test_follow_up_task_is_written_once_and_found_by_marker_after_a_500(workspace, od_server, od_keys, clock):
    od_server.state.tables["tasklists"].append({"TaskListNum": 74})
    ws = workspace
    ws.sign("A")
    od_server.fail("500_after", "POST /tasks")
    outbox = Outbox(ws.db, cfg(od_server, task_list_num=74, user_num=3), clock=clock)
    [first] = outbox.drain_once()
    assert first["state"] == "failed"
    clock.advance(60)
    [second] = outbox.drain_once()
    assert second["state"] == "done", second["reason"]
    tasks = od_server.state.tables["tasks"]
    assert len(tasks) == 1
    (task,) = tasks
    assert (task["KeyNum"], task["ObjectType"], task["TaskListNum"], task["UserNum"]) == (1001, "Patient", 74, 3)
    assert "Suggested follow-up: restorative visit" in task["Descript"]  # the stub's caries, accepted
    assert "suggested, dentist to confirm" in task["Descript"] and "nothing was booked" in task["Descript"]
    assert "Doe" not in task["Descript"]
    part = ws.db.one("SELECT * FROM export_parts WHERE part='follow_up_task'")
    assert part["state"] == "done" and part["marker"] in task["Descript"] and part["remote_id"] == str(task["TaskNum"])
    assert [r["path"] for r in od_server.writes()].count("/tasks") == 1  # posted once
    assert not any(r["path"] == "/commlogs" for r in od_server.writes())
    assert not any("appointments" in r["path"] for r in od_server.state.requests)


def test_without_a_task_list_the_follow_up_is_a_commlog_note(workspace, od_server, od_keys, clock):
    ws = workspace
    ws.sign("A")
    [row] = Outbox(ws.db, cfg(od_server), clock=clock).drain_once()
    assert row["state"] == "done", row["reason"]
    (note,) = od_server.state.commlogs
    assert note["PatNum"] == 1001 and "Suggested follow-up" in note["Note"] and "nothing was booked" in note["Note"]
    assert od_server.state.tables["tasks"] == []


def test_rejected_findings_suggest_only_the_recall_and_off_writes_nothing(workspace, od_server, od_keys, clock):
    ws = workspace
    api = ws.api()
    for fid in ws.findings("F"):
        api.reject(fid)
    api.sign(ws.studies["F"], 1, "246813")
    Outbox(ws.db, cfg(od_server), clock=clock).drain_once()
    notes = [c["Note"] for c in od_server.state.commlogs]
    assert any("recall visit" in n for n in notes) and not any("restorative" in n for n in notes)

    ws.sign("G")
    off = od_config(od_server, **ONLY_FOLLOW_UP, write_patient_summary=True)
    before = len(od_server.state.commlogs)
    Outbox(ws.db, off, clock=clock).drain_once()
    assert len(od_server.state.commlogs) == before


def test_the_sign_off_preview_shows_the_follow_up(workspace):
    ws = workspace
    api = ws.api()
    for fid in ws.findings("A"):
        api.accept(fid)
    follow = api.preview_export(ws.studies["A"])["follow_up"]
    assert follow["visit"] == "restorative" and follow["status"] == "suggested, dentist to confirm"
    assert follow["text"].startswith("Suggested follow-up: restorative visit")


def test_a_demonstration_models_follow_up_says_so_first():
    from tray_app.export.od_follow_up import follow_up_text
    from tray_app.store.reports import Report

    report = Report.from_dict({"study_id": 1, "findings": [{"label": "caries", "tooth_fdi": 36, "surfaces": "O",
                                                            "status": "accepted"},
                                                           {"label": "periapical_radiolucency", "tooth_fdi": 11,
                                                            "status": "rejected"}],
                               "demonstration_models": ["dental-demo 1.0.0"], "signer": {"id": 1, "name": "Dr X",
                                                                                          "role": "dentist"}})
    text = follow_up_text(report, "[DAB:1:abc:follow_up_note]")
    assert text.startswith("DEMONSTRATION MODEL — not for clinical use (dental-demo 1.0.0)")
    assert "restorative visit" in text and "emergency" not in text  # the rejected finding plans nothing
    assert text.endswith("nothing was booked. [DAB:1:abc:follow_up_note]")
