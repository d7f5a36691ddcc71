"""While images wait for the model the tray says how far it is ("Analysing 5 of 18"); a big
model takes seconds per image, and an FMX or a backlog should not look like a hang."""

from __future__ import annotations

from tray_app.store import Database
from tray_app.store.db import utcnow
from tray_app.store.status import analysis_progress
from tray_app.ui.tray_state import compute


def _images(db, states, *, at: str, done_at: str | None = None, attempts=0):
    with db.tx() as c:
        for state in states:
            c.execute("INSERT INTO images(path, state, attempts, discovered_at, updated_at) VALUES (?,?,?,?,?)",
                      (f"/x/{c.execute('SELECT COUNT(*) FROM images').fetchone()[0]}", state, attempts, at,
                       done_at or at))


def test_the_tray_counts_the_current_run_of_images(tmp_path):
    db = Database(tmp_path / "db.sqlite3")
    _images(db, ["analyzed"] * 3, at="2026-11-30T08:00:00", done_at="2026-11-30T08:00:09")  # yesterday's
    _images(db, ["ready"], at="2026-11-30T09:00:00", attempts=2)  # a locked file being retried
    # this run: an FMX arriving from 10:00, the model on its fifth image; the first was done
    # before the last arrived, but after the second had (no idle moment in between)
    _images(db, ["analyzed"], at="2026-12-01T10:00:00", done_at="2026-12-01T10:00:00.700")
    _images(db, ["analyzed"] * 2 + ["duplicate"], at="2026-12-01T10:00:00.500", done_at="2026-12-01T10:00:20")
    _images(db, ["decoded"] * 2 + ["ready"] * 12, at="2026-12-01T10:00:01")
    _images(db, ["discovered"], at="2026-12-01T10:00:02")
    conn = db.conn()
    assert analysis_progress(conn) == (4, 18)  # the file still being written is not counted yet
    state = compute(conn, source_paths=[])
    assert "Analysing 5 of 18" in state.tooltip
    assert "Analysing" not in compute(conn, source_paths=[], paused=True).tooltip
    assert "Analysing" not in compute(conn, source_paths=[], analysing=False).tooltip  # no model: no progress
    with db.tx() as c:
        c.execute("UPDATE images SET state='analyzed' WHERE state IN ('ready','decoded') AND attempts=0")
    assert analysis_progress(conn) == (0, 0)
    assert "Analysing" not in compute(conn, source_paths=[]).tooltip
    db.close()


def test_the_review_window_says_how_far_the_open_study_is(qtbot):
    from tray_app.ui import study_panels
    from tray_app.ui.analysis_panel import AnalysisProgressPanel, progress_text
    from tray_app.ui.theme import scale_for

    assert AnalysisProgressPanel in study_panels._FACTORIES  # listed in PANEL_MODULES
    fmx = {"images": [{"state": "analyzed"}] * 3 + [{"state": "decoded"}] + [{"state": "ready"}] * 14}
    assert progress_text(fmx) == "Analysing 4 of 18 images — findings appear as each one is done"
    assert progress_text({"images": [{"state": "analyzed"}, {"state": "quarantined"}]}) == ""
    panel = AnalysisProgressPanel(None, scale_for(900))
    qtbot.addWidget(panel)
    panel.show()
    panel.show_study(fmx)
    assert panel.isVisible() and panel.label.text().startswith("Analysing 4 of 18")
    panel.show_study({"images": [{"state": "analyzed"}]})
    assert not panel.isVisible()
