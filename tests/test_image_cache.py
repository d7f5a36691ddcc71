"""One owner of "the pixel cache, else decode the original again" (issue 17): analysis, the
review window and every export read an image's pixels through `intake/image_cache.py`."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from samples import write_png
from service_helpers import fast_config, home_paths
from tray_app.app import Service
from tray_app.intake import image_cache
from tray_app.intake.errors import OriginalChanged
from tray_app.review.api import image_pixels


@pytest.fixture
def analysed(home, export_dir, monkeypatch):
    # a re-decode sets Pillow's process-wide bomb limit to the image's own size (decode_raster);
    # put it back for the tests that follow
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)
    write_png(export_dir / "a.png", seed=3)
    s = Service(fast_config(export_dir), home_paths())
    s.run_once()
    row = s.db.one("SELECT * FROM images WHERE state='analyzed'")
    yield s, row
    s.stop()


def test_every_reader_gets_the_same_pixels_from_the_cache_or_the_original(analysed):
    s, row = analysed
    cached = image_cache.cached(row)
    assert cached is not None and cached.dtype == np.uint8 and cached.ndim == 2
    # a cache that is not an 8-bit image (damaged, written by something else) is not used:
    # analysis and review both decode the original again, and agree
    np.save(row["cache_path"], np.zeros((2, 2, 3), np.float32), allow_pickle=False)
    assert image_cache.cached(row) is None
    assert np.array_equal(image_pixels(s.db, row["id"]), cached)
    assert np.array_equal(s.processor._pixels_for(row), cached)


def test_a_replaced_original_is_never_decoded_in_place_of_the_analysed_one(analysed, export_dir):
    s, row = analysed
    with s.db.tx() as c:  # what the retention purge does
        c.execute("UPDATE images SET cache_path='' WHERE id=?", (row["id"],))
    row = s.db.one("SELECT * FROM images WHERE id=?", (row["id"],))
    assert image_cache.pixels(row).shape == (row["height"], row["width"])
    write_png(export_dir / "a.png", seed=4)
    with pytest.raises(OriginalChanged, match="replaced after it was analysed"):
        image_cache.pixels(row)
