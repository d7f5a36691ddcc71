"""Overlapping tiles for images too wide for one model input (panoramics).

A 2800 px panoramic letterboxed to 640 px leaves an implant about 10 px wide; run in a
grid of overlapping tiles, each tile reaches the model near its native scale. The model
contract says per image kind which grid to use (`model.json` → `tiling`), so training and
the product cut images the same way (models/training/data.py uses `windows`).

Detections from all tiles are merged class by class: a box that touches a tile edge inside
the image was cut there, so a whole box of the same finding from a neighbouring tile wins
over it even at a lower score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EDGE_PX = 3.0            # a box within this many pixels of an inner tile edge was cut by it
CONTAINED = 0.6          # a cut box mostly inside a kept box of its class is the same finding
PIECES = 0.3             # two cut boxes sharing this much of the smaller are pieces of one finding


@dataclass(frozen=True)
class TileSpec:
    columns: int
    rows: int
    overlap: float       # fraction of a tile shared with its neighbour

    @classmethod
    def from_dict(cls, d: dict, where: str) -> "TileSpec":
        try:
            spec = cls(int(d["columns"]), int(d["rows"]), float(d.get("overlap", 0.2)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: a tiling needs whole numbers \"columns\" and \"rows\" ({exc})") from exc
        if not (1 <= spec.columns <= 8 and 1 <= spec.rows <= 8 and 0 <= spec.overlap < 0.5):
            raise ValueError(f"{where}: tiling must have 1-8 columns and rows and an overlap below 0.5")
        return spec


def _starts(length: int, count: int, overlap: float) -> tuple[int, list[int]]:
    if count == 1:
        return length, [0]
    size = int(round(length / (count - (count - 1) * overlap)))
    size = min(length, max(size, 1))
    step = (length - size) / (count - 1)
    return size, [int(round(i * step)) for i in range(count)]


def windows(width: int, height: int, spec: TileSpec) -> list[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) of every tile, row by row; together they cover the image."""
    tw, xs = _starts(width, spec.columns, spec.overlap)
    th, ys = _starts(height, spec.rows, spec.overlap)
    return [(x, y, x + tw, y + th) for y in ys for x in xs]


def cut_flags(boxes: np.ndarray, window: tuple[int, int, int, int], width: int, height: int) -> np.ndarray:
    """Which boxes (image coordinates) touch an edge of the window that lies inside the image."""
    x0, y0, x1, y1 = window
    cut = np.zeros(len(boxes), bool)
    if x0 > 0:
        cut |= boxes[:, 0] <= x0 + EDGE_PX
    if y0 > 0:
        cut |= boxes[:, 1] <= y0 + EDGE_PX
    if x1 < width:
        cut |= boxes[:, 2] >= x1 - EDGE_PX
    if y1 < height:
        cut |= boxes[:, 3] >= y1 - EDGE_PX
    return cut


def merge(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, cut: np.ndarray,
          iou: float, max_detections: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices kept, their boxes). Whole boxes first (by score), then cut ones; a box is
    dropped when a kept box of its class overlaps it by more than `iou`, and a cut box also
    when it lies mostly inside a kept one. Two cut pieces of one finding (a tooth across the
    line between two tile rows, cut in both) become one box: their union."""
    order = np.lexsort((-scores, cut))
    n = len(order)
    kb = np.zeros((n, 4), np.float32)               # kept boxes (grow by union)
    kc = np.zeros(n, classes.dtype if n else np.int64)
    kcut = np.zeros(n, bool)
    kidx = np.zeros(n, np.intp)
    m = 0
    for i in order:
        b = boxes[i]
        same = np.flatnonzero(kc[:m] == classes[i])
        if same.size:
            k = kb[same]
            inter = ((np.minimum(k[:, 2], b[2]) - np.maximum(k[:, 0], b[0])).clip(0) *
                     (np.minimum(k[:, 3], b[3]) - np.maximum(k[:, 1], b[1])).clip(0))
            a_k = (k[:, 2] - k[:, 0]) * (k[:, 3] - k[:, 1])
            a_i = max(float((b[2] - b[0]) * (b[3] - b[1])), 1e-9)
            if np.any(inter / np.maximum(a_k + a_i - inter, 1e-9) > iou):
                continue
            if cut[i]:
                if np.any(inter / a_i > CONTAINED):
                    continue
                pieces = same[kcut[same] & (inter > PIECES * np.minimum(a_k, a_i))]
                if pieces.size:
                    j = pieces[0]
                    kb[j] = (min(kb[j, 0], b[0]), min(kb[j, 1], b[1]), max(kb[j, 2], b[2]), max(kb[j, 3], b[3]))
                    continue
        kb[m], kc[m], kcut[m], kidx[m] = b, classes[i], cut[i], i
        m += 1
        if m >= max_detections:
            break
    return kidx[:m].copy(), kb[:m].copy()
