"""Panoramics run as overlapping tiles (model.json "tiling"): windows, merging, and the real
onnxruntime session run once per tile."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model_factory import write_model, yolo_output
from tray_app.analysis.manifest import ManifestError, load_manifest
from tray_app.analysis.model import load_model
from tray_app.analysis.tiling import TileSpec, cut_flags, merge, windows


@pytest.mark.parametrize("w,h,cols,rows,ov", [(2800, 1400, 4, 2, 0.2), (1000, 700, 3, 1, 0.25), (640, 640, 1, 1, 0.2)])
def test_windows_cover_the_image_with_overlap(w, h, cols, rows, ov):
    wins = windows(w, h, TileSpec(cols, rows, ov))
    assert len(wins) == cols * rows
    cover = np.zeros((h, w), np.uint8)
    for x0, y0, x1, y1 in wins:
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        cover[y0:y1, x0:x1] += 1
    assert cover.min() >= 1                                   # nothing left out
    sizes = {(x1 - x0, y1 - y0) for x0, y0, x1, y1 in wins}
    assert len(sizes) == 1                                    # one model scale for all tiles
    if cols > 1:
        (a, _, b, _), (c, _, _, _) = wins[0], wins[1]
        assert (b - c) / (b - a) == pytest.approx(ov, abs=0.02)


def test_a_whole_box_wins_over_the_same_finding_cut_by_a_tile_edge():
    # a tooth cut by the inner edge of tile 1 (higher score) and whole in tile 2
    boxes = np.array([[380, 100, 400, 300], [350, 100, 420, 300], [600, 100, 650, 300]], np.float32)
    cut = np.concatenate([cut_flags(boxes[:1], (0, 0, 400, 700), 1000, 700),     # tile 1
                          cut_flags(boxes[1:], (300, 0, 1000, 700), 1000, 700)])  # tile 2
    assert cut.tolist() == [True, False, False]
    keep, _ = merge(boxes, np.array([0.9, 0.6, 0.8], np.float32), np.array([0, 0, 0]), cut, 0.5, 100)
    assert sorted(keep.tolist()) == [1, 2]
    # another class in the same place is another finding
    keep, _ = merge(boxes, np.array([0.9, 0.6, 0.8], np.float32), np.array([1, 0, 0]), cut, 0.5, 100)
    assert sorted(keep.tolist()) == [0, 1, 2]


def test_pieces_of_one_tooth_cut_in_two_tile_rows_become_one_box():
    # a lower molar from y=600 to 950 crossing the rows' shared band (620-780): cut in both tiles
    top, bottom = (0, 0, 1000, 780), (0, 620, 1000, 1400)
    pieces = np.array([[500, 600, 600, 778], [500, 622, 600, 950]], np.float32)
    cut = np.concatenate([cut_flags(pieces[:1], top, 1000, 1400), cut_flags(pieces[1:], bottom, 1000, 1400)])
    assert cut.tolist() == [True, True]
    keep, boxes = merge(pieces, np.array([0.8, 0.7], np.float32), np.array([0, 0]), cut, 0.5, 100)
    assert keep.tolist() == [0] and boxes.tolist() == [[500, 600, 600, 950]]


def _centre_model(tmp_path, tiling=None):
    # one box in the middle of the 64x64 input, whatever the image
    const = yolo_output(2, 16, [(1, 32, 32, 8, 8, 0.9)])
    extra = {"tiling": tiling} if tiling is not None else {}
    return write_model(tmp_path / "m", const, ["tooth", "implant"], size=(64, 64), channels=1, **extra)


def test_tiled_kind_runs_every_tile_through_the_session(tmp_path):
    model = load_model(_centre_model(tmp_path, {"panoramic": {"columns": 2, "rows": 1, "overlap": 0.2}}))
    gray = np.full((100, 200), 90, np.uint8)
    whole = model.detect(gray, kind="bitewing")
    assert len(whole) == 1 and whole[0].box[0] == pytest.approx(100 - 12.5, abs=0.6)   # image centre
    tiled = model.detect(gray, kind="panoramic")
    tw = round(200 / 1.8)                      # 2 tiles sharing 20 %
    centres = sorted((d.box[0] + d.box[2]) / 2 for d in tiled)
    assert centres == pytest.approx([tw / 2, 200 - tw / 2], abs=1.0)
    assert all(d.label == "implant" for d in tiled)


def test_bad_tiling_is_a_sentence(tmp_path):
    d = _centre_model(tmp_path, {"panoramic": {"columns": 0, "rows": 1}})
    with pytest.raises(ManifestError, match="tiling must have 1-8 columns"):
        load_manifest(d)
    raw = json.loads((d / "model.json").read_text())
    raw["tiling"] = {"panoramic": {"rows": 2}}
    (d / "model.json").write_text(json.dumps(raw))
    with pytest.raises(ManifestError, match="needs whole numbers"):
        load_manifest(d)


def test_bundled_model_tiles_panoramics():
    from tray_app.config import bundled_models_dir

    m = load_manifest(bundled_models_dir() / "dental-demo")
    spec = m.tiling["panoramic"]
    assert spec.columns * spec.rows > 1 and "bitewing" not in m.tiling
