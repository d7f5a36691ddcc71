"""Knowing a file is complete from its own structure (sources/completeness.py): every format
written for real, then cut at every length, padded, pre-allocated; and readiness using it
(the clock is passed in: no wall-clock waits)."""

from __future__ import annotations

import io
import os
import threading
import zlib

import pydicom
import pytest
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit

from samples import radiograph, write_dicom, write_png
from tray_app.sources.completeness import proves_complete
from tray_app.sources.readiness import ReadinessMonitor
from tray_app.sources.watch import Discovery
from tray_app.store.db import Database


def _jpeg(path, seed=3):
    Image.fromarray(radiograph(seed)).save(path, quality=90)
    return path


def _tiff(path, seed=4, **kw):
    Image.fromarray(radiograph(seed)).save(path, **kw)
    return path


def _jpeg_dicom(path, seed=5):
    ds = pydicom.dcmread(write_dicom(path, seed=seed, bits=8))
    buf = io.BytesIO()
    Image.fromarray(radiograph(seed)).save(buf, format="JPEG", quality=90)
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelData = encapsulate([buf.getvalue()])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.save_as(path, enforce_file_format=True)
    return path


def _implicit_dicom(path, seed=6):
    ds = pydicom.dcmread(write_dicom(path, seed=seed))
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return path


SUFFIX = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif", "tiff-lzw": ".tif"}


def _write(kind, folder):
    return WRITERS[kind](folder / f"image-{kind}{SUFFIX.get(kind, '.dcm')}")


WRITERS = {
    "png": lambda p: write_png(p, seed=1),
    "dicom": lambda p: write_dicom(p, seed=2, teeth=(16, 17)),  # a nested sequence too
    "dicom-implicit": _implicit_dicom,
    "dicom-jpeg": _jpeg_dicom,
    "jpeg": _jpeg,
    "tiff": _tiff,
    "tiff-lzw": lambda p: _tiff(p, compression="tiff_lzw"),
}


