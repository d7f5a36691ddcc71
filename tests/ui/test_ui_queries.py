"""The review window's change fingerprint (`store/status.py`) on a real ingested home."""

from __future__ import annotations

import pytest

from tray_app.review.api import ReviewAPI
from tray_app.store.db import Database, utcnow
from ui_home import DENTIST


@pytest.fixture
def api(review_home):
    api = ReviewAPI(Database(review_home.database))
    yield api
    api.db.close()


def test_change_fingerprint_follows_reviews_signatures_and_exports(api):
    from tray_app.store.status import change_fingerprint

    db = api.db
    first = change_fingerprint(db)
    assert first and change_fingerprint(db) == first  # nothing changed: the same answer

    study = api.queue()[0]
    finding = next(f for im in study["images"] for f in im["findings"] if f["label"] != "tooth")
    api.accept(finding["id"], actor="front desk")
    reviewed = change_fingerprint(db)
    assert reviewed != first

    dentist = db.one("SELECT id FROM clinicians WHERE name=?", (DENTIST[0],))["id"]
    api.sign(study["id"], dentist, DENTIST[2])
    signed = change_fingerprint(db)
    assert signed != reviewed

    with db.tx() as c:  # an export moving on (the outbox worker, another process)
        c.execute("INSERT INTO outbox(study_id, destination, state, created_at, updated_at) VALUES (?,?,?,?,?)",
                  (study["id"], "folder", "queued", utcnow(), "9999-01-01T00:00:00"))
    assert change_fingerprint(db) != signed


def test_change_fingerprint_is_empty_when_the_store_cannot_answer(tmp_path):
    from tray_app.store.status import change_fingerprint

    db = Database(tmp_path / "bridge.db")
    db.close()
    for name in ("bridge.db-wal", "bridge.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    (tmp_path / "bridge.db").write_bytes(b"not a database at all" * 100)
    try:
        assert change_fingerprint(db) == ()  # "unknown": the window asks again on its next tick
    finally:
        db.close()
