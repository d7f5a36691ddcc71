"""The change check: a small model (`models/change/`, trained by `models/training/change_check.py`
on generated prior/current pairs whose true change is known) that says, for one change the rules
of `clinical/change.py` claim, how likely it is a change of the mouth rather than of the export or
the detector's flicker between two exposures.

It sees the claim's box and the area around it in both images, the prior aligned onto the current
and its tones matched to the current's in the ring around the box (as `clinical/pixel_evidence.py`
does), and a few numbers about the claim (its kind, label, how sure the detector was, its pixel
evidence). Training and the product cut the input with the same `claim_input`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..config import bundled_models_dir

CROP = 32                 # px: the window is resized to CROP × CROP
WINDOW = 2.0              # the window is the claim's box scaled by this around its centre
MIN_HALF = 12.0           # px: the least half-side of a window (a small lesion still shows its neighbourhood)
CHANGES = ("new", "gone", "grown")
TONE_QUANTILES = 17


def _window(img: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """img[y0:y1, x0:x1] with what lies beyond the image as 0."""
    h, w = img.shape
    out = np.zeros((y1 - y0, x1 - x0), np.float32)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
    return out


def claim_input(current: np.ndarray, prior_aligned: np.ndarray, seen: np.ndarray, box) -> np.ndarray:
    """(3, CROP, CROP) float32: the current image, the aligned prior and the pixels both show, in a
    window around `box`; tones as offsets from the current ring's median in units of its spread,
    the prior's mapped onto the current's by quantiles of the ring (the window outside the box)."""
    import cv2

    from ..clinical.pixel_evidence import tone_quantiles

    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    hw, hh = max(MIN_HALF, WINDOW * (x2 - x1) / 2), max(MIN_HALF, WINDOW * (y2 - y1) / 2)
    x0, y0, xe, ye = int(np.floor(cx - hw)), int(np.floor(cy - hh)), int(np.ceil(cx + hw)), int(np.ceil(cy + hh))
    cur, pri = _window(current, x0, y0, xe, ye), _window(prior_aligned, x0, y0, xe, ye)
    mask = _window(seen.astype(np.float32), x0, y0, xe, ye) > 0.5
    inner = np.zeros(mask.shape, bool)
    inner[int(max(0, y1 - y0)):int(max(0, y2 - y0)), int(max(0, x1 - x0)):int(max(0, x2 - x0))] = True
    ring = mask & ~inner
    if ring.sum() < 12:
        ring = mask
    if ring.sum() < 12:
        return np.zeros((3, CROP, CROP), np.float32)
    pri = np.interp(pri, *tone_quantiles(pri[ring], cur[ring], TONE_QUANTILES)).astype(np.float32)
    mid = float(np.median(cur[ring]))
    spread = float(np.subtract(*np.quantile(cur[ring], [0.75, 0.25]))) + 8.0
    planes = [np.where(mask, (cur - mid) / spread, 0.0), np.where(mask, (pri - mid) / spread, 0.0), mask]
    return np.stack([cv2.resize(np.clip(p, -6, 6).astype(np.float32), (CROP, CROP), interpolation=cv2.INTER_AREA)
                     for p in planes])


def claim_numbers(claim: dict, size: tuple[int, int], labels: tuple[str, ...], thresholds: dict[str, float],
                  alike: float) -> np.ndarray:
    """The claim's numbers: its kind and label (one-hot), the detector's confidence over its label's
    threshold, the box's size and distance to the image's edge (shares of the long side), its pixel
    evidence (`claim["evidence"]`) and how alike its box is in both images (`alike`)."""
    w, h = size
    long = float(max(w, h))
    x1, y1, x2, y2 = claim["box"]
    conf = claim.get("confidence")
    thr = thresholds.get(claim["label"])
    margin = float(conf - thr) if conf is not None and thr is not None else 0.0
    edge = min(x1, y1, w - x2, h - y2) / long
    return np.array([*(claim["change"] == c for c in CHANGES), *(claim["label"] == lab for lab in labels),
                     margin, (x2 - x1) / long, (y2 - y1) / long, edge,
                     np.log1p(max(0.0, float(claim.get("evidence", 0.0)))), alike], np.float32)


class ChangeModel:
    """The bundled change check (`models/change/`): `odds(inputs, numbers)` -> the probability per
    claim that it is a change of the mouth."""

    def __init__(self, folder: Path | None = None):
        import onnxruntime as ort

        folder = folder or bundled_models_dir() / "change"
        self.manifest = json.loads((folder / "change.json").read_text(encoding="utf-8"))
        self.labels = tuple(self.manifest["labels"])
        self.threshold = float(self.manifest["threshold"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(folder / "change.onnx"), options, providers=["CPUExecutionProvider"])

    def odds(self, inputs: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        if not len(inputs):
            return np.zeros(0, np.float32)
        logits = self.session.run(None, {"crops": inputs.astype(np.float32), "numbers": numbers.astype(np.float32)})[0]
        return (1.0 / (1.0 + np.exp(-logits.reshape(-1)))).astype(np.float32)

    def kept(self, claims: list[dict], current: np.ndarray, prior_aligned: np.ndarray, seen: np.ndarray,
             alike, thresholds: dict[str, float]) -> list[dict]:
        """The claims the model finds likely enough to be changes of the mouth (`threshold` in its
        manifest), each with its `odds`; `alike(box)` as in `clinical/pixel_evidence.py`."""
        if not claims:
            return []
        size = current.shape[::-1]
        odds = self.odds(np.stack([claim_input(current, prior_aligned, seen, c["box"]) for c in claims]),
                         np.stack([claim_numbers(c, size, self.labels, thresholds, alike(c["box"])) for c in claims]))
        return [c | {"odds": round(float(p), 3)} for c, p in zip(claims, odds) if p >= self.threshold]