@pytest.mark.parametrize("kind", WRITERS)
def test_a_whole_file_is_complete_and_every_truncation_of_it_is_not(tmp_path, kind):
    f = _write(kind, tmp_path)
    data = f.read_bytes()
    assert proves_complete(str(f))
    cut = tmp_path / "cut"
    step = max(1, len(data) // 400)
    lengths = set(range(0, len(data), step)) | set(range(max(0, len(data) - 300), len(data)))
    passing = []
    for n in sorted(lengths):
        cut.write_bytes(data[:n])
        if proves_complete(str(cut)):
            passing.append(n)
    assert passing == [], f"{kind}: cut at {passing[:5]} of {len(data)} bytes read as complete"


@pytest.mark.parametrize("kind", WRITERS)
def test_a_pre_allocated_file_still_filling_is_not_complete(tmp_path, kind):
    """Copy tools may set the final size first and fill in order: zeros at the end."""
    data = _write(kind, tmp_path).read_bytes()
    f = tmp_path / "filling"
    for filled in (len(data) // 3, len(data) - 40):
        f.write_bytes(data[:filled] + bytes(len(data) - filled))
        assert not proves_complete(str(f)), filled


@pytest.mark.parametrize("kind", ["png", "dicom", "dicom-jpeg", "jpeg"])
def test_bytes_after_the_end_marker_mean_it_cannot_be_told(tmp_path, kind):
    f = _write(kind, tmp_path)
    with open(f, "ab") as out:
        out.write(b"\x00more to come")
    assert not proves_complete(str(f))


def test_formats_without_a_check_and_hostile_structures_are_not_complete(tmp_path):
    bmp = tmp_path / "a.bmp"
    Image.fromarray(radiograph(1)).save(bmp)
    deflated = tmp_path / "deflated.dcm"
    ds = pydicom.dcmread(write_dicom(deflated, seed=3))
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    ds.save_as(deflated, enforce_file_format=True)
    loop = tmp_path / "loop.tif"  # a directory that points at itself
    loop.write_bytes(b"II*\x00\x08\x00\x00\x00" + b"\x01\x00" + b"\x11\x01\x04\x00\x01\x00\x00\x00\x20\x00\x00\x00"
                     + b"\x08\x00\x00\x00" + b"\xff" * 64)
    png_no_ihdr = tmp_path / "x.png"
    iend = b"\x00\x00\x00\x00IEND" + zlib.crc32(b"IEND").to_bytes(4, "big")
    png_no_ihdr.write_bytes(b"\x89PNG\r\n\x1a\n" + iend)
    for f in (bmp, deflated, loop, png_no_ihdr, tmp_path / "missing.png"):
        assert not proves_complete(str(f)), f.name
    assert proves_complete(str(write_png(tmp_path / "ok.png")))


def test_native_pixels_ending_in_zeros_wait_the_settle_time(tmp_path):
    """A black last row looks like the zeros of a pre-allocated file: it is not taken as proof."""
    f = write_dicom(tmp_path / "black.dcm", seed=1)
    ds = pydicom.dcmread(f)
    px = bytearray(ds.PixelData)
    px[-64:] = bytes(64)
    ds.PixelData = bytes(px)
    ds.save_as(f, enforce_file_format=True)
    assert not proves_complete(str(f))


# -- readiness ------------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "bridge.sqlite3")
    yield d
    d.close()


def _state(db, path) -> str:
    return db.one("SELECT state FROM images WHERE path=? ORDER BY id DESC", (str(path),))[0]


def _monitor(db, discovery, settle=30.0):
    return ReadinessMonitor(db, settle_seconds=settle, wake_worker=threading.Event(),
                            renamed_in=discovery.renamed_in)


def test_a_complete_file_written_in_place_needs_only_the_short_settle(db, tmp_path):
    discovery = Discovery(db, threading.Event())
    done, partial = write_png(tmp_path / "done.png", seed=1), tmp_path / "partial.png"
    partial.write_bytes(done.read_bytes()[:-20])
    for f in (done, partial):
        assert discovery.offer(str(f), None)
    m = _monitor(db, discovery)
    t = 1000.0
    m.check_once(now=t)
    m.check_once(now=t + m.COMPLETE_SETTLE / 2)
    assert _state(db, done) == "discovered"  # size and mtime must still hold a moment
    m.check_once(now=t + m.COMPLETE_SETTLE + 0.01)
    assert _state(db, done) == "ready"
    m.check_once(now=t + 29)
    assert _state(db, partial) == "discovered"  # cut short: the whole 30 s settle applies
    m.check_once(now=t + 30)
    assert _state(db, partial) == "ready"


def test_a_complete_file_renamed_in_is_ready_on_the_first_look_and_a_cut_one_is_not(db, tmp_path):
    discovery = Discovery(db, threading.Event())
    staged = write_png(tmp_path / "~staged.png", seed=2)
    final, cut = tmp_path / "final.png", tmp_path / "cut.png"
    cut.write_bytes(staged.read_bytes()[:-100])
    os.replace(staged, final)
    assert discovery.offer(str(final), None, renamed=True)
    assert discovery.offer(str(cut), None, renamed=True)
    m = _monitor(db, discovery)
    m.check_once(now=50.0)
    assert _state(db, final) == "ready"
    assert _state(db, cut) == "discovered"  # renamed, but its structure is cut short: RENAMED_SETTLE
    m.check_once(now=50.0 + m.RENAMED_SETTLE + 0.01)
    assert _state(db, cut) == "ready"


def test_a_file_that_keeps_changing_is_never_complete_even_when_each_version_parses(db, tmp_path):
    """A writer rewriting a whole PNG again and again: each version is structurally complete,
    but its size and mtime never hold for the short settle, so it is not read mid-rewrite."""
    discovery = Discovery(db, threading.Event())
    f = write_png(tmp_path / "rewritten.png", seed=0)
    assert discovery.offer(str(f), None)
    m = _monitor(db, discovery)
    t = 0.0
    for i in range(1, 8):
        write_png(f, seed=i, w=160 + i)  # a new size every time
        os.utime(f, ns=(i * 10**9, i * 10**9))
        m.check_once(now=t)
        assert _state(db, f) == "discovered", i
        t += m.COMPLETE_SETTLE * 0.9
    m.check_once(now=t + m.COMPLETE_SETTLE + 0.01)
    assert _state(db, f) == "ready"
    assert db.one("SELECT size FROM images WHERE path=?", (str(f),))[0] == f.stat().st_size


def test_a_png_whose_iend_is_there_but_which_grows_afterwards_waits_the_settle(db, tmp_path):
    discovery = Discovery(db, threading.Event())
    f = write_png(tmp_path / "trailer.png", seed=3)
    assert discovery.offer(str(f), None)
    m = _monitor(db, discovery, settle=2.0)
    m.check_once(now=0.0)
    with open(f, "ab") as out:  # an exporter appending its own trailer after IEND
        out.write(b"VENDOR-TRAILER" * 10)
    m.check_once(now=0.1)
    m.check_once(now=0.1 + m.COMPLETE_SETTLE)
    assert _state(db, f) == "discovered"
    m.check_once(now=2.2)
    assert _state(db, f) == "ready"
