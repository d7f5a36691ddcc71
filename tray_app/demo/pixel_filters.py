"""Cheap pure-numpy filters for the synthetic radiograph generator and its export chain."""

from __future__ import annotations

import numpy as np

F32 = np.float32


def _binomial(a, axis):
    """One [1, 2, 1] / 4 pass (variance 0.5 px^2) along an axis, edge clamped."""
    a = np.moveaxis(a, axis, 0)
    out = np.empty_like(a)
    out[1:-1] = a[:-2] + a[2:]
    out[1:-1] += 2 * a[1:-1]
    out[0] = 3 * a[0] + a[1]
    out[-1] = 3 * a[-1] + a[-2]
    out *= F32(0.25)
    return np.moveaxis(out, 0, axis)


def _blur(img, sigma):
    """Gaussian-like blur as repeated binomial passes (cheaper than a tap loop; pure numpy)."""
    n = int(round(2 * sigma * sigma))
    if sigma < 0.25 or n < 1:
        return img
    out = img.astype(F32, copy=False)
    for _ in range(n):
        out = _binomial(_binomial(out, 0), 1)
    return out


def _up2(a, axis):
    """Linear 2x upsampling along one axis (half-pixel centred, edge clamped)."""
    a = np.moveaxis(a, axis, 0)
    prev = np.concatenate([a[:1], a[:-1]]); nxt = np.concatenate([a[1:], a[-1:]])
    out = np.empty((2 * a.shape[0],) + a.shape[1:], F32)
    out[0::2] = 0.75 * a + 0.25 * prev
    out[1::2] = 0.75 * a + 0.25 * nxt
    return np.moveaxis(out, 0, axis)


def _upsample(small, H, W):
    """Smooth upsampling of a small field to at least (H, W), cropped (noise fields only)."""
    a = np.asarray(small, F32)
    while a.shape[0] < H:
        a = _up2(a, 0)
    while a.shape[1] < W:
        a = _up2(a, 1)
    return np.ascontiguousarray(a[:H, :W])


def _blur_big(img, sigma, factor=4):
    """Large blur on a downsampled copy (trend/unsharp masks need no precision)."""
    H, W = img.shape
    h, w = -(-H // factor), -(-W // factor)
    p = np.pad(img, ((0, h * factor - H), (0, w * factor - W)), mode="edge")
    small = p.reshape(h, factor, w, factor).mean(axis=(1, 3))
    return _upsample(_blur(small, sigma / factor), H, W)
