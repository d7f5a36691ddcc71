"""The quality step stays cheap per image in a study of many images: the study's views are read
only when a bitewing looks missing (a load test puts 2 000 files of one patient in one study)."""

from __future__ import annotations

from tray_app.config import Config
from tray_app.quality import step as quality_step
from tray_app.quality.step import QualityStep


class Outcome:
    status, image_id = "analyzed", 1


def test_the_views_are_not_read_when_no_bitewing_is_missing(tmp_path, monkeypatch):
    import numpy as np

    from tray_app.store import images, studies
    from tray_app.store.db import Database

    db = Database(tmp_path / "bridge.sqlite3")
    with db.tx() as c:
        c.execute("INSERT INTO studies(id, group_key, first_seen_at, last_image_at) VALUES (7, 'g', '', '')")
        c.execute("INSERT INTO images(id, path, state, discovered_at, updated_at) VALUES (1, 'x', 'analyzed', '', '')")

    row = {"id": 1, "study_id": 7, "kind": "periapical", "meta": "{}", "cache_path": ""}
    monkeypatch.setattr(images, "get", lambda db, image_id: row)
    monkeypatch.setattr(quality_step.image_cache, "cached", lambda row: np.zeros((300, 400), np.uint8))
    monkeypatch.setattr(studies, "clinical", lambda db, study_id: {"set": {"protocol": "PA series", "missing": []}})
    read = []
    monkeypatch.setattr(images, "of_study", lambda db, study_id: read.append(study_id) or [])
    QualityStep(db, Config())(Outcome())
    assert read == []
    db.close()
