"""Detection metrics: every expected value below is computed by hand in the comments."""

import math

import numpy as np
import pytest

from tray_app.analysis.metrics import average_precision, box_iou, evaluate, read_yolo_labels

LABELS = ["tooth", "caries", "implant"]


def test_box_iou_hand_values():
    # 10x10 boxes overlapping by 5x10: inter 50, union 150 -> 1/3
    iou = box_iou([[0, 0, 10, 10]], [[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    assert iou.shape == (1, 3)
    assert iou[0, 0] == pytest.approx(1 / 3)
    assert iou[0, 1] == 0.0
    assert iou[0, 2] == pytest.approx(1.0)


def test_average_precision_all_point_interpolation():
    # ranked: TP, FP, TP with 2 GT -> recall .5,.5,1 precision 1,.5,2/3
    # envelope: 1 on (0,.5], 2/3 on (.5,1] -> AP = .5*1 + .5*2/3 = 0.8333
    ap = average_precision(np.array([True, False, True]), np.array([0.9, 0.8, 0.7]), 2)
    assert ap == pytest.approx(0.5 + 0.5 * 2 / 3)
    # order comes from the scores, not from the list order
    ap2 = average_precision(np.array([True, True, False]), np.array([0.7, 0.9, 0.8]), 2)
    assert ap2 == pytest.approx(ap)
    # precision envelope: ranked FP, TP, TP with 2 GT -> p .0,.5,2/3 ; envelope 2/3 everywhere
    assert average_precision(np.array([False, True, True]), np.array([0.9, 0.8, 0.7]), 2) == pytest.approx(2 / 3)
    # one GT missed entirely: ranked TP only, 2 GT -> .5
    assert average_precision(np.array([True]), np.array([0.5]), 2) == pytest.approx(0.5)
    assert average_precision(np.array([], bool), np.array([]), 3) == 0.0
    assert math.isnan(average_precision(np.array([False]), np.array([0.3]), 0))


def _one_image_case():
    gts = [[(0, 0, 0, 10, 10), (0, 20, 0, 30, 10), (1, 50, 50, 60, 60)]]
    preds = [[
        (0, 0.9, 0, 0, 10, 10),      # TP tooth #1
        (0, 0.8, 40, 40, 45, 45),    # FP tooth (nothing there)
        (0, 0.7, 21, 0, 31, 10),     # TP tooth #2 (IoU 9/11)
        (0, 0.6, 0, 0, 10, 10),      # FP: duplicate of tooth #1
        (0, 0.85, 50, 50, 60, 60),   # FP tooth sitting on the caries -> confusion
        (1, 0.4, 52, 50, 62, 60),    # TP caries (IoU 80/120 = 2/3)
    ]]
    return preds, gts


def test_evaluate_ap_precision_recall_counts():
    preds, gts = _one_image_case()
    r = evaluate(preds, gts, LABELS, thresholds={"tooth": 0.75, "caries": 0.5, "implant": 0.5})
    tooth = r["classes"]["tooth"]
    # tooth ranking: .9 TP, .85 FP, .8 FP, .7 TP, .6 FP ; 2 GT
    # recall .5,.5,.5,1,1 ; precision 1,.5,1/3,.5,.4 ; envelope 1 up to .5, .5 up to 1
    assert tooth["ap"] == pytest.approx(0.5 * 1 + 0.5 * 0.5)
    # at 0.75: kept .9 TP, .85 FP, .8 FP -> tp 1 fp 2 fn 1
    assert (tooth["tp"], tooth["fp"], tooth["fn"], tooth["gt"]) == (1, 2, 1, 2)
    assert tooth["precision"] == pytest.approx(1 / 3)
    assert tooth["recall"] == pytest.approx(0.5)
    caries = r["classes"]["caries"]
    assert caries["ap"] == pytest.approx(1.0)  # found, even though below its threshold
    assert (caries["tp"], caries["fp"], caries["fn"]) == (0, 0, 1)
    assert caries["precision"] is None and caries["recall"] == 0.0
    implant = r["classes"]["implant"]
    assert implant["ap"] is None and implant["recall"] is None and implant["gt"] == 0
    # mAP over classes with ground truth only: (0.75 + 1.0) / 2
    assert r["mAP"] == pytest.approx(0.875)
    assert r["micro"] == {"precision": pytest.approx(1 / 3), "recall": pytest.approx(1 / 3), "tp": 1, "fp": 2, "fn": 2}
    # the 0.85 tooth box lies on the caries GT (IoU 1) -> caries mistaken for tooth once
    assert r["confusion"] == {"caries": {"tooth": 1}}


def test_thresholds_from_labels_and_scalar():
    preds, gts = _one_image_case()
    labels = [{"name": "tooth", "threshold": 0.65}, {"name": "caries", "threshold": 0.3}, {"name": "implant"}]
    r = evaluate(preds, gts, labels)
    # tooth at .65: .9 TP, .85 FP, .8 FP, .7 TP -> 2 tp 2 fp 0 fn
    assert (r["classes"]["tooth"]["tp"], r["classes"]["tooth"]["fp"], r["classes"]["tooth"]["fn"]) == (2, 2, 0)
    assert r["classes"]["caries"]["tp"] == 1
    r0 = evaluate(preds, gts, LABELS, thresholds=0.0)
    # everything kept: tooth 2 tp 3 fp (duplicate counts as FP)
    assert (r0["classes"]["tooth"]["tp"], r0["classes"]["tooth"]["fp"]) == (2, 3)


def test_iou_threshold_changes_the_match():
    # prediction overlaps its GT at IoU 1/3
    gts = [[(0, 0, 0, 10, 10)]]
    preds = [[(0, 0.9, 5, 0, 15, 10)]]
    assert evaluate(preds, gts, LABELS)["classes"]["tooth"]["ap"] == 0.0
    assert evaluate(preds, gts, LABELS, iou=0.3)["classes"]["tooth"]["ap"] == pytest.approx(1.0)


def test_images_are_matched_separately():
    # the same box in image 2 must not match the GT of image 1
    gts = [[(0, 0, 0, 10, 10)], []]
    preds = [[], [(0, 0.9, 0, 0, 10, 10)]]
    r = evaluate(preds, gts, LABELS)
    assert r["classes"]["tooth"]["ap"] == 0.0
    assert (r["classes"]["tooth"]["fp"], r["classes"]["tooth"]["fn"]) == (1, 1)
    assert r["images"] == 2


def test_evaluate_rejects_bad_input():
    with pytest.raises(ValueError):
        evaluate([[]], [[], []], LABELS)
    with pytest.raises(ValueError):
        evaluate([[(7, 0.5, 0, 0, 1, 1)]], [[]], LABELS)


def test_read_yolo_labels(tmp_path):
    f = tmp_path / "img.txt"
    f.write_text("# comment\n0 0.5 0.5 0.2 0.4\n\n2 0.1 0.9 0.2 0.2 0.77\n", encoding="utf-8")
    got = read_yolo_labels(f, 100, 50)
    # cx 50 cy 25 w 20 h 20 -> 40,15,60,35 ; cx 10 cy 45 w 20 h 10 -> 0,40,20,50
    assert [(c, *map(lambda v: round(v, 6), b)) for c, *b in got] == [(0, 40, 15, 60, 35), (2, 0, 40, 20, 50)]
    assert read_yolo_labels(tmp_path / "missing.txt", 100, 50) == []
    bad = tmp_path / "bad.txt"
    bad.write_text("0 0.5 0.5 0.2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.txt:1"):
        read_yolo_labels(bad, 10, 10)
    bad.write_text("x 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    with pytest.raises(ValueError):
        read_yolo_labels(bad, 10, 10)
