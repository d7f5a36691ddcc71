"""The change check: a small model (`models/change/`, trained by `models/training/change_check.py`
on generated prior/current pairs whose true change is known) that says, for one change the rules
of `clinical/change.py` claim, or one bone level `clinical/bone_level.py` reads deeper, how likely
it is a change of the mouth rather than of the export or the detector's flicker between two
exposures.

It sees the claim's box and the area around it in both images, the prior aligned onto the current
and its tones matched to the current's (as `clinical/pixel_evidence.py` does), where either image
is clipped, and a few numbers about the claim (its kind, label, how sure the detector was, its pixel
evidence). Training and the product cut the input with the same `claim_windows`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..config import bundled_models_dir

CROP = 32                 # px: the window is resized to CROP × CROP
WINDOW = 2.0              # the window is the claim's box scaled by this around its centre
MIN_HALF = 12.0           # px: the least half-side of a window (a small lesion still shows its neighbourhood)
DEEPER = "deeper"         # a bone-level row read deeper than the prior's (`clinical/bone_level.bone_change`)
CHANGES = ("new", "gone", "grown", DEEPER)
TONE_QUANTILES = 17
CHANNELS = 4             # current, aligned prior, seen by both, clipped in either


def _window(img: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """img[y0:y1, x0:x1] with what lies beyond the image as 0."""
    h, w = img.shape
    out = np.zeros((y1 - y0, x1 - x0), np.float32)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
    return out


def claim_windows(current: np.ndarray, prior_aligned: np.ndarray, seen: np.ndarray):
    """box -> (CHANNELS, CROP, CROP) float32 for an image and its aligned prior: in a window around
    the box, the current image, the prior, the pixels both show and the pixels either clipped.
    Tones are offsets from the current ring's median in units of its spread, the prior's mapped onto
    the current's by quantiles of the ring (the window outside the box, unclipped) and beyond them
    by the whole image's curve (as `clinical/pixel_evidence.py` does): a lesion darker than all its
    ring stays darker. The clipping plane says where a tone only says "beyond" (an export that
    clipped a lesion black in one image and not in the other)."""
    import cv2

    from ..clinical.pixel_evidence import clipped, mapped_prior, whole_image_tone

    cur_hi, cur_lo = clipped(current)
    pri_hi, pri_lo = clipped(prior_aligned)
    clip_all = (cur_hi | cur_lo | pri_hi | pri_lo) & seen
    whole_tone = whole_image_tone(current.astype(np.float32), prior_aligned.astype(np.float32), seen & ~clip_all)

    def window(box) -> np.ndarray:
        x1, y1, x2, y2 = (float(v) for v in box)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        hw, hh = max(MIN_HALF, WINDOW * (x2 - x1) / 2), max(MIN_HALF, WINDOW * (y2 - y1) / 2)
        x0, y0, xe, ye = int(np.floor(cx - hw)), int(np.floor(cy - hh)), int(np.ceil(cx + hw)), int(np.ceil(cy + hh))
        cur, pri = _window(current, x0, y0, xe, ye), _window(prior_aligned, x0, y0, xe, ye)
        mask = _window(seen.astype(np.float32), x0, y0, xe, ye) > 0.5
        clip = (_window(clip_all.astype(np.float32), x0, y0, xe, ye) > 0.5) & mask
        inner = np.zeros(mask.shape, bool)
        inner[int(max(0, y1 - y0)):int(max(0, y2 - y0)), int(max(0, x1 - x0)):int(max(0, x2 - x0))] = True
        ring = next((r for r in (mask & ~inner & ~clip, mask & ~inner, mask) if r.sum() >= 12), None)
        if ring is None:
            return np.zeros((CHANNELS, CROP, CROP), np.float32)
        pri = mapped_prior(pri, pri[ring], cur[ring], whole_tone, TONE_QUANTILES)
        mid = float(np.median(cur[ring]))
        spread = float(np.subtract(*np.quantile(cur[ring], [0.75, 0.25]))) + 8.0
        planes = [np.where(mask, (cur - mid) / spread, 0.0), np.where(mask, (pri - mid) / spread, 0.0), mask, clip]
        return np.stack([cv2.resize(np.clip(p, -6, 6).astype(np.float32), (CROP, CROP), interpolation=cv2.INTER_AREA)
                         for p in planes])

    return window


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

    def scored(self, claims: list[dict], current: np.ndarray, prior_aligned: np.ndarray, seen: np.ndarray,
               alike, thresholds: dict[str, float]) -> np.ndarray:
        """The odds per claim; `alike(box)` as in `clinical/pixel_evidence.py`."""
        if not claims:
            return np.zeros(0, np.float32)
        size, window = current.shape[::-1], claim_windows(current, prior_aligned, seen)
        return self.odds(np.stack([window(c["box"]) for c in claims]),
                         np.stack([claim_numbers(c, size, self.labels, thresholds, alike(c["box"])) for c in claims]))

    def kept(self, claims: list[dict], *pair) -> list[dict]:
        """The claims the model finds likely enough to be changes of the mouth (`threshold` in its
        manifest), each with its `odds`; `pair` as `scored` takes it."""
        odds = self.scored(claims, *pair)
        return [c | {"odds": round(float(p), 3)} for c, p in zip(claims, odds) if p >= self.threshold]

    def confirmed(self, rows: list[dict], *pair) -> list[dict]:
        """Bone-level rows (`clinical/bone_level.bone_change`), a progressing one left `unconfirmed`
        where the model finds the bone between its crests unlikely to have receded."""
        asked = [r for r in rows if r.get("progressing") and r.get("box")]
        odds = self.scored([bone_claim(r) for r in asked], *pair)
        for row, p in zip(asked, odds):
            row["odds"] = round(float(p), 3)
            if p < self.threshold:
                row["progressing"], row["unconfirmed"] = False, True
        return rows


def bone_claim(row: dict) -> dict:
    """The claim a bone-level row with a box (the band between its two crests) makes, as the check sees it."""
    return {"change": DEEPER, "label": "bone_loss", "box": row["box"], "tooth_fdi": row["tooth_fdi"],
            "evidence": row.get("evidence", 0.0)}
