"""Periodontal landmarks per tooth — CEJ, alveolar crest and apex on both interproximal
sides — from the small landmark model (`models/landmarks/`, trained by
`models/training/landmarks.py` on the generator's ground truth, `demo/landmarks.py`).

The model sees one tooth at a time: the tooth's box (from the detector), widened a little so a
crest beside the root is inside, resized to 64×128 and turned crown-up (upper teeth flipped), so
one small network serves every tooth. It answers per landmark a position in the crop (the
expected position of a heat-map) and whether the landmark is in view at all (a bitewing shows
no apices). Training and the product cut the crop with the same `tooth_crop`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import bundled_models_dir

CROP_W, CROP_H = 64, 128
PAD_X, PAD_Y = 0.15, 0.06                 # the box widened by this fraction on each side
POINTS = ("cej", "crest", "apex")          # per side: channels point*2 + (0 image-left, 1 image-right)


@dataclass(frozen=True)
class CropFrame:
    """Where a crop came from: crop pixel (cx, cy) ↔ image pixel."""
    x0: float
    y0: float
    sx: float
    sy: float
    flipped: bool

    def to_image(self, cx: np.ndarray, cy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.flipped:
            cy = CROP_H - 1 - cy
        return self.x0 + (cx + 0.5) * self.sx - 0.5, self.y0 + (cy + 0.5) * self.sy - 0.5

    def to_crop(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cx, cy = (x + 0.5 - self.x0) / self.sx - 0.5, (y + 0.5 - self.y0) / self.sy - 0.5
        return cx, (CROP_H - 1 - cy if self.flipped else cy)


def tooth_crop(gray: np.ndarray, box, upper: bool) -> tuple[np.ndarray, CropFrame]:
    """The 64×128 crop (uint8, crown up) of one tooth box, edges padded by repetition."""
    import cv2

    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = max(x2 - x1, 4.0), max(y2 - y1, 4.0)
    x0, y0 = x1 - PAD_X * w, y1 - PAD_Y * h
    xe, ye = x2 + PAD_X * w, y2 + PAD_Y * h
    ix0, iy0, ix1, iy1 = int(np.floor(x0)), int(np.floor(y0)), int(np.ceil(xe)), int(np.ceil(ye))
    H, W = gray.shape
    pad = ((max(0, -iy0), max(0, iy1 - H)), (max(0, -ix0), max(0, ix1 - W)))
    region = gray[max(0, iy0):min(H, iy1), max(0, ix0):min(W, ix1)]
    if any(p for pp in pad for p in pp):
        region = np.pad(region, pad, mode="edge")
    crop = cv2.resize(region, (CROP_W, CROP_H), interpolation=cv2.INTER_AREA)
    frame = CropFrame(float(ix0), float(iy0), (ix1 - ix0) / CROP_W, (iy1 - iy0) / CROP_H, upper)
    return (crop[::-1].copy() if upper else crop), frame


@dataclass(frozen=True)
class ToothLandmarks:
    """One interproximal side of a tooth, in image pixels; None where not in view."""
    tooth_fdi: int
    side: str                         # "M" or "D"
    cej: tuple[float, float] | None
    crest: tuple[float, float] | None
    apex: tuple[float, float] | None


def mesial_is_right(fdi: int) -> bool:
    """On an image mounted as seen from the front, the patient's right quadrants (1, 4) are on
    the image left, so their mesial side faces image-right (as synth draws them)."""
    return fdi // 10 in (1, 4, 5, 8)


class LandmarkModel:
    """`landmarks.onnx` + `landmarks.json` (named so the detector registry does not list them)."""

    def __init__(self, directory: Path | None = None, threads: int = 1):
        import onnxruntime as ort

        from .model import session_options

        directory = directory or bundled_models_dir() / "landmarks"
        self.manifest = json.loads((directory / "landmarks.json").read_text(encoding="utf-8"))
        self.visible_threshold = float(self.manifest.get("visible_threshold", 0.5))
        self.session = ort.InferenceSession(str(directory / "landmarks.onnx"), sess_options=session_options(threads),
                                            providers=["CPUExecutionProvider"])

    def find(self, gray: np.ndarray, teeth: list[tuple[int, tuple]]) -> list[ToothLandmarks]:
        """teeth: (FDI, box) of the detected teeth of one image."""
        if not teeth:
            return []
        crops, frames = zip(*(tooth_crop(gray, box, fdi // 10 in (1, 2, 5, 6)) for fdi, box in teeth))
        batch = (np.stack(crops).astype(np.float32) / 255.0)[:, None]
        coords, visible = self.session.run(None, {"image": batch})
        out = []
        for (fdi, _), frame, xy, vis in zip(teeth, frames, coords, visible):
            xs, ys = frame.to_image(xy[:, 0] * CROP_W - 0.5, xy[:, 1] * CROP_H - 0.5)
            right_side = "M" if mesial_is_right(fdi) else "D"
            for col, side in ((1, right_side), (0, "D" if right_side == "M" else "M")):
                pts = [(float(xs[2 * p + col]), float(ys[2 * p + col])) if vis[2 * p + col] >= self.visible_threshold
                       else None for p in range(len(POINTS))]
                out.append(ToothLandmarks(fdi, side, *pts))
        return out
