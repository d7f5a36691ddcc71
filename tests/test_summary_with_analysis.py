"""The study summary commits in the analysed image's transaction: one commit fewer per image,
and nobody (tray, review window, hub) ever sees an analysed image whose study lacks it; a
failing summary is rolled back alone and never undoes the analysis."""

from __future__ import annotations

import json

from samples import write_png
from service_helpers import fast_config, home_paths, mark_ready
from tray_app.app import Service
from tray_app.clinical import study_summary
from tray_app.store import db as store_db
from tray_app.store import images as image_repo


def test_no_commit_shows_an_analysed_image_without_its_study_summary(home, export_dir, monkeypatch):
    s = Service(fast_config(export_dir), home_paths())
    s.load_model()
    image_id = mark_ready(s.db, write_png(export_dir / "a.png", seed=1))
    seen = []

    def after_commit(c):  # what every other connection could read after each commit
        row = c.execute("SELECT i.state, s.clinical FROM images i LEFT JOIN studies s ON s.id=i.study_id "
                        "WHERE i.id=?", (image_id,)).fetchone()
        seen.append((row[0], "set" in json.loads(row[1] or "{}")))

    monkeypatch.setattr(store_db, "AFTER_COMMIT", [*store_db.AFTER_COMMIT, after_commit])
    assert s.processor.process(image_id).status == "analyzed"
    assert ("analyzed", False) not in seen and seen[-1] == ("analyzed", True)
    s.db.close()


def test_a_failing_summary_never_undoes_the_analysis(home, export_dir, monkeypatch, caplog):
    s = Service(fast_config(export_dir), home_paths())
    s.load_model()
    image_id = mark_ready(s.db, write_png(export_dir / "a.png", seed=1))
    real = study_summary.refresh

    def broken(db, study_id, **kw):
        real(db, study_id, **kw)  # writes its row and audit entry in the savepoint, then fails
        raise RuntimeError("summary bug")

    monkeypatch.setattr(study_summary, "refresh", broken)
    outcome = s.processor.process(image_id)
    assert outcome.status == "analyzed" and outcome.findings == 2
    assert image_repo.get(s.db, image_id)["state"] == "analyzed"
    assert s.db.one("SELECT COUNT(*) FROM audit WHERE event='inference'")[0] == 1
    assert s.db.one("SELECT COUNT(*) FROM audit WHERE event='tags'")[0] == 0  # rolled back with its savepoint
    assert "clinical summary failed" in caplog.text
    s.db.close()
