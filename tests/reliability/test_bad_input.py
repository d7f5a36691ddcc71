"""Property-based bad input: mutated DICOM/PNG/TIFF/JPEG bytes never crash intake.

Every mutated file either decodes to a 2-D uint8 image or is refused with a
QuarantineError (a plain reason) — no other exception escapes. DAB_FUZZ_EXAMPLES raises
the count for a longer, nightly-style run.
"""

import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from samples import radiograph, write_dicom
from tray_app.intake.decode import decode_file
from tray_app.intake.errors import QuarantineError

EXAMPLES = int(os.environ.get("DAB_FUZZ_EXAMPLES", "2000"))
_DIR = Path(tempfile.mkdtemp(prefix="dab-fuzz-"))


def _seeds() -> dict[str, bytes]:
    out = {}
    write_dicom(_DIR / "s.dcm", seed=3)
    out["dicom"] = (_DIR / "s.dcm").read_bytes()
    from pydicom.data import get_testdata_file

    out["dicom_jpegls"] = Path(get_testdata_file("MR_small_jpeg_ls_lossless.dcm", download=False)).read_bytes()
    out["dicom_rle"] = Path(get_testdata_file("MR_small_RLE.dcm", download=False)).read_bytes()
    for fmt, kw in (("png", {}), ("tiff", {}), ("jpeg", {"quality": 80})):
        buf = io.BytesIO()
        Image.fromarray(radiograph(4, h=48, w=64)).save(buf, format=fmt.upper(), **kw)
        out[fmt] = buf.getvalue()
    buf = io.BytesIO()
    Image.fromarray(radiograph(5, h=48, w=64, bits=16)).save(buf, format="PNG")
    out["png16"] = buf.getvalue()
    return out


SEEDS = _seeds()
SUFFIX = {"dicom": ".dcm", "dicom_jpegls": ".dcm", "dicom_rle": ".dcm", "png": ".png", "tiff": ".tif",
          "jpeg": ".jpg", "png16": ".png"}

mutation = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0.0, 1.0)),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 7)), min_size=1, max_size=40)),
    st.tuples(st.just("overwrite"), st.floats(0.0, 1.0), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("insert"), st.floats(0.0, 1.0), st.binary(min_size=1, max_size=256)),
    st.tuples(st.just("int32"), st.floats(0.0, 1.0), st.sampled_from([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 65536])),
)


def mutate(data: bytes, m) -> bytes:
    b = bytearray(data)
    kind = m[0]
    if kind == "truncate":
        return bytes(b[: int(len(b) * m[1])])
    if not b:
        return bytes(b)
    if kind == "flip":
        for pos, bit in m[1]:
            i = min(int(pos * len(b)), len(b) - 1)
            b[i] ^= 1 << bit
        return bytes(b)
    if kind == "overwrite":
        i = int(m[1] * len(b))
        b[i : i + len(m[2])] = m[2]
        return bytes(b)
    if kind == "insert":
        i = int(m[1] * len(b))
        return bytes(b[:i]) + m[2] + bytes(b[i:])
    i = min(int(m[1] * len(b)), max(0, len(b) - 4))  # plant an absurd length/dimension
    b[i : i + 4] = int(m[2]).to_bytes(4, "little")
    return bytes(b)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(sorted(SEEDS)), ms=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_files_decode_or_are_quarantined(seed, ms):
    data = SEEDS[seed]
    for m in ms:
        data = mutate(data, m)
    path = _DIR / f"m{SUFFIX[seed]}"
    path.write_bytes(data)
    try:
        d = decode_file(path, max_pixels=4_000_000)
    except QuarantineError as exc:
        assert str(exc) and len(str(exc)) < 300
        return
    assert d.pixels.dtype == np.uint8 and d.pixels.ndim == 2 and d.pixels.size > 0


ODD_NAMES = ["CON.dcm", "nul.png", "a b ü 日本.dcm", "x" * 120 + ".png", "semi;colon&amp.dcm", "lead space .png",
             "#hash%percent.dcm", "emoji 🦷.png"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_file_names_are_processed(home, export_dir, name):
    from service_helpers import fast_config, home_paths
    from tray_app.app import Service

    path = export_dir / name
    try:
        Image.fromarray(radiograph(6)).save(path, format="PNG")
    except OSError:
        pytest.skip("this file system refuses the name")
    s = Service(fast_config(export_dir), home_paths())
    try:
        s.run_once()
        assert s.db.one("SELECT state FROM images WHERE path=?", (str(path),))[0] == "analyzed"
    finally:
        s.db.close()
