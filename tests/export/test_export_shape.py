"""The export/review area's share of the core's shape (issue 17): its modules hold no SQL (the
store's named functions do), sit in no import cycle and stay under 400 lines; and the outbox's
transitions, now named in store/outbox.py, still make the state machine of docs/architecture.md."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import test_structure as shape  # noqa: E402

AREA = ("export/", "automation.py", "review/api.py", "review/report.py", "pilot.py", "errors.py")
ALLOWED = {"review/api.py:44"}  # image_pixels: the intake/core engineer's (replaced by intake/image_cache.py)


def _ours(rel: str) -> bool:
    return rel.startswith(AREA) and not rel.startswith(("export/settings.py", "export/doctor.py",
                                                        "export/commands.py"))


def test_no_sql_in_the_export_and_review_modules():
    hits = [h for h in shape.sql_outside_store() if _ours(h.split(":")[0]) and ":".join(h.split(":")[:2]) not in ALLOWED]
    assert not hits, "\n".join(hits)


def test_no_cycle_through_the_export_and_review_modules():
    ours = [c for c in shape.strongly_connected(shape.import_graph())
            if any(_ours(shape._modules()[m].relative_to(shape.PACKAGE).as_posix()) or m.startswith("tray_app.store")
                   for m in c)]
    assert not ours, ours


def test_no_export_or_review_module_over_400_lines():
    big = [p for p in shape.PACKAGE.rglob("*.py") if _ours(p.relative_to(shape.PACKAGE).as_posix())
           and len(p.read_text(encoding="utf-8").splitlines()) > shape.MAX_LINES]
    assert not big, big


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
