"""Detection metrics in pure numpy (used by `dental-bridge models evaluate` and by the
demo model's training scripts).

Inputs, per image (lists in the same order):
  * predictions:   [(label_id, score, x1, y1, x2, y2), ...]
  * ground truths: [(label_id, x1, y1, x2, y2), ...]

`evaluate()` returns, per class: AP at the IoU threshold (all-point interpolated
precision/recall curve, VOC2010+/COCO style, over every prediction regardless of the
score threshold), and precision / recall / TP / FP / FN counted for the predictions at
or above that label's score threshold; plus micro totals and a confusion summary of
false positives that overlap a ground truth of another class.

Matching is greedy per image and class, highest score first: a prediction is a true
positive when its best-IoU ground truth of the same class (IoU >= `iou`) is still
unmatched; otherwise it is a false positive (duplicates included).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["average_precision", "box_iou", "evaluate", "read_yolo_labels"]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix [len(a), len(b)] for boxes x1, y1, x2, y2."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def average_precision(tp: np.ndarray, scores: np.ndarray, n_gt: int) -> float:
    """All-point interpolated AP from per-prediction TP flags and scores.

    Returns nan when there is no ground truth (AP undefined), 0.0 when there is ground
    truth but no prediction."""
    if n_gt == 0:
        return float("nan")
    if len(scores) == 0:
        return 0.0
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    tp = np.asarray(tp, dtype=np.float64)[order]
    ctp = np.cumsum(tp)
    cfp = np.cumsum(1.0 - tp)
    recall = ctp / n_gt
    precision = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[1.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # precision envelope
    idx = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))


def _label_names_thresholds(labels: Sequence[Any], thresholds) -> tuple[list[str], np.ndarray]:
    names, th = [], []
    for item in labels:
        if isinstance(item, str):
            names.append(item)
            th.append(None)
        elif isinstance(item, Mapping):
            names.append(str(item["name"]))
            th.append(item.get("threshold"))
        else:  # LabelSpec-like
            names.append(str(item.name))
            th.append(getattr(item, "threshold", None))
    if thresholds is not None:
        if isinstance(thresholds, Mapping):
            th = [thresholds.get(n, t) for n, t in zip(names, th)]
        elif np.isscalar(thresholds):
            th = [float(thresholds)] * len(names)
        else:
            th = list(thresholds)
            if len(th) != len(names):
                raise ValueError("thresholds must have one value per label")
    return names, np.asarray([0.0 if t is None else float(t) for t in th], dtype=np.float64)


def _as_pred(p) -> np.ndarray:
    arr = np.asarray(p, dtype=np.float64).reshape(-1, 6) if len(p) else np.zeros((0, 6))
    return arr


def _as_gt(g) -> np.ndarray:
    arr = np.asarray(g, dtype=np.float64).reshape(-1, 5) if len(g) else np.zeros((0, 5))
    return arr


def _greedy_matches(p: np.ndarray, g: np.ndarray, nc: int, iou: float):
    """Per class, predictions by falling score, each taking the best unmatched ground truth at
    IoU >= iou: yields (class, prediction index, matched?, the image's IoU matrix)."""
    pc = p[:, 0].astype(np.int64)
    gc = g[:, 0].astype(np.int64)
    ious_all = box_iou(p[:, 2:6], g[:, 1:5]) if len(p) and len(g) else np.zeros((len(p), len(g)))
    for c in range(nc):
        pi = np.nonzero(pc == c)[0]
        if pi.size == 0:
            continue
        pi = pi[np.argsort(-p[pi, 1], kind="stable")]
        gi = np.nonzero(gc == c)[0]
        matched = np.zeros(gi.size, dtype=bool)
        for k in pi:
            ok = False
            if gi.size:
                ious = ious_all[k, gi]
                j = int(np.argmax(ious))
                if ious[j] >= iou and not matched[j]:
                    matched[j] = True
                    ok = True
            yield c, k, ok, ious_all


def evaluate(
    predictions: Sequence[Sequence[Sequence[float]]],
    ground_truths: Sequence[Sequence[Sequence[float]]],
    labels: Sequence[Any],
    iou: float = 0.5,
    thresholds=None,
) -> dict:
    """Per-class AP, precision, recall and counts; see the module docstring.

    labels: class names in class-id order, or dicts / LabelSpec objects with `name` and
    `threshold`. thresholds (optional): one score per label (sequence or {name: score})
    or a scalar, overriding the labels' own; a label without any threshold uses 0.

    Returns {"iou", "images", "classes": {name: {...}}, "mAP", "micro": {...},
    "confusion": {true_name: {predicted_name: count}}}. A class with no ground truth has
    ap = None (it is left out of mAP); precision is None when nothing was predicted and
    recall None when there is no ground truth."""
    if len(predictions) != len(ground_truths):
        raise ValueError("predictions and ground_truths must list the same images")
    names, thr = _label_names_thresholds(labels, thresholds)
    nc = len(names)
    scores_c: list[list[float]] = [[] for _ in range(nc)]
    tp_c: list[list[bool]] = [[] for _ in range(nc)]
    n_gt = np.zeros(nc, dtype=np.int64)
    tp_at = np.zeros(nc, dtype=np.int64)
    fp_at = np.zeros(nc, dtype=np.int64)
    confusion = np.zeros((nc, nc), dtype=np.int64)  # [true class, predicted class]

    for preds, gts in zip(predictions, ground_truths):
        p = _as_pred(preds)
        g = _as_gt(gts)
        pc = p[:, 0].astype(np.int64)
        gc = g[:, 0].astype(np.int64)
        if ((pc < 0) | (pc >= nc)).any() or ((gc < 0) | (gc >= nc)).any():
            raise ValueError("label id out of range")
        for c in range(nc):
            n_gt[c] += int((gc == c).sum())
        for c, k, ok, _ in _greedy_matches(p, g, nc, iou):
            scores_c[c].append(float(p[k, 1]))
            tp_c[c].append(ok)

    # counts at the score thresholds: the same greedy matching among the kept predictions
    for preds, gts in zip(predictions, ground_truths):
        p = _as_pred(preds)
        g = _as_gt(gts)
        keep = p[:, 1] >= thr[p[:, 0].astype(np.int64)] if len(p) else np.zeros(0, dtype=bool)
        p = p[keep]
        gc = g[:, 0].astype(np.int64)
        for c, k, ok, ious_all in _greedy_matches(p, g, nc, iou):
            if ok:
                tp_at[c] += 1
                continue
            fp_at[c] += 1
            # confusion: does this false positive sit on a GT of another class?
            other = np.nonzero(gc != c)[0]
            if other.size:
                ious_o = ious_all[k, other]
                j = int(np.argmax(ious_o))
                if ious_o[j] >= iou:
                    confusion[gc[other[j]], c] += 1

    classes = {}
    aps = []
    for c, name in enumerate(names):
        ap = average_precision(np.asarray(tp_c[c], dtype=bool), np.asarray(scores_c[c]), int(n_gt[c]))
        tp, fp = int(tp_at[c]), int(fp_at[c])
        fn = int(n_gt[c]) - tp
        classes[name] = {
            "ap": None if np.isnan(ap) else ap,
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / int(n_gt[c]) if n_gt[c] else None,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "gt": int(n_gt[c]),
            "threshold": float(thr[c]),
        }
        if not np.isnan(ap):
            aps.append(ap)
    TP, FP, GT = int(tp_at.sum()), int(fp_at.sum()), int(n_gt.sum())
    conf = {}
    for t in range(nc):
        row = {names[pcls]: int(confusion[t, pcls]) for pcls in range(nc) if confusion[t, pcls]}
        if row:
            conf[names[t]] = row
    return {
        "iou": float(iou),
        "images": len(predictions),
        "classes": classes,
        "mAP": float(np.mean(aps)) if aps else None,
        "micro": {
            "precision": TP / (TP + FP) if TP + FP else None,
            "recall": TP / GT if GT else None,
            "tp": TP,
            "fp": FP,
            "fn": GT - TP,
        },
        "confusion": conf,
    }


def read_yolo_labels(path: str | Path, width: int, height: int) -> list[tuple[int, float, float, float, float]]:
    """Read a YOLO label file ("class cx cy w h" normalised to 0..1, one object a line)
    into [(label_id, x1, y1, x2, y2)] in pixels of a width x height image.

    Blank lines and lines starting with '#' are skipped; a sixth column (a score, as in
    prediction files) is ignored. A missing file means no objects. Raises ValueError
    naming the file and line for a malformed line."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 5:
            raise ValueError(f"{path}:{n}: expected 'class cx cy w h', got {line!r}")
        try:
            cls_f = float(parts[0])
            cx, cy, w, h = (float(v) for v in parts[1:5])
        except ValueError as exc:
            raise ValueError(f"{path}:{n}: not a number in {line!r}") from exc
        if cls_f != int(cls_f) or cls_f < 0:
            raise ValueError(f"{path}:{n}: class must be a non-negative integer, got {parts[0]!r}")
        if w < 0 or h < 0:
            raise ValueError(f"{path}:{n}: negative box size in {line!r}")
        out.append(
            (
                int(cls_f),
                (cx - w / 2) * width,
                (cy - h / 2) * height,
                (cx + w / 2) * width,
                (cy + h / 2) * height,
            )
        )
    return out
