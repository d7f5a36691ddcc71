"""The headless service with real watchdog observers, real SQLite and a real ONNX session."""

import hashlib
import shutil
import struct
import threading
import time
import zlib

import pytest

from samples import write_dicom, write_png
from service_helpers import fast_config, home_paths, wait_for
from tray_app.app import Service


@pytest.fixture
def service_factory(home):
    made = []

    def make(config):
        s = Service(config, home_paths())
        made.append(s)
        return s

    yield make
    for s in made:
        if not s._stop.is_set():
            s.stop()


def analyzed_count(db):
    return db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0]


def test_files_written_while_down_are_processed_at_start(service_factory, export_dir):
    sub = export_dir / "2026" / "patient 7"
    sub.mkdir(parents=True)
    for i in range(20):
        write_png((sub if i % 2 else export_dir) / f"C{i}_Doe_Jo_20261128_{i}.png", seed=i)
    s = service_factory(fast_config(export_dir))
    s.start()
    wait_for(lambda: analyzed_count(s.db) == 20, 60, message="20 analysed images")
    assert s.db.one("SELECT COUNT(*) FROM findings")[0] == 40  # the stub finds 2 per image
    assert s.db.one("SELECT COUNT(*) FROM images")[0] == 20


def test_slowly_written_file_is_read_once_complete(service_factory, export_dir, tmp_path):
    src = write_dicom(tmp_path / "slow.dcm", seed=5)
    data = src.read_bytes()
    s = service_factory(fast_config(export_dir, settle_seconds=0.6))
    s.start()
    target = export_dir / "slow.dcm"
    chunks = 12
    with open(target, "wb") as f:  # 12 chunks over ~3 s
        for i in range(chunks):
            f.write(data[i * len(data) // chunks:(i + 1) * len(data) // chunks])
            f.flush()
            time.sleep(0.25)
    wait_for(lambda: analyzed_count(s.db) == 1, 30, message="the slow file analysed")
    time.sleep(1.0)
    rows = s.db.query("SELECT state, sha256 FROM images WHERE path=?", (str(target),))
    assert [r["state"] for r in rows] == ["analyzed"]
    assert rows[0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert s.db.one("SELECT COUNT(*) FROM images WHERE state='quarantined'")[0] == 0


def _png_bomb(path):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0))
                     + chunk(b"IEND", b""))


