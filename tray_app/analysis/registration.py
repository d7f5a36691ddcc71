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

WORK_SIDE = 320                 # the long side the alignment ends at (speed; enough for a few px)
COARSE_SIDE = 160               # where the trial starts are compared
MIN_CORRELATION = 0.42          # gradient correlation after alignment: same view 0.57-0.99, other views <= 0.26 (generated pairs)
MAX_ANGLE_DEG = 20.0
TRIAL_ANGLES = (0.0, -3.0, 3.0, -6.0, 6.0, -9.0, 9.0, -12.0, 12.0)


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


def _ecc(cur: np.ndarray, pri: np.ndarray, m: np.ndarray, iterations: int):
    """ECC from `m`; (correlation of the gradients after alignment, matrix), or None."""
    import cv2

    h, w = cur.shape
    try:
        _, m = cv2.findTransformECC(pri, cur, m.copy(), cv2.MOTION_EUCLIDEAN,
                                    (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-5), None, 5)
    except cv2.error:
        return None
    warped = cv2.warpAffine(pri, m, (w, h), flags=cv2.INTER_LINEAR)          # prior -> current frame
    seen = cv2.warpAffine(np.ones(pri.shape, np.float32), m, (w, h), flags=cv2.INTER_NEAREST) > 0.5
    return _correlation(cur, warped, seen), m


def register(current: np.ndarray, prior: np.ndarray) -> Registration:
    """Align prior (uint8, 2-D) onto current; the matrix maps prior pixels to current pixels."""
    H, W = current.shape
    scale = WORK_SIDE / max(H, W)
    size = (max(16, round(W * scale)), max(16, round(H * scale)))
    # the prior at the current's working size (the same sensor's pixel spacing; a prior of another
    # size is resized to it, a small scale difference ECC tolerates)
    cur, pri = _edges(current, scale, size), _edges(prior, scale, size)
    k = COARSE_SIDE / WORK_SIDE
    small = (max(16, round(size[0] * k)), max(16, round(size[1] * k)))
    cur_s, pri_s = _edges(current, scale * k, small), _edges(prior, scale * k, small)
    # every trial start at the coarse size (cheap), then the best few refined at the working size
    trials = []
    for angle in TRIAL_ANGLES:
        found = _ecc(cur_s, pri_s, _start(cur_s, pri_s, angle), 60)
        if found is not None:
            trials.append(found)
    best = None
    for _, m in sorted(trials, key=lambda t: -t[0])[:3]:
        m = m.copy()
        m[:, 2] /= k
        found = _ecc(cur, pri, m, 80)
        if found is not None and (best is None or found[0] > best[0]):
            best = found
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


def warp_onto(prior: np.ndarray, matrix, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The prior turned onto the current image's pixels (shape (h, w)), and where it has pixels."""
    import cv2

    h, w = shape[:2]
    m = np.asarray(matrix, dtype=np.float64)
    aligned = cv2.warpAffine(prior, m, (w, h), flags=cv2.INTER_LINEAR)
    seen = cv2.warpAffine(np.ones(prior.shape[:2], np.uint8), m, (w, h), flags=cv2.INTER_NEAREST) > 0
    return aligned, seen
