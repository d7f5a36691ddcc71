"""Hostile files (issue 22, items 5-9): each is refused with a plain reason before it costs
memory, real files of the same kind still work, links are never followed, and the staging
copy stops at the size limit. Peak memory is measured in bench/hostile_rss.py."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from hostile import deflate_bomb, encapsulated_padding, huge_tiff, jpeg_mismatch, oversize_pixel_data, png_bomb
from samples import radiograph, write_dicom, write_png
from service_helpers import fast_config, home_paths
from tray_app.config import IntakeConfig
from tray_app.intake.decode import decode_file
from tray_app.intake.errors import QuarantineError

LIMIT = 4_000_000  # a small practice limit keeps the hostile inputs small


# -- 5. Deflate bomb -----------------------------------------------------------------------------
def test_a_deflate_bomb_is_refused_while_a_real_deflated_file_decodes(tmp_path):
    """A 408 KB Deflated DICOM inflated to a 904 MiB peak and was analysed."""
    bomb = deflate_bomb(tmp_path / "bomb.dcm", inflated_mb=64)  # 64 MiB of zeros, ~64 KB on disk
    assert bomb.stat().st_size < 200_000
    with pytest.raises(QuarantineError, match=r"Deflated\) DICOM file unpacks to more than 31 MB"):
        decode_file(bomb, max_pixels=LIMIT)
    real = decode_file(get_testdata_file("image_dfl.dcm", download=False), max_pixels=LIMIT)
    assert real.pixels.std() > 5 and real.meta["transfer_syntax"] == "1.2.840.10008.1.2.1.99"


def test_a_broken_deflate_stream_is_damage_not_a_crash(tmp_path):
    bomb = deflate_bomb(tmp_path / "bomb.dcm", inflated_mb=2)
    data = bytearray(bomb.read_bytes())
    data[-200:] = b"\xff" * 200
    bomb.write_bytes(bytes(data))
    with pytest.raises(QuarantineError, match="damaged"):
        decode_file(bomb, max_pixels=LIMIT)


# -- 6. codestream larger than its header ----------------------------------------------------------
@pytest.mark.parametrize("codec", ["JPEG", "JPEG2000"])
def test_a_codestream_larger_than_its_header_is_refused_before_decoding(tmp_path, codec):
    """64×64 in the header over a 12000×12000 JPEG was decoded (481 MiB) before the mismatch showed."""
    f = jpeg_mismatch(tmp_path / "m.dcm", side=3000, header=(1000, 1000), codec=codec)
    tracemalloc.start()
    try:
        with pytest.raises(QuarantineError, match=r"is 3000×3000 pixels but its header says 1000×1000"):
            decode_file(f, max_pixels=LIMIT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3000 * 3000  # never decoded (9 MB of 8-bit pixels)


def test_codestream_sizes_are_read_from_each_codec_header():
    from tray_app.intake.dicom_checks import codestream_size

    sof55 = b"\xff\xd8" + b"\xff\xf7\x00\x0b\x08" + (1500).to_bytes(2, "big") + (3000).to_bytes(2, "big") + b"\x01"
    assert codestream_size(sof55) == (3000, 1500)  # JPEG-LS
    app = b"\xff\xe1" + (66).to_bytes(2, "big") + b"\0" * 64  # an APP1 segment before the frame header
    assert codestream_size(b"\xff\xd8" + app + sof55[2:]) == (3000, 1500)
    assert codestream_size(b"not a codestream") is None
    for name, size in (("SC_rgb_jpeg_dcmtk.dcm", (100, 100)), ("MR_small_jp2klossless.dcm", (64, 64))):
        from pydicom import dcmread
        from pydicom.encaps import get_frame

        ds = dcmread(get_testdata_file(name, download=False))
        assert codestream_size(get_frame(ds.PixelData, 0, number_of_frames=1)) == size


def test_pixel_data_far_longer_than_the_header_is_refused_unread(tmp_path):
    for f in (oversize_pixel_data(tmp_path / "native.dcm", mb=16), encapsulated_padding(tmp_path / "enc.dcm", mb=16)):
        with pytest.raises(QuarantineError, match=r"far larger than its header says \(16 MB for a 64×64 image\)"):
            decode_file(f, max_pixels=LIMIT)


def test_pillow_keeps_its_bomb_check_at_the_configured_limit(tmp_path):
    """Pillow's own check was switched off process-wide (MAX_IMAGE_PIXELS = None)."""
    import tray_app.intake.decode  # noqa: F401 — the import used to switch it off

    assert Image.MAX_IMAGE_PIXELS == IntakeConfig().max_pixels
    with pytest.raises(QuarantineError, match="too large to analyse safely"):
        decode_file(png_bomb(tmp_path / "bomb.png"), max_pixels=LIMIT)
    assert Image.MAX_IMAGE_PIXELS == LIMIT
    assert decode_file(write_png(tmp_path / "ok.png"), max_pixels=LIMIT).pixels.ndim == 2


# -- 7. huge 16-bit TIFF ------------------------------------------------------------------------
def test_the_default_limit_refuses_a_huge_tiff_and_fits_real_images(tmp_path):
    """A 334 KB 16-bit TIFF of 10900×10900 (inside the old 120 MP limit) peaked at 2.3 GiB."""
    limit = IntakeConfig().max_pixels
    assert 3000 * 1500 * 8 <= limit <= 50_000_000  # a panoramic with headroom, sized for an 8 GB PC
    with pytest.raises(QuarantineError, match="too large to analyse safely"):
        decode_file(huge_tiff(tmp_path / "huge.tif"), max_pixels=limit)


def test_16_bit_images_convert_without_float64_copies(tmp_path):
    h, w = 2000, 3000
    img = radiograph(3, h=h, w=w, bits=16)
    Image.fromarray(img).save(tmp_path / "x.tif")
    dcm = write_dicom(tmp_path / "x.dcm", seed=3, shape=(h, w))
    for f in (tmp_path / "x.tif", dcm):
        tracemalloc.start()
        try:
            d = decode_file(f, max_pixels=LIMIT * 2)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert d.pixels.shape == (h, w) and d.pixels.dtype == np.uint8 and d.pixels.std() > 5
        # 16-bit array + the uint8 result (+ the DICOM's bytes); float64 copies cost 8 bytes a pixel each
        assert peak < 6 * h * w, f"{f.name}: {peak / (h * w):.1f} bytes a pixel"


def test_levels_match_the_float_computation(tmp_path):
    """The look-up table gives what the float formula gave (window, rescale, MONOCHROME1)."""
    f = write_dicom(tmp_path / "w.dcm", seed=5, WindowCenter=1800, WindowWidth=1600, RescaleSlope=1,
                    RescaleIntercept=-100, photometric="MONOCHROME1")
    from pydicom import dcmread

    raw = dcmread(f).pixel_array.astype(np.float64) - 100
    expected = np.round((1.0 - np.clip((raw - (1800 - 800)) / 1600, 0, 1)) * 255).astype(np.uint8)
    got = decode_file(f, max_pixels=LIMIT).pixels
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


# -- 8. links ------------------------------------------------------------------------------------
@pytest.fixture
def linked_folder(tmp_path):
    watched, outside = tmp_path / "watched", tmp_path / "outside"
    watched.mkdir()
    (outside / "deep").mkdir(parents=True)
    secret = write_dicom(outside / "secret.dcm", seed=1, patient_id="SECRET")
    write_dicom(outside / "deep" / "also.dcm", seed=2, patient_id="SECRET")
    os.symlink(secret, watched / "link.dcm")
    os.symlink(outside / "deep", watched / "linked-folder", target_is_directory=True)
    write_dicom(watched / "real.dcm", seed=3, patient_id="REAL")
    return watched, outside


def test_links_in_a_watched_folder_are_never_followed(home, linked_folder):
    """A symlink in a watched folder was followed: a file outside it was ingested and exported."""
    from tray_app.app import Service

    watched, _ = linked_folder
    s = Service(fast_config(watched), home_paths())
    s.run_once()
    rows = s.db.query("SELECT path, state FROM images")
    assert [(Path(r["path"]).name, r["state"]) for r in rows] == [("real.dcm", "analyzed")]
    assert s.discovery.offer(str(watched / "link.dcm"), s.sources[0][0]) is False
    s.db.close()


def test_a_file_swapped_for_a_link_after_discovery_is_quarantined(home, tmp_path):
    from tray_app.app import Service
    from tray_app.store import images as image_repo

    watched = tmp_path / "watched"
    watched.mkdir()
    f = write_dicom(watched / "a.dcm", seed=4)
    s = Service(fast_config(watched), home_paths())
    sid = s.sources[0][0]
    st = f.stat()
    image_id = image_repo.discover(s.db, str(f), sid, st.st_size, st.st_mtime_ns)
    image_repo.mark_ready(s.db, image_id, st.st_size, st.st_mtime_ns)
    elsewhere = write_dicom(tmp_path / "elsewhere.dcm", seed=4)
    os.utime(elsewhere, ns=(st.st_atime_ns, st.st_mtime_ns))
    f.unlink()
    os.symlink(elsewhere, f)
    out = s.processor.process(image_id)
    assert out.status == "quarantined" and "shortcut (link)" in out.reason
    s.db.close()


