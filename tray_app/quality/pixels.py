"""Checks on the pixels alone: exposure clipped at one end, a cone cut, motion blur.

All take the 8-bit display image (the intake cache) and work on a reduced copy: each check
costs a few tens of milliseconds on a 2-core PC, so the advice is there seconds after the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..image_noise import noise_sigma

F32 = np.float32


def reduced(img: np.ndarray, max_side: int) -> np.ndarray:
    """Block-averaged copy whose longer side is at most `max_side` (float32)."""
    f = max(1, math.ceil(max(img.shape) / max_side))
    h, w = img.shape[0] // f * f, img.shape[1] // f * f
    if f == 1:
        return img[:h, :w].astype(F32)
    # the f x f offsets summed as strided views: a 4-D mean over two axes cost ~2 ms per image
    acc = np.zeros((h // f, w // f), np.uint32 if img.dtype.kind in "ub" else F32)
    for dy in range(f):
        for dx in range(f):
            acc += img[dy:h:f, dx:w:f]
    return acc.astype(F32) / F32(f * f)


def central(img: np.ndarray, inset: float = 0.12) -> np.ndarray:
    """The image without its margins: a sensor's rounded outline and burnt-in text live there."""
    h, w = img.shape
    dy, dx = int(h * inset), int(w * inset)
    return img[dy:h - dy, dx:w - dx]


# -- exposure ---------------------------------------------------------------------------------
def clipped_fractions(img: np.ndarray) -> tuple[float, float]:
    """(dark, light): the fractions of the central image piled up at the black end (0-2) and at
    the white end (253-255) of the 8-bit range: detail there is lost, whatever window is set."""
    c = central(img)
    return float((c <= 2).mean()), float((c >= 253).mean())


# -- cone cut ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConeCut:
    area: float          # fraction of the image beyond the circular edge
    centroid: tuple[float, float]  # (x, y) of that region, as fractions of width and height
    radius: float        # of the edge, in image widths


def _erode(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:] &= mask[:-1]
    out[:-1] &= mask[1:]
    out[:, 1:] &= mask[:, :-1]
    out[:, :-1] &= mask[:, 1:]
    return out


