"""Aligning a prior radiograph of the same view with the current one.

Method: OpenCV's ECC (enhanced correlation coefficient) maximisation, Euclidean motion
(rotation + shift: the same sensor at the same distance, so no scale), on the *gradient
magnitude* of each image after its own normalisation, coarse to fine. Why this and not
ORB/AKAZE matching + RANSAC: the two exposures differ by export style (sharpening, gamma,
equalisation), which changes intensities but not where the edges are; ECC's correlation is
invariant to gain and offset, and on gradients to the tone curve too, and it uses every
edge of the image (enamel, roots, crest) — feature detectors find few distinctive corners on
smooth tooth outlines and confuse neighbouring teeth, which look alike. ECC only converges
from nearby, so the start comes from phase correlation (shift) and a few trial angles.

`register(current, prior)` answers the prior→current 2×3 matrix and whether the result can be
trusted (the gradient correlation after alignment clears a floor).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

WORK_SIDE = 320                 # the long side the alignment works at (speed; enough for a few px)
MIN_CORRELATION = 0.55          # gradient correlation below this: not the same view, or failed
MAX_ANGLE_DEG = 20.0
TRIAL_ANGLES = (0.0, -6.0, 6.0, -12.0, 12.0)


@dataclass(frozen=True)
class Registration:
    ok: bool
    matrix: tuple[tuple[float, ...], ...]     # 2×3, prior pixel -> current pixel
    correlation: float
    angle_deg: float
    reason: str = ""

    def as_array(self) -> np.ndarray:
        return np.array(self.matrix, dtype=np.float64)

    def map_points(self, pts: np.ndarray) -> np.ndarray:
        m = self.as_array()
        pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        return pts @ m[:, :2].T + m[:, 2]


def _edges(gray: np.ndarray, scale: float, size: tuple[int, int]) -> np.ndarray:
    """Normalised gradient magnitude at the working scale (tone-curve independent)."""
    import cv2

    small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    small = cv2.GaussianBlur(small, (0, 0), 1.2)
    g = cv2.magnitude(cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3))
    g = np.sqrt(g)                                   # compress: saturated metal edges should not dominate
    return ((g - g.mean()) / (g.std() + 1e-6)).astype(np.float32)


def _start(cur: np.ndarray, pri: np.ndarray, angle: float) -> np.ndarray:
    """Euclidean start: turned by `angle` about the centre, shifted by phase correlation."""
    import cv2

    h, w = cur.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0).astype(np.float32)
    turned = cv2.warpAffine(pri, m, (w, h))
    win = cv2.createHanningWindow((w, h), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(turned, cur, win)
    m[:, 2] += (dx, dy)
    return m


def _correlation(cur: np.ndarray, warped: np.ndarray, mask: np.ndarray) -> float:
    a, b = cur[mask], warped[mask]
    if a.size < 100:
        return 0.0
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / (math.sqrt(float((a * a).sum() * (b * b).sum())) + 1e-9))


def register(current: np.ndarray, prior: np.ndarray) -> Registration:
    """Align prior (uint8, 2-D) onto current; the matrix maps prior pixels to current pixels."""
    import cv2

    H, W = current.shape
    scale = WORK_SIDE / max(H, W)
    size = (max(16, round(W * scale)), max(16, round(H * scale)))
    cur = _edges(current, scale, size)
    # the prior at the current's working scale (pixel spacing is the same sensor's; a prior of
    # another size is resized to the same working size, a small scale difference ECC tolerates)
    pri = _edges(prior, scale, size)
    ones = np.ones(pri.shape, np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 80, 1e-5)
    best = None
    for angle in TRIAL_ANGLES:
        m = _start(cur, pri, angle)
        try:
            _, m = cv2.findTransformECC(pri, cur, m, cv2.MOTION_EUCLIDEAN, criteria, None, 5)
        except cv2.error:
            continue
        warped = cv2.warpAffine(pri, m, size, flags=cv2.INTER_LINEAR)   # prior -> current frame
        seen = cv2.warpAffine(ones, m, size, flags=cv2.INTER_NEAREST) > 0.5
        corr = _correlation(cur, warped, seen)
        if best is None or corr > best[0]:
            best = (corr, m)
        if corr >= 0.8:
            break
    if best is None:
        return Registration(False, ((1, 0, 0), (0, 1, 0)), 0.0, 0.0, "the images could not be aligned")
    corr, m = best
    # back to full resolution: current = S^-1 · M · S_prior, with S the working-scale map
    sx_p, sy_p = size[0] / prior.shape[1], size[1] / prior.shape[0]
    full = np.array([[m[0, 0] * sx_p / scale, m[0, 1] * sy_p / scale, m[0, 2] / scale],
                     [m[1, 0] * sx_p / scale, m[1, 1] * sy_p / scale, m[1, 2] / scale]])
    angle = math.degrees(math.atan2(m[1, 0], m[0, 0]))
    ok = corr >= MIN_CORRELATION and abs(angle) <= MAX_ANGLE_DEG
    reason = "" if ok else ("the prior does not match this view well enough to compare" if corr < MIN_CORRELATION
                            else "the prior is turned too far to compare")
    return Registration(ok, tuple(tuple(float(v) for v in row) for row in full), round(corr, 3), round(angle, 2), reason)
