"""Raster exports with no header and no name token are typed from their pixels."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tray_app.clinical.image_type import classify
from tray_app.demo import synth
from tray_app.intake.decode import decode_file


def _as_export(sample, path, size=None):
    img = Image.fromarray(synth.to_uint8(sample))
    if size:
        img = img.resize(size, Image.BILINEAR)
    img.save(path, quality=85)
    return decode_file(path, max_pixels=50_000_000)


def test_panoramic_jpeg_without_tokens_is_panoramic(tmp_path):
    # the shape of a real export that fell through before: 2359x1329 (aspect 1.78), JPEG
    d = _as_export(synth.generate_sample("panoramic", 5), tmp_path / "IMG_0042.jpg", (2359, 1329))
    meta = {"format": d.fmt, "file_name": "IMG_0042.jpg"}
    assert classify(meta, d.width, d.height).kind == "other"               # shape alone cannot tell
    decision = classify(meta, d.width, d.height, pixels=d.pixels)
    assert decision.kind == "panoramic" and not decision.uncertain, decision
    assert "mirror-symmetric" in decision.rule


def test_intraoral_and_wide_asymmetric_images_are_not_panoramic(tmp_path):
    bw = _as_export(synth.generate_sample("bitewing", 3), tmp_path / "x.png")
    assert classify({"format": "png"}, bw.width, bw.height, pixels=bw.pixels).kind != "panoramic"
    # wide but one-sided (a photo strip, a scan of a form): no mirror symmetry
    ramp = np.tile(np.linspace(0, 255, 2400, dtype=np.float32), (1400, 1)).astype(np.uint8)
    assert classify({"format": "png"}, 2400, 1400, pixels=ramp).kind != "panoramic"


def test_header_still_decides_over_pixels():
    pano = synth.to_uint8(synth.generate_sample("panoramic", 2))
    h, w = pano.shape
    d = classify({"format": "dicom", "modality": "IO", "teeth_fdi": [16, 46]}, w, h, pixels=pano)
    assert d.kind == "bitewing"