def _circles(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (k, 2) and radii (k,) of the circles through point triples p (k, 3, 2)."""
    a, b, c = p[:, 0], p[:, 1], p[:, 2]
    d = 2 * (a[:, 0] * (b[:, 1] - c[:, 1]) + b[:, 0] * (c[:, 1] - a[:, 1]) + c[:, 0] * (a[:, 1] - b[:, 1]))
    d = np.where(np.abs(d) < 1e-6, np.nan, d)
    sa, sb, sc = (a ** 2).sum(1), (b ** 2).sum(1), (c ** 2).sum(1)
    ux = (sa * (b[:, 1] - c[:, 1]) + sb * (c[:, 1] - a[:, 1]) + sc * (a[:, 1] - b[:, 1])) / d
    uy = (sa * (c[:, 0] - b[:, 0]) + sb * (a[:, 0] - c[:, 0]) + sc * (b[:, 0] - a[:, 0])) / d
    centres = np.stack([ux, uy], 1)
    return centres, np.hypot(a[:, 0] - ux, a[:, 1] - uy)


def _outline_margins(white: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right): how deep a sensor outline's white fill reaches in from each side
    — the same depth along the middle of that side — or 0. Its straight edges are no cone cut,
    but a large enough circle fits a stretch of one."""
    out = []
    for side in (white, white[::-1], white.T, white.T[::-1]):
        n = side.shape[1]
        middle = side[:, int(0.2 * n):int(0.8 * n)]
        depth = np.where(middle.all(axis=0), middle.shape[0], np.argmin(middle, axis=0))
        inset = int(np.median(depth))
        flat = inset > 0 and np.mean(np.abs(depth - inset) <= 2) >= 0.8
        out.append(inset if flat else 0)
    return tuple(out)


def _local_triples(pts: np.ndarray, rng: np.random.Generator, n: int, near: tuple[float, float],
                   tries: int = 24) -> np.ndarray:
    """Up to n point triples (k, 3, 2) whose second and third points lie `near` the first: points
    of one edge lie together, so local triples find its circle far more often than random ones.
    Drawn for all n at once by rejection (candidates drawn at random, the first two near enough
    kept): a loop of n draws cost ~30 ms per image on the service's second core."""
    first = rng.integers(0, len(pts), n)
    cand = rng.integers(0, len(pts), (n, tries))
    d = np.hypot(*(pts[cand] - pts[first][:, None]).transpose(2, 0, 1))
    ok = (d >= near[0]) & (d <= near[1])
    # the second near candidate must be another point than the first near one
    a_at = np.argmax(ok, axis=1)
    a = cand[np.arange(n), a_at]
    ok2 = ok & (cand != a[:, None])
    ok2[np.arange(n), a_at] = False
    b_at = np.argmax(ok2, axis=1)
    keep = ok[np.arange(n), a_at] & ok2[np.arange(n), b_at]
    b = cand[np.arange(n), b_at]
    return pts[np.stack([first, a, b], 1)[keep]]


def cone_cut(img: np.ndarray, *, min_area: float, seed: int = 0) -> ConeCut | None:
    """An unexposed (saturated white) region beyond a circular edge, covering at least
    `min_area` of the image, or None.

    The edge of the white area is searched for a circle (RANSAC over its boundary pixels) the
    size of a collimator — 0.35 to 3 image sides; a sensor's rounded corners are far smaller and
    its straight edges are no circle — and everything beyond that circle must be white: a crown
    or a filling that happens to be curved never is."""
    small = reduced(img, 256)
    h, w = small.shape
    white = small >= max(float(small.max()) - 8.0, 200.0)
    if white.mean() < min_area:
        return None
    edge = white & ~_erode(white)
    top, bottom, left, right = (m + 2 for m in _outline_margins(white))
    edge[:top], edge[h - bottom:], edge[:, :left], edge[:, w - right:] = False, False, False, False
    ys, xs = np.nonzero(edge)
    if len(xs) < 0.25 * min(h, w):
        return None
    rng = np.random.default_rng(seed)
    pts = np.stack([xs, ys], 1).astype(F32)
    if len(pts) > 1000:
        pts = pts[rng.choice(len(pts), 1000, replace=False)]
    centres, radii = _circles(_local_triples(pts, rng, 1500, near=(8.0, 0.3 * max(h, w))))
    ok = np.isfinite(radii) & (radii > 0.35 * max(h, w)) & (radii < 3 * max(h, w))
    centres, radii = centres[ok], radii[ok]
    if not len(radii):
        return None
    # |distance - radius| < 1.5 as a band on squared distances: no square root over the
    # (candidates x points) matrix, the largest array of the check
    d2 = np.square(pts[None, :, 0] - centres[:, None, 0])
    d2 += np.square(pts[None, :, 1] - centres[:, None, 1])
    inner, outer = np.square(np.maximum(radii - 1.5, 0.0)), np.square(radii + 1.5)
    inliers = ((d2 > inner[:, None]) & (d2 < outer[:, None])).sum(1)
    yy, xx = np.mgrid[0:h, 0:w].astype(F32)
    bright = small >= max(float(small.max()) - 40.0, 180.0)  # a sensor outline's fill may be a little darker
    for i in np.argsort(-inliers)[:8]:
        if inliers[i] < 0.3 * min(h, w):
            break
        near = pts[np.abs(np.sqrt(d2[i]) - radii[i]) < 3.0]
        if not _curved(near):
            continue
        (cx, cy), r = _fit_circle(near) if len(near) >= 10 else (centres[i], radii[i])
        beyond = np.hypot(xx - cx, yy - cy) > r + 1.5
        area = float(beyond.mean())
        if area >= min_area and bright[beyond].mean() >= 0.9:
            return ConeCut(area, (float(xx[beyond].mean() / w), float(yy[beyond].mean() / h)), float(r / w))
    return None


def _curved(p: np.ndarray, sagitta: float = 3.0) -> bool:
    """The points bow away from their straight line by `sagitta` px or more: a sensor outline's
    straight edge also fits a big enough circle, a collimator's edge is visibly round."""
    if len(p) < 10:
        return False
    q = p - p.mean(axis=0)
    normal = np.linalg.svd(q, full_matrices=False)[2][1]
    off = q @ normal
    return float(off.max() - off.min()) >= sagitta


def _fit_circle(p: np.ndarray) -> tuple[tuple[float, float], float]:
    """Least-squares (algebraic) circle through points p (n, 2): the RANSAC circle made exact."""
    x, y = p[:, 0].astype(np.float64), p[:, 1].astype(np.float64)
    a = np.stack([x, y, np.ones_like(x)], 1)
    (bx, by, c), *_ = np.linalg.lstsq(a, x * x + y * y, rcond=None)
    cx, cy = bx / 2, by / 2
    return (cx, cy), float(np.sqrt(max(c + cx * cx + cy * cy, 0.0)))


# -- motion blur --------------------------------------------------------------------------------
def motion_blur_score(img: np.ndarray, *, near: int = 3, far: int = 24) -> float:
    """How sharp the image is in its least sharp direction: for each of eight directions, the
    edge energy between pixels `near` apart over that between pixels `far` apart, the pixel
    noise taken out of both. Movement during the exposure smears every edge along one
    direction, so there the near differences collapse (~(near/length)^2) while the far ones
    keep their size; a still image keeps fine differences in every direction."""
    a = img.astype(F32)
    h, w = a.shape
    noise = 2 * noise_sigma(img) ** 2
    m = far + 2
    core = a[m:h - m, m:w - m]
    ratios = []
    for k in range(8):
        t = k * math.pi / 8
        energy = []
        for d in (near, far):
            dx, dy = int(round(d * math.cos(t))), int(round(d * math.sin(t)))
            diff = core - a[m + dy:h - m + dy, m + dx:w - m + dx]
            # a dot product: no squared copy of the image, 16 times per image
            energy.append(max(float(np.vdot(diff, diff)) / diff.size - noise, 1e-3))
        ratios.append(energy[0] / energy[1])
    return min(ratios)
