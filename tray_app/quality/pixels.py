"""Checks on the pixels alone: exposure clipped at one end, a cone cut, motion blur.

All take the 8-bit display image (the intake cache) and work on a reduced copy: each check
costs a few tens of milliseconds on a 2-core PC, so the advice is there seconds after the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..demo.pixel_filters import noise_sigma

F32 = np.float32


def reduced(img: np.ndarray, max_side: int) -> np.ndarray:
    """Block-averaged copy whose longer side is at most `max_side` (float32)."""
    f = max(1, math.ceil(max(img.shape) / max_side))
    h, w = img.shape[0] // f * f, img.shape[1] // f * f
    return img[:h, :w].astype(F32).reshape(h // f, f, w // f, f).mean(axis=(1, 3))


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
    edge[:2], edge[-2:], edge[:, :2], edge[:, -2:] = False, False, False, False
    ys, xs = np.nonzero(edge)
    if len(xs) < 0.25 * min(h, w):
        return None
    rng = np.random.default_rng(seed)
    pts = np.stack([xs, ys], 1).astype(F32)
    if len(pts) > 1500:
        pts = pts[rng.choice(len(pts), 1500, replace=False)]
    centres, radii = _circles(pts[rng.integers(0, len(pts), (600, 3))])
    ok = np.isfinite(radii) & (radii > 0.35 * max(h, w)) & (radii < 3 * max(h, w))
    centres, radii = centres[ok], radii[ok]
    if not len(radii):
        return None
    dist = np.hypot(pts[None, :, 0] - centres[:, None, 0], pts[None, :, 1] - centres[:, None, 1])
    inliers = (np.abs(dist - radii[:, None]) < 1.5).sum(1)
    yy, xx = np.mgrid[0:h, 0:w].astype(F32)
    for i in np.argsort(-inliers)[:8]:
        if inliers[i] < 0.3 * min(h, w):
            break
        (cx, cy), r = centres[i], radii[i]
        beyond = np.hypot(xx - cx, yy - cy) > r + 1.5
        area = float(beyond.mean())
        if area >= min_area and white[beyond].mean() >= 0.9:
            return ConeCut(area, (float(xx[beyond].mean() / w), float(yy[beyond].mean() / h)), float(r / w))
    return None


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
            shifted = a[m + dy:h - m + dy, m + dx:w - m + dx]
            energy.append(max(float(((core - shifted) ** 2).mean()) - noise, 1e-3))
        ratios.append(energy[0] / energy[1])
    return min(ratios)
