"""The wall clock jumping backwards (time sync, a dead BIOS battery, someone fixing the date)
must not strand exports: a row scheduled "later" than any backoff could schedule is due."""

from tray_app.export.outbox import Outbox

from .conftest import od_config


def test_export_scheduled_before_a_backward_clock_jump_is_still_retried(workspace, od_server, od_keys, clock):
    ws = workspace
    cfg = od_config(od_server)
    od_server.stop()
    ws.sign("A")
    outbox = Outbox(ws.db, cfg, clock=clock)
    outbox.drain_once()  # fails: Open Dental is closed; next attempt scheduled after a backoff
    row = ws.db.one("SELECT state, next_attempt_at FROM outbox")
    assert row["state"] == "failed" and row["next_attempt_at"]
    assert outbox.due() == []  # backing off, as it should
    clock.advance(-24 * 3600)  # the clock is set back a day
    od_server.start()
    assert [r["state"] for r in outbox.due()] == ["failed"]  # not stranded for a day
    outbox.drain_once()
    assert ws.db.one("SELECT state FROM outbox")["state"] == "done"


def test_forward_clock_jump_just_makes_rows_due(workspace, od_server, od_keys, clock):
    ws = workspace
    cfg = od_config(od_server)
    od_server.stop()
    ws.sign("A")
    outbox = Outbox(ws.db, cfg, clock=clock)
    outbox.drain_once()
    clock.advance(7 * 24 * 3600)
    od_server.start()
    outbox.drain_once()
    assert ws.db.one("SELECT state FROM outbox")["state"] == "done"
    assert len(od_server.state.commlogs) == 1
