"""The store owns its tables (issue 17): named transitions of the image state machine, the
clinicians' rows and the audit chain. (That the store imports nothing above itself is the
layers contract in pyproject.toml.)"""

from __future__ import annotations

import json

from tray_app.store import Database, audit, clinicians, images, sources, studies
from tray_app.store.db import utcnow

def _ready_image(db: Database, path: str = "/x/a.png") -> int:
    image_id = images.discover(db, path, None, 10, 1)
    assert images.mark_ready(db, image_id, 10, 1)
    return image_id


def _decode(db: Database, image_id: int) -> bool:
    with db.tx() as c:
        study_id = studies.assign_study(c, study_uid="1.2.3", patient={"key": "chartnumber:1"}, source_id=None,
                                        folder="/x", image_time=utcnow(), window_minutes=30)
        return images.mark_decoded(c, image_id, sha256="ab" * 32, sop_uid="", study_id=study_id, kind="bitewing",
                                   kind_confidence=0.9, kind_rule="header", width=4, height=3,
                                   meta={"format": "png"}, cache_path="", fmt="png")


def _events(db: Database, event: str) -> list[dict]:
    return [json.loads(r["data"]) for r in db.query("SELECT data FROM audit WHERE event=?", (event,))]


FINDING = dict(label="caries", code="", confidence=0.8, x1=1, y1=1, x2=2, y2=2, severity=2, tooth_fdi=16,
               tooth_universal="3", surfaces="O", model_name="m", model_version="1")


def test_decoded_then_analyzed_each_once_with_its_audit_entry(tmp_path):
    db = Database(tmp_path / "db.sqlite")
    image_id = _ready_image(db)
    assert _decode(db, image_id)
    assert not _decode(db, image_id)  # already left `ready`: nothing written twice
    assert len(_events(db, "decoded")) == 1 and images.get(db, image_id)["state"] == "decoded"
    study_id = images.get(db, image_id)["study_id"]

    kw = dict(model_name="m", model_version="1", note="", findings=[FINDING, FINDING | {"label": "crown"}],
              inference={"model": "m", "outputs": [["caries", 0.8]]})
    assert images.mark_analyzed(db, image_id, study_id, **kw) is None
    assert images.mark_analyzed(db, image_id, study_id, **kw) == "analyzed"  # analysed exactly once
    assert images.mark_analyzed(db, 999, study_id, **kw) == "changed"
    assert db.one("SELECT COUNT(*) FROM findings WHERE image_id=?", (image_id,))[0] == 2
    assert _events(db, "inference") == [{"model": "m", "outputs": [["caries", 0.8]]}]
    row = images.get(db, image_id)
    assert (row["state"], row["model_name"], row["model_version"]) == ("analyzed", "m", "1")
    assert audit.verify(db.conn()).ok


def test_a_file_that_changed_waits_again_or_gives_way_to_a_newer_pending_row(tmp_path):
    db = Database(tmp_path / "db.sqlite")
    first = _ready_image(db)
    images.back_to_discovered(db, first, 20, 2)
    assert (images.get(db, first)["state"], images.get(db, first)["size"]) == ("discovered", 20)
    assert images.pending_for_path(db, "/x/a.png") == first
    assert images.mark_ready(db, first, 20, 2)
    newer = images.discover(db, "/x/a.png", None, 30, 3)  # a newer version is already waiting
    images.back_to_discovered(db, first, 30, 3)
    assert images.get(db, first) is None and images.pending_for_path(db, "/x/a.png") == newer


def test_a_source_is_recorded_once_per_path_and_reports_its_watch(tmp_path):
    db = Database(tmp_path / "db.sqlite")
    with db.tx() as c:
        a = sources.upsert(c, "/share", "auto")
        assert sources.upsert(c, "/share", "polling") == a
    sources.set_status(db, a, "waiting_for_folder", "not reachable")
    row = db.one("SELECT kind, status, status_detail FROM sources WHERE id=?", (a,))
    assert tuple(row) == ("polling", "waiting_for_folder", "not reachable")


def test_a_failed_attempt_keeps_a_lock_out_already_set(tmp_path):
    db = Database(tmp_path / "db.sqlite")
    with db.tx() as c:
        doc = clinicians.add(c, "Dr A", "dentist", "00" * 32, "11" * 16)
        assert clinicians.authority_exists(c) and clinicians.other_authorities(c, doc) == 0
        clinicians.record_failed_attempt(c, doc, 0, "2999-01-01T00:00:00.000+00:00")
        clinicians.record_failed_attempt(c, doc, 1, None)
        row = clinicians.active(c, doc)
        assert (row["failed_attempts"], row["locked_until"]) == (1, "2999-01-01T00:00:00.000+00:00")
        clinicians.clear_failures(c, doc, pin_weak=True)
        assert tuple(c.execute("SELECT failed_attempts, pin_weak FROM clinicians").fetchone()) == (0, 1)


def test_the_newest_entry_of_an_event(tmp_path):
    db = Database(tmp_path / "db.sqlite")
    with db.tx() as c:
        assert audit.latest_data(c, "model_in_use") is None
        audit.append(c, "model_in_use", "model:a", version="1")
        audit.append(c, "model_in_use", "model:a", version="2")
        assert audit.latest_data(c, "model_in_use") == {"version": "2"}