def test_ingest_skips_links_in_a_folder(home, linked_folder):
    from tray_app.app import Service
    from tray_app.intake.ingest import ingest_paths

    watched, _ = linked_folder
    s = Service(fast_config(), home_paths())
    assert [Path(o.path).name for o in ingest_paths(s, [watched])] == ["real.dcm"]
    [named] = list(ingest_paths(s, [watched / "link.dcm"]))  # named on purpose: still not followed
    assert named.status == "quarantined" and "shortcut (link)" in named.reason
    s.db.close()


def test_windows_junctions_count_as_links(home, tmp_path, monkeypatch):
    """Python 3.11's os.walk enters junctions; st_file_attributes marks every reparse point."""
    import threading

    from tray_app.sources import links
    from tray_app.sources.watch import Discovery
    from tray_app.store.db import Database

    regular = os.lstat(tmp_path)

    def reparse(tag):
        return SimpleNamespace(st_mode=regular.st_mode, st_file_attributes=links.FILE_ATTRIBUTE_REPARSE_POINT,
                               st_reparse_tag=tag)

    junction = reparse(0xA0000003)  # IO_REPARSE_TAG_MOUNT_POINT
    assert links.is_link(junction) and links.is_link(reparse(0xA000000C)) and links.is_link(reparse(0))
    assert not links.is_link(regular) and not links.is_link(reparse(0x9000101A))  # a OneDrive placeholder
    watched = tmp_path / "watched"
    for folder in ("junction", "plain"):
        (watched / folder).mkdir(parents=True)
        write_png(watched / folder / f"{folder}.png")
    real_lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda p, **kw: junction if str(p).endswith("junction") else real_lstat(p, **kw))
    db = Database(home_paths().database)
    discovery = Discovery(db, threading.Event())
    assert discovery.scan(str(watched), None) == 1
    assert [Path(r["path"]).name for r in db.query("SELECT path FROM images")] == ["plain.png"]
    db.close()


# -- 9. the staging copy ------------------------------------------------------------------------------
def test_a_file_growing_past_the_limit_during_the_copy_is_quarantined(home, tmp_path, monkeypatch):
    """The staging copy was not capped for a file that grew after the size check."""
    from tray_app.app import Service
    from tray_app.intake import pipeline
    from tray_app.store import images as image_repo

    watched = tmp_path / "watched"
    watched.mkdir()
    f = write_dicom(watched / "growing.dcm", seed=5)
    s = Service(fast_config(watched, max_file_mb=1), home_paths())
    st = f.stat()
    image_id = image_repo.discover(s.db, str(f), s.sources[0][0], st.st_size, st.st_mtime_ns)
    image_repo.mark_ready(s.db, image_id, st.st_size, st.st_mtime_ns)
    real_copy = pipeline.copy_hashed

    def grow_then_copy(src, dst, *, max_bytes):
        with open(src, "ab") as g:  # the writer appends after the size check passed
            g.write(b"\0" * (3 << 20))
        return real_copy(src, dst, max_bytes=max_bytes)

    monkeypatch.setattr(pipeline, "copy_hashed", grow_then_copy)
    out = s.processor.process(image_id)
    assert out.status == "quarantined" and "larger than the 1 MB limit" in out.reason
    assert list(s.processor.staging.iterdir()) == []  # the partial copy is gone
    s.db.close()


def test_the_service_outlives_every_hostile_file(home, tmp_path):
    """All of issue 22's hostile files in a watched folder at once: each is quarantined with its
    reason, and an ordinary image written after them is analysed."""
    from service_helpers import wait_for
    from tray_app.app import Service

    watched = tmp_path / "watched"
    watched.mkdir()
    deflate_bomb(watched / "bomb.dcm", inflated_mb=64)
    jpeg_mismatch(watched / "mismatch.dcm", side=3000, header=(1000, 1000))
    huge_tiff(watched / "huge.tif", side=2500)  # 6.25 MP against a 4 MP limit
    oversize_pixel_data(watched / "oversize.dcm", mb=16)
    encapsulated_padding(watched / "padded.dcm", mb=16)
    png_bomb(watched / "bomb.png")
    os.symlink(write_dicom(tmp_path / "outside.dcm", seed=9), watched / "link.dcm")
    s = Service(fast_config(watched, max_pixels=LIMIT), home_paths())
    s.start()
    try:
        wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='quarantined'")[0] == 6, 60,
                 message="the six hostile files quarantined")
        write_dicom(watched / "after.dcm", seed=10)
        wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 1, 60,
                 message="the ordinary image analysed after them")
        reasons = {Path(r["path"]).name: r["reason"] for r in s.db.query("SELECT path, reason FROM images "
                                                                          "WHERE state='quarantined'")}
        assert "link.dcm" not in reasons  # never even discovered
        assert all(reasons.values()) and s.problem == ""
    finally:
        s.stop()
