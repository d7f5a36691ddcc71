import struct

import numpy as np
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from samples import radiograph, write_dicom
from tray_app.intake.decode import decode_file
from tray_app.intake.errors import QuarantineError
from tray_app.intake.naming import TemplateError, parse_name

BOUND = 50_000_000

CODEC_SAMPLES = {
    "explicit VR little endian": "CT_small.dcm",
    "JPEG baseline": "SC_rgb_jpeg_dcmtk.dcm",
    "JPEG lossless SV1 (.70)": "SC_rgb_jpeg_gdcm.dcm",
    "JPEG-LS lossless": "MR_small_jpeg_ls_lossless.dcm",
    "JPEG 2000 lossless": "MR_small_jp2klossless.dcm",
    "JPEG 2000": "JPEG2000.dcm",
    "RLE lossless": "MR_small_RLE.dcm",
    "deflated explicit VR": "image_dfl.dcm",
}


@pytest.mark.parametrize("name", list(CODEC_SAMPLES.values()), ids=list(CODEC_SAMPLES))
def test_bundled_codec_samples_decode(name):
    d = decode_file(get_testdata_file(name, download=False), max_pixels=BOUND)
    assert d.pixels.dtype == np.uint8 and d.pixels.ndim == 2
    assert d.pixels.std() > 5, "decoded image should not be flat"
    assert d.meta["sop_uid"]


def test_missing_decoder_is_named_not_crashed():
    with pytest.raises(QuarantineError, match="JPEG Extended .* not bundled"):
        decode_file(get_testdata_file("JPGExtended.dcm", download=False), max_pixels=BOUND)


def test_monochrome1_is_inverted(tmp_path):
    a = decode_file(write_dicom(tmp_path / "a.dcm", 3), max_pixels=BOUND).pixels.astype(int)
    b = decode_file(write_dicom(tmp_path / "b.dcm", 3, photometric="MONOCHROME1"), max_pixels=BOUND).pixels.astype(int)
    assert np.abs((255 - a) - b).max() <= 1


def test_dicom_metadata(tmp_path):
    d = decode_file(write_dicom(tmp_path / "a.dcm", patient_id="77"), max_pixels=BOUND)
    assert d.meta["patient_id"] == "77" and d.meta["patient_last"] == "Doe" and d.meta["modality"] == "IO"
    assert d.bits_stored == 12


def test_sixteen_bit_png_and_tiff_use_their_range(tmp_path):
    img = radiograph(1, bits=12)
    Image.fromarray(img).save(tmp_path / "a.png")
    Image.fromarray(img).save(tmp_path / "a.tif")
    for f in ("a.png", "a.tif"):
        d = decode_file(tmp_path / f, max_pixels=BOUND)
        assert d.bits_stored == 16 and d.pixels.max() >= 250 and d.pixels.min() <= 5


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"", "file is empty"),
        (b"hello, this is a text file\n" * 20, "not a DICOM or image file"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "damaged"),
    ],
)
def test_bad_files_get_plain_reasons(tmp_path, content, reason):
    f = tmp_path / "x.png"
    f.write_bytes(content)
    with pytest.raises(QuarantineError, match=reason):
        decode_file(f, max_pixels=BOUND)


def test_truncated_files(tmp_path):
    good = write_dicom(tmp_path / "g.dcm")
    data = good.read_bytes()
    (tmp_path / "t.dcm").write_bytes(data[: len(data) - 5000])
    with pytest.raises(QuarantineError, match="truncated|damaged"):
        decode_file(tmp_path / "t.dcm", max_pixels=BOUND)
    Image.fromarray(radiograph(2)).save(tmp_path / "p.png")
    png = (tmp_path / "p.png").read_bytes()
    (tmp_path / "tp.png").write_bytes(png[: len(png) // 2])
    with pytest.raises(QuarantineError, match="truncated|damaged"):
        decode_file(tmp_path / "tp.png", max_pixels=BOUND)


def test_pixel_bomb_is_refused_before_decoding(tmp_path):
    # a PNG header that claims 100000 x 100000 pixels
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    (tmp_path / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    with pytest.raises(QuarantineError, match="too large"):
        decode_file(tmp_path / "bomb.png", max_pixels=BOUND)
    big = write_dicom(tmp_path / "big.dcm")
    with pytest.raises(QuarantineError, match="too large"):
        decode_file(big, max_pixels=1000)


def test_file_name_templates():
    t = "{chart}_{last}_{first}_{date:%Y%m%d}_{seq}"
    assert parse_name("A12_Smith_Jane_20261128_3", t) == {
        "chart": "A12", "last": "Smith", "first": "Jane", "date": "20261128", "seq": "3"}
    assert parse_name("random", t) is None
    assert parse_name("A12_Smith_Jane_20261399_3", t) is None  # impossible date
    assert parse_name("77-BW-x", "{patnum}-{*}-x")["patnum"] == "77"
    with pytest.raises(TemplateError):
        parse_name("x", "no fields")


def test_without_its_own_decoder_a_compression_is_decoded_by_gdcm_in_a_child_process(monkeypatch):
    """JPEG-LS is decoded by pyjpegls; where that is missing (a plugin name nothing provides here),
    GDCM decodes it, but in a child process (intake/decoder_child.py), as it does JPEG Lossless."""
    from tray_app.intake import decode, decoder_child

    calls = []
    real = decoder_child.decode_isolated
    monkeypatch.setattr(decode, "decode_isolated", lambda *a: calls.append(a) or real(*a))
    monkeypatch.setitem(decode.DECODING_PLUGIN, "1.2.840.10008.1.2.4.80", "no-such-plugin")
    d = decode_file(get_testdata_file("MR_small_jpeg_ls_lossless.dcm", download=False), max_pixels=BOUND)
    assert len(calls) == 1 and d.pixels.ndim == 2 and d.pixels.std() > 5
