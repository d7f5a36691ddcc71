"""The outbox's transitions, named in store/outbox.py, still make the state machine of
docs/architecture.md; reading the queue loads no exporter (issue 17). The shape of the whole
core (no SQL outside the store, no cycle, no oversized module) is tests/test_structure.py's."""

from __future__ import annotations

import sys


def test_the_outbox_transitions(workspace, clock):
    from tray_app.store import outbox

    db, sid = workspace.db, workspace.studies["A"]
    workspace.sign("A", destinations=("folder",))
    [row] = outbox.due(db, "2030-01-01T00:00:00.000+00:00", "2030-01-02T00:00:00.000+00:00")
    now, horizon, lease = "2030-01-01T00:00:00.000+00:00", "2030-01-02T00:00:00.000+00:00", "2030-01-01T00:05:00.000+00:00"
    with db.tx() as c:
        claimed = outbox.claim(c, row["id"], now, horizon, lease)
        assert claimed["state"] == "sending" and claimed["attempts"] == 1
        assert outbox.claim(c, row["id"], now, horizon, lease) is None  # leased: nobody else takes it
    assert outbox.next_attempt_at(db) == lease and outbox.due(db, now, horizon) == []
    with db.tx() as c:
        outbox.finish(c, row["id"], "needs_attention", "check the folder", None, "", now)
        assert [r["id"] for r in outbox.requeue(c, now)] == [row["id"]]
    assert outbox.due(db, now, horizon)[0]["state"] == "queued"
    assert outbox.status(db)[0]["study_id"] == sid


def test_reading_the_queue_loads_no_exporter():
    """`export --status`/`--retry` import the outbox only: no drawing, HTTP or DICOM library, no
    model catalogue (each destination's exporter is imported when it is first used)."""
    import subprocess

    code = ("import sys, tray_app.export.outbox\n"
            "print(sorted(m for m in ('numpy', 'PIL', 'httpx', 'pydicom', 'pynetdicom', 'reportlab') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout
