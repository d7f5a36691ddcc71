"""Image type from the pixels, for raster exports with no header and no telling file name.

A panoramic is wide and mirror-symmetric about the midline (both jaws, both rami), which
no intra-oral image is; a JPEG export of a real 2359×1329 panoramic (aspect 1.78) fell
through the shape-only rule and was not analysed.
"""

from __future__ import annotations

import numpy as np

PANO_MIN_ASPECT = 1.55      # a size-1 intra-oral sensor is 24×37 mm (1.54)
PANO_MIN_LONG_SIDE = 1000
PANO_MIN_SYMMETRY = 0.35       # synthetic panoramics 0.54-0.79; intra-orals rarely pass the aspect anyway


def mirror_symmetry(pixels: np.ndarray) -> float:
    """Correlation of the image with its left-right mirror, on a coarse copy (0 = none)."""
    h, w = pixels.shape[:2]
    by, bx = max(1, h // 48), max(1, w // 96)
    small = pixels[: h // by * by, : w // bx * bx].astype(np.float32)
    small = small.reshape(h // by, by, w // bx, bx).mean(axis=(1, 3))
    a = small - small.mean()
    b = a[:, ::-1]
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def panoramic_from_pixels(pixels: np.ndarray) -> tuple[float, str] | None:
    """(confidence, rule) when the pixels look like a panoramic, else None."""
    if pixels is None or pixels.ndim != 2:
        return None
    h, w = pixels.shape
    if w < h * PANO_MIN_ASPECT or w < PANO_MIN_LONG_SIDE:
        return None
    sym = mirror_symmetry(pixels)
    if sym < PANO_MIN_SYMMETRY:
        return None
    return min(0.85, 0.65 + 0.3 * (sym - PANO_MIN_SYMMETRY)), f"wide, mirror-symmetric image ({w}×{h}, symmetry {sym:.2f})"