def test_bad_files_are_quarantined_and_the_next_good_one_processed(service_factory, export_dir, tmp_path):
    s = service_factory(fast_config(export_dir, max_pixels=50_000_000))
    s.start()
    good = write_dicom(tmp_path / "g.dcm").read_bytes()
    (export_dir / "corrupt.dcm").write_bytes(good[:132] + bytes(b ^ 0x5A for b in good[132:600]) + good[600:])
    (export_dir / "empty.dcm").write_bytes(b"")
    (export_dir / "truncated.dcm").write_bytes(good[: len(good) // 2])
    (export_dir / "notes.bin").write_bytes(b"MZ\x90\x00 this is not an image" * 50)
    _png_bomb(export_dir / "huge.png")
    (export_dir / "~$lock.dcm").write_bytes(b"office lock file")  # ignored entirely
    (export_dir / "copy.dcm.tmp").write_bytes(good)  # ignored partial copy
    write_png(export_dir / "good.png", seed=9)
    wait_for(lambda: analyzed_count(s.db) == 1 and
             s.db.one("SELECT COUNT(*) FROM images WHERE state='quarantined'")[0] == 5, 30,
             message="5 quarantined + 1 analysed")
    reasons = {r["path"].rsplit("/", 1)[-1]: r["reason"] for r in
               s.db.query("SELECT path, reason FROM images WHERE state='quarantined'")}
    assert reasons["empty.dcm"] == "file is empty"
    assert "too large" in reasons["huge.png"]
    assert "not a DICOM or image file" in reasons["notes.bin"]
    assert "truncated" in reasons["truncated.dcm"] or "damaged" in reasons["truncated.dcm"]
    assert reasons["corrupt.dcm"]
    assert s.db.one("SELECT COUNT(*) FROM images")[0] == 6
    assert s.worker.is_alive()


@pytest.mark.parametrize("kind", ["native", "polling"])
def test_folder_removed_and_recreated_is_watched_again(service_factory, export_dir, kind):
    s = service_factory(fast_config(export_dir, kind=kind))
    s.watcher.poll_seconds = 0.3
    s.start()
    write_png(export_dir / "before.png", seed=1)
    wait_for(lambda: analyzed_count(s.db) == 1, 30, message="first file")
    shutil.rmtree(export_dir)
    wait_for(lambda: s.db.one("SELECT status FROM sources")[0] == "waiting_for_folder", 20,
             message="the source to notice the folder is gone")
    export_dir.mkdir()
    wait_for(lambda: s.db.one("SELECT status FROM sources")[0] == "watching", 20, message="re-armed watch")
    time.sleep(0.3)
    write_png(export_dir / "after.png", seed=2)
    wait_for(lambda: analyzed_count(s.db) == 2, 30, message="file written after the folder came back")


def test_same_content_and_same_sop_uid_are_duplicates(service_factory, export_dir, tmp_path):
    s = service_factory(fast_config(export_dir))
    s.start()
    a = write_dicom(export_dir / "a.dcm", seed=1, sop_uid="1.2.3.4.5")
    wait_for(lambda: analyzed_count(s.db) == 1, 30, message="first")
    shutil.copy(a, export_dir / "a copy.dcm")
    write_dicom(export_dir / "resent.dcm", seed=2, sop_uid="1.2.3.4.5")  # other bytes, same instance
    wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='duplicate'")[0] == 2, 30, message="dups")
    reasons = sorted(r[0] for r in s.db.query("SELECT reason FROM images WHERE state='duplicate'"))
    assert reasons == ["same SOPInstanceUID as image 1", "same content as image 1"]
    assert s.db.one("SELECT COUNT(*) FROM findings")[0] == 2


def test_study_grouping_by_uid_and_by_patient_window(service_factory, export_dir):
    s = service_factory(fast_config(export_dir))
    s.start()
    write_dicom(export_dir / "bw1.dcm", seed=1, study_uid="1.2.9")
    write_dicom(export_dir / "bw2.dcm", seed=2, study_uid="1.2.9")
    for i in range(3):
        write_png(export_dir / f"A7_Roe_Ann_20261128_{i}.png", seed=10 + i)
    write_png(export_dir / "B8_Poe_Al_20261128_1.png", seed=20)
    wait_for(lambda: analyzed_count(s.db) == 6, 30, message="6 images")
    groups = sorted(r[0] for r in s.db.query("SELECT COUNT(*) FROM images GROUP BY study_id"))
    assert groups == [1, 2, 3]
    study = s.db.one("SELECT * FROM studies WHERE patient_id='A7'")
    assert study["patient_name"] == "Roe^Ann" and study["patient_id_kind"] == "chartnumber"


def test_without_a_model_images_wait_and_are_analysed_later(tmp_path, monkeypatch, export_dir):
    h = tmp_path / "bare"
    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(h))
    monkeypatch.setattr("tray_app.app.bundled_models_dir", lambda: tmp_path / "none")
    s = Service(fast_config(export_dir), home_paths())
    s.start()
    write_png(export_dir / "x.png")
    wait_for(lambda: s.db.one("SELECT state FROM images") and s.db.one("SELECT state FROM images")[0] == "decoded",
             30, message="decoded without a model")
    assert "no model is installed" in s.model_problem
    s.stop()
    from model_factory import simple_detector

    simple_detector(h / "models" / "stub")
    s2 = Service(fast_config(export_dir), home_paths())
    s2.start()
    try:
        wait_for(lambda: analyzed_count(s2.db) == 1, 30, message="analysed after a model appeared")
    finally:
        s2.stop()


def test_an_image_that_keeps_failing_is_set_aside_not_retried_forever(service_factory, export_dir, monkeypatch):
    s = service_factory(fast_config(export_dir))
    write_png(export_dir / "a.png", seed=1)
    write_png(export_dir / "b.png", seed=2)
    real = s.processor.process

    def flaky(image_id, **kw):
        if s.db.one("SELECT path FROM images WHERE id=?", (image_id,))[0].endswith("a.png"):
            raise RuntimeError("model exploded")
        return real(image_id, **kw)

    monkeypatch.setattr(s.processor, "process", flaky)
    monkeypatch.setattr(s.worker, "_retry_at", {})
    s.start()
    wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='quarantined'")[0] == 1, 30,
             message="the failing image set aside")
    wait_for(lambda: analyzed_count(s.db) == 1, 30, message="the other image analysed")
    reason = s.db.one("SELECT reason FROM images WHERE state='quarantined'")[0]
    assert "RuntimeError: model exploded" in reason


def test_a_file_renamed_into_place_skips_the_settle_wait(service_factory, export_dir, tmp_path):
    s = service_factory(fast_config(export_dir, settle_seconds=30))
    s.start()
    time.sleep(0.5)
    staged = write_png(export_dir / "~staging.png", seed=3)  # '~' names are ignored until renamed
    staged.rename(export_dir / "renamed.png")
    # written in place, and its structure cannot show it is finished (bytes after IEND): it settles
    in_place = write_png(tmp_path / "in-place.png", seed=4).read_bytes() + b"vendor trailer"
    (export_dir / "in-place.png").write_bytes(in_place)
    wait_for(lambda: analyzed_count(s.db) == 1, 15, message="the renamed file analysed")
    states = {r["path"].rsplit("/", 1)[-1]: r["state"] for r in s.db.query("SELECT path, state FROM images")}
    assert states == {"renamed.png": "analyzed", "in-place.png": "discovered"}  # still settling


def test_a_complete_file_written_in_place_skips_most_of_the_settle_wait(service_factory, export_dir):
    """A PNG written in place ends at IEND: its structure shows it is finished, so it is read
    well before a 30 s settle time (size and mtime still have to hold for a moment)."""
    s = service_factory(fast_config(export_dir, settle_seconds=30))
    s.start()
    write_png(export_dir / "in-place.png", seed=5)
    wait_for(lambda: analyzed_count(s.db) == 1, 20, message="the complete file analysed before the settle time")


def test_pause_records_nothing_and_resume_catches_up(service_factory, export_dir):
    s = service_factory(fast_config(export_dir))
    s.start()
    s.set_paused(True)
    write_png(export_dir / "while-paused.png", seed=7)
    time.sleep(1.5)
    assert s.db.one("SELECT COUNT(*) FROM images")[0] == 0
    s.set_paused(False)
    wait_for(lambda: analyzed_count(s.db) == 1, 30, message="the file written during the pause")
