"""Letterbox pre-processing and decoding of detector outputs.

Two output layouts are understood, chosen from the output shape so a practice can drop
in its own model without code changes:
  * YOLO detection `[1, 4+nc, N]` (cx, cy, w, h, then per-class scores already sigmoid;
    no objectness, no NMS in the graph) — also accepted transposed `[1, N, 4+nc]`;
  * end-to-end `[1, N, 6]` (x1, y1, x2, y2, score, class), NMS already applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Letterbox:
    scale: float
    pad_x: float
    pad_y: float

    def to_image(self, boxes: np.ndarray) -> np.ndarray:
        out = boxes.astype(np.float64, copy=True)
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale
        return out


def letterbox(gray: np.ndarray, width: int, height: int, fill: int = 114) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping aspect (r = min(H/h, W/w)) and pad centred; returns uint8 HxW."""
    h, w = gray.shape[:2]
    r = min(height / h, width / w)
    new_w, new_h = max(1, round(w * r)), max(1, round(h * r))
    resized = np.asarray(Image.fromarray(gray).resize((new_w, new_h), Image.BILINEAR))
    canvas = np.full((height, width), fill, dtype=np.uint8)
    pad_x, pad_y = (width - new_w) // 2, (height - new_h) // 2
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
    return canvas, Letterbox(r, float(pad_x), float(pad_y))


def to_tensor(canvas: np.ndarray, channels: int, scale: float, mean: float, std: float) -> np.ndarray:
    x = (canvas.astype(np.float32) * np.float32(scale) - np.float32(mean)) / np.float32(std)
    x = np.broadcast_to(x[None, None], (1, channels, *canvas.shape))
    return np.ascontiguousarray(x)


@dataclass(frozen=True)
class RawDetections:
    boxes: np.ndarray  # (K, 4) x1 y1 x2 y2, letterboxed input pixels
    scores: np.ndarray  # (K,)
    classes: np.ndarray  # (K,) int


def output_layout(shape: tuple[int, ...], num_classes: int) -> str:
    """'yolo', 'yolo_t' (transposed) or 'e2e'; raises ValueError for anything else."""
    dims = tuple(int(d) for d in shape)
    if len(dims) == 3 and dims[0] == 1:
        dims = dims[1:]
    if len(dims) != 2:
        raise ValueError(f"model output has shape {tuple(shape)}; expected [1, 4+nc, N] or [1, N, 6]")
    a, b = dims
    want = 4 + num_classes
    if a == want and (b != want or b > a):
        return "yolo"
    if b == 6 and a != 6:
        return "e2e"
    if b == want:
        return "yolo_t"
    raise ValueError(
        f"model output has shape {tuple(shape)}, which fits neither the YOLO layout [1, {want}, N] "
        f"for its {num_classes} labels nor the end-to-end layout [1, N, 6]"
    )


def decode(output: np.ndarray, num_classes: int, thresholds: np.ndarray) -> RawDetections:
    layout = output_layout(output.shape, num_classes)
    out = output.reshape(output.shape[-2:]).astype(np.float32, copy=False)
    if layout == "e2e":
        scores = out[:, 4]
        classes = out[:, 5].astype(np.int64)
        valid = (classes >= 0) & (classes < num_classes)
        keep = valid & (scores >= thresholds[np.clip(classes, 0, num_classes - 1)])
        return RawDetections(out[keep, :4].copy(), scores[keep].copy(), classes[keep])
    if layout == "yolo":
        out = out.T  # -> [N, 4+nc]
    cls_scores = out[:, 4 : 4 + num_classes]
    # every class above its own threshold counts: a filled caries lesion may be both
    rows, classes = np.nonzero(cls_scores >= thresholds[None, :])
    scores = cls_scores[rows, classes]
    cx, cy, w, h = (out[rows, i] for i in range(4))
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return RawDetections(boxes, scores, classes.astype(np.int64))


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, highest score first."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    x1, y1, x2, y2 = boxes.T
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(x1[i], x1[rest])
        yy1 = np.maximum(y1[i], y1[rest])
        xx2 = np.minimum(x2[i], x2[rest])
        yy2 = np.minimum(y2[i], y2[rest])
        inter = np.maximum(xx2 - xx1, 0) * np.maximum(yy2 - yy1, 0)
        overlap = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[overlap <= iou]
    return np.asarray(keep, dtype=np.int64)


PER_CLASS_CANDIDATES = 300  # NMS is quadratic; evaluation at threshold ~0 would otherwise crawl


def classwise_nms(det: RawDetections, iou: float, max_detections: int) -> np.ndarray:
    if len(det.scores) == 0:
        return np.zeros(0, dtype=np.int64)
    candidates = np.arange(len(det.scores))
    if len(det.scores) > PER_CLASS_CANDIDATES:
        kept = []
        for cls in np.unique(det.classes):
            idx = np.nonzero(det.classes == cls)[0]
            if len(idx) > PER_CLASS_CANDIDATES:
                idx = idx[np.argsort(-det.scores[idx], kind="stable")[:PER_CLASS_CANDIDATES]]
            kept.append(idx)
        candidates = np.sort(np.concatenate(kept))
    boxes, scores, classes = det.boxes[candidates], det.scores[candidates], det.classes[candidates]
    # offset boxes per class so one NMS pass never suppresses across classes
    offset = classes[:, None].astype(np.float64) * (float(np.abs(boxes).max()) + 1.0)
    keep = nms(boxes + offset, scores, iou)
    return candidates[keep[:max_detections]]
