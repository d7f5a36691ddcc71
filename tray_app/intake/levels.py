"""Stored pixel values → 8-bit display levels, the image the model and the review window see.

For DICOM (PS3.3 / dicom-dental.md §4): Modality LUT, then VOI LUT or window, then
MONOCHROME1 inversion; without a window the robust data range is used. 8/16-bit images go
through one look-up table, so the only full-size array made is the uint8 result.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np


def dicom_to_uint8(arr: np.ndarray, ds, *, color: bool) -> np.ndarray:
    if color:
        return np.clip(arr, 0, 255, out=arr if arr.dtype.kind == "f" else None).astype(np.uint8)
    return to_uint8(arr, lambda values, sample: _dicom_levels(values, sample, ds))


def _dicom_levels(values: np.ndarray, sample: np.ndarray, ds) -> np.ndarray:
    """Stored values → 0..1 display levels: Modality LUT, then VOI LUT or window (else the robust
    range of `sample`, a thinned copy of the image), then MONOCHROME1 inversion."""
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        def modality(a: np.ndarray) -> np.ndarray:
            try:
                return np.asarray(apply_modality_lut(a, ds), dtype=np.float32)
            except Exception:  # a broken LUT must not lose the image: fall back to raw values
                return a.astype(np.float32)

        data = modality(values)
        if "VOILUTSequence" in ds:
            try:
                out = stretch(np.asarray(apply_voi_lut(values, ds), dtype=np.float32), robust=False)
            except Exception:
                out = stretch(data, ref=modality(sample))
        elif "WindowCenter" in ds and "WindowWidth" in ds:
            try:
                c, w = _first(ds.WindowCenter), _first(ds.WindowWidth)
                if w > 0:
                    data -= c - w / 2
                    data /= max(w, 1e-6)
                    out = np.clip(data, 0.0, 1.0, out=data)
                else:
                    out = stretch(data, ref=modality(sample))
            except (TypeError, ValueError):
                out = stretch(data, ref=modality(sample))
        else:
            out = stretch(data, ref=modality(sample))
    if str(getattr(ds, "PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        out = np.subtract(1.0, out, out=out)
    return out


def to_uint8(arr: np.ndarray, levels: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """An image as 8-bit display levels; `levels(values, sample)` maps values to 0..1 floats
    (`sample` is a thinned copy of the image for data-driven ranges). 8/16-bit images go through
    a look-up table over their value range, so the only full-size array made is the uint8
    result: a 16-bit 10900×10900 TIFF peaked at 2.3 GiB of float64 copies before."""
    sample = arr[:: max(1, arr.shape[0] // 512), :: max(1, arr.shape[1] // 512)]
    if arr.dtype.kind in "ui" and arr.dtype.itemsize <= 2:
        unsigned = np.dtype(f"u{arr.dtype.itemsize}")
        values = np.arange(int(arr.min()), int(arr.max()) + 1).astype(arr.dtype)
        table = np.zeros(1 << (8 * arr.dtype.itemsize), np.uint8)
        table[values.view(unsigned)] = _levels_to_bytes(levels(values, sample))
        return table[arr.view(unsigned)]
    return _levels_to_bytes(levels(arr.astype(np.float32), sample))  # 32-bit or float data


def _levels_to_bytes(unit: np.ndarray) -> np.ndarray:
    unit = np.asarray(unit, dtype=np.float32)
    unit *= 255
    return np.rint(unit, out=unit).astype(np.uint8)


def _first(value) -> float:
    try:
        return float(value[0])
    except TypeError:
        return float(value)


def stretch(data: np.ndarray, robust: bool = True, ref: np.ndarray | None = None) -> np.ndarray:
    """Scale float `data` in place to 0..1 using the range of `ref` (default: the data itself);
    robust percentiles ignore dead/hot pixels."""
    ref = data if ref is None else ref
    if robust and ref.size > 64:
        sample = ref[:: max(1, ref.shape[0] // 512), :: max(1, ref.shape[1] // 512)] if ref.ndim == 2 else ref
        lo, hi = (float(v) for v in np.percentile(sample, [0.1, 99.9]))
    else:
        lo, hi = float(ref.min()), float(ref.max())
    if hi <= lo:
        data[...] = 0
        return data
    data -= lo
    data /= hi - lo
    return np.clip(data, 0.0, 1.0, out=data)


def luminance(rgb: np.ndarray) -> np.ndarray:
    out = rgb[..., 0].astype(np.float32)
    out *= 0.299
    out += rgb[..., 1].astype(np.float32) * np.float32(0.587)
    out += rgb[..., 2].astype(np.float32) * np.float32(0.114)
    return out
