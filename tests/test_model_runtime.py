import json

import numpy as np
import pytest

from model_factory import e2e_output, write_model, yolo_output
from tray_app.analysis import registry
from tray_app.analysis.manifest import ManifestError, load_manifest
from tray_app.analysis.model import load_model
from tray_app.analysis.postprocess import letterbox, nms, output_layout


def test_yolo_layout_80_classes_8400_anchors(tmp_path):
    # 640x640 input; image 1280x960 -> r = 0.5, pad_y = (640 - 480) / 2 = 80
    const = yolo_output(80, 8400, [(0, 320, 320, 100, 50, 0.95), (17, 100, 200, 40, 40, 0.7),
                                   (17, 102, 201, 40, 40, 0.6),  # overlaps the previous: suppressed
                                   (5, 500, 500, 10, 10, 0.2)])  # below threshold
    model = load_model(write_model(tmp_path / "m", const, [f"c{i}" for i in range(80)], size=(640, 640)))
    dets = model.detect(np.zeros((960, 1280), np.uint8))
    got = sorted((d.label_id, round(d.score, 2), tuple(round(v, 1) for v in d.box)) for d in dets)
    assert got == [
        (0, 0.95, (540.0, 430.0, 740.0, 530.0)),
        (17, 0.7, (160.0, 200.0, 240.0, 280.0)),
    ]


def test_yolo_layout_three_classes_same_place_different_labels(tmp_path):
    const = yolo_output(3, 8400, [(1, 32, 32, 16, 16, 0.9), (2, 32, 32, 16, 16, 0.8)])
    model = load_model(write_model(tmp_path / "m", const, ["tooth", "caries", "restoration"], size=(64, 64)))
    dets = model.detect(np.zeros((64, 64), np.uint8))
    assert sorted(d.label for d in dets) == ["caries", "restoration"]  # NMS is per class


def test_end_to_end_layout(tmp_path):
    # 320x320 input; image 320 wide x 160 high -> r = 1, pad_y = 80
    const = e2e_output(300, [(10, 100, 110, 150, 0.9, 2), (0, 90, 5, 95, 0.1, 0), (30, 130, 60, 160, 0.5, 1)])
    model = load_model(write_model(tmp_path / "m", const, ["a", "b", "c"], size=(320, 320)))
    dets = model.detect(np.zeros((160, 320), np.uint8))
    got = sorted((d.label, round(d.score, 2), tuple(round(v) for v in d.box)) for d in dets)
    assert got == [("b", 0.5, (30, 50, 60, 80)), ("c", 0.9, (10, 20, 110, 70))]


def test_output_layout_rules():
    assert output_layout((1, 84, 8400), 80) == "yolo"
    assert output_layout((1, 8400, 84), 80) == "yolo_t"
    assert output_layout((1, 300, 6), 80) == "e2e"
    with pytest.raises(ValueError, match="fits neither"):
        output_layout((1, 10, 8400), 80)


def test_letterbox_inverse_maps_back():
    img = np.zeros((300, 600), np.uint8)
    canvas, lb = letterbox(img, 640, 640)
    assert canvas.shape == (640, 640)
    assert lb.scale == pytest.approx(640 / 600)
    back = lb.to_image(np.array([[lb.pad_x, lb.pad_y, 640 - lb.pad_x, 640 - lb.pad_y]]))
    assert back[0] == pytest.approx([0, 0, 600, 300], abs=1)


def test_nms_keeps_best_of_overlapping():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
    assert list(nms(boxes, np.array([0.5, 0.9, 0.3]), 0.5)) == [1, 2]


def test_manifest_errors_are_sentences(tmp_path):
    d = write_model(tmp_path / "m", yolo_output(2, 10, []), ["a", "b"], size=(32, 32))
    good = json.loads((d / "model.json").read_text())
    for mutate, msg in [
        (lambda m: m.pop("labels"), 'missing "labels"'),
        (lambda m: m["input"].update(channels=2), "channels must be 1 or 3"),
        (lambda m: m["labels"][0].update(threshold=3), "threshold must be between 0 and 1"),
        (lambda m: m.update(file="nope.onnx"), "model file 'nope.onnx' is missing"),
    ]:
        m = json.loads(json.dumps(good))
        mutate(m)
        (d / "model.json").write_text(json.dumps(m))
        with pytest.raises(ManifestError, match=msg):
            load_manifest(d)
    (d / "model.json").write_text("{broken")
    with pytest.raises(ManifestError, match="not valid JSON"):
        load_manifest(d)
    good["sha256"] = "0" * 64
    (d / "model.json").write_text(json.dumps(good))
    with pytest.raises(ManifestError, match="does not match the sha256"):
        load_model(d)
    good["sha256"] = ""
    good["labels"] = good["labels"] + [{"name": "extra"}]
    (d / "model.json").write_text(json.dumps(good))
    with pytest.raises(ManifestError, match="fits neither"):
        load_model(d)


def test_registry_prefers_named_then_user_models(tmp_path):
    write_model(tmp_path / "bundled" / "demo", yolo_output(2, 10, []), ["a", "b"], name="demo")
    write_model(tmp_path / "user" / "practice", yolo_output(2, 10, []), ["a", "b"], name="practice")
    (tmp_path / "user" / "broken").mkdir()
    (tmp_path / "user" / "broken" / "model.json").write_text("{}")
    entries = registry.discover([(tmp_path / "user", "user"), (tmp_path / "bundled", "bundled")])
    assert len(entries) == 3 and any(e.error for e in entries)
    assert registry.choose(entries).manifest.name == "practice"
    assert registry.choose(entries, "demo").manifest.name == "demo"
    assert registry.choose(entries, "absent") is None
