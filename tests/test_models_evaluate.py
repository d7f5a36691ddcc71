import json

import numpy as np
from PIL import Image

from tray_app.cli import main


def _dataset(root):
    # The stub model (tests/model_factory.simple_detector) sees a 64x64 image and always
    # reports caries at (15,15)-(25,25) at 0.9 and a restoration at (34,36)-(46,44) at 0.6.
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for name in ("a", "b"):
        Image.fromarray(np.full((64, 64), 90, np.uint8)).save(root / "images" / f"{name}.png")
    (root / "labels" / "a.txt").write_text("1 0.3125 0.3125 0.15625 0.15625\n2 0.625 0.625 0.1875 0.125\n")
    (root / "labels" / "b.txt").write_text("1 0.8 0.8 0.1 0.1\n")  # caries elsewhere: a miss and a false alarm
    (root / "data.yaml").write_text("names:\n  0: tooth\n  1: caries\n  2: restoration\n")


def test_evaluate_yolo_folder(home, tmp_path, capsys):
    _dataset(tmp_path / "ds")
    assert main(["models", "evaluate", str(tmp_path / "ds"), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    c = r["classes"]
    assert r["images"] == 2
    assert c["caries"]["ap"] == 0.5 and c["caries"]["tp"] == 1 and c["caries"]["fp"] == 1 and c["caries"]["fn"] == 1
    assert c["restoration"]["recall"] == 1.0 and c["restoration"]["precision"] == 0.5
    assert c["tooth"]["ap"] is None
    assert main(["models", "evaluate", str(tmp_path / "ds")]) == 0
    text = capsys.readouterr().out
    assert "caries" in text and "0.500" in text and "mAP50" in text


def test_evaluate_coco_json_and_bad_input(home, tmp_path, capsys):
    root = tmp_path / "coco"
    root.mkdir()
    Image.fromarray(np.full((64, 64), 90, np.uint8)).save(root / "x.png")
    (root / "ann.json").write_text(json.dumps({
        "images": [{"id": 7, "file_name": "x.png", "width": 64, "height": 64}],
        "categories": [{"id": 1, "name": "caries"}, {"id": 2, "name": "fracture"}],
        "annotations": [{"image_id": 7, "category_id": 1, "bbox": [15, 15, 10, 10]},
                        {"image_id": 7, "category_id": 2, "bbox": [1, 1, 5, 5]}],
    }))
    assert main(["models", "evaluate", str(root / "ann.json"), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["classes"]["caries"]["ap"] == 1.0 and r["unknown_classes"] == ["fracture"]
    assert main(["models", "evaluate", str(tmp_path / "nothing-here")]) == 2
    assert "neither a folder" in capsys.readouterr().err
