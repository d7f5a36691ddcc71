"""What happens to a radiograph between the sensor and the exported file, randomised.

Real exports differ far more in processing than in anatomy (radiograph-appearance.md:
"the same anatomy looks very different between vendors"), so a detector trained on one
clean look does not transfer. Each image gets a *style family* and random parameters
within it; training holds one family out to measure how well what it learnt transfers
to a look it never saw (models/training, docs/model.md).

Families:
* ``clean``        mild processing, fine noise
* ``vendor_sharp`` strong unsharp masking with halos, some noise reduction
* ``equalised``    histogram equalisation and local contrast (held out in training)
* ``psp_plate``    phosphor plate: coarser, noisier, scratches, dust, lower contrast
* ``jpeg_export``  8-bit export through JPEG at low to medium quality

On top of any family: rounded sensor outline with a saturated outside, burnt-in text and
side markers, the bite tab between the arches, cropped edges.

Everything works on a float image in [0, 1] (bright = radiopaque) and draws from the
generator passed in, so a sample stays deterministic per seed.
"""

from __future__ import annotations

import io
import math

import numpy as np

from .pixel_filters import _blur, _blur_big

F32 = np.float32
FAMILIES = ("clean", "vendor_sharp", "equalised", "psp_plate", "jpeg_export")
HELD_OUT_FAMILIES = ("equalised",)
_WEIGHTS = {"clean": 0.2, "vendor_sharp": 0.25, "equalised": 0.2, "psp_plate": 0.15, "jpeg_export": 0.2}
_MARKER_WORDS = ("R", "L", "DX", "PA", "BW", "PAN", "mm", "kV", "mAs", "ID", "Dr")


def draw_family(seed: int, kind_index: int) -> str:
    """The style family of a sample, from its own stream (so it can be forced or excluded
    without changing the anatomy)."""
    rng = np.random.default_rng([seed & 0xFFFFFFFF, kind_index, 99])
    return str(rng.choice(FAMILIES, p=[_WEIGHTS[f] for f in FAMILIES]))


def _box_blur_small(img: np.ndarray, factor: int) -> np.ndarray:
    """Down- then up-sample (coarser detector pixels / a blurry plate scanner)."""
    from PIL import Image

    h, w = img.shape
    small = Image.fromarray(np.ascontiguousarray(img, F32), mode="F").resize((max(1, w // factor), max(1, h // factor)), Image.BILINEAR)
    return np.asarray(small.resize((w, h), Image.BILINEAR), F32)


def _gauss(img: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < 0.3:
        return img
    return _blur(img, sigma) if sigma <= 1.5 else _blur_big(img, sigma, 2 if sigma < 6 else 4)


def _equalise(img: np.ndarray, strength: float) -> np.ndarray:
    hist, edges = np.histogram(img[::2, ::2], bins=256, range=(0.0, 1.0))
    cdf = np.cumsum(hist).astype(np.float64)
    cdf /= max(cdf[-1], 1)
    eq = np.interp(img, edges[1:], cdf).astype(F32)
    return (1 - strength) * img + strength * eq


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8), mode="L").save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf), F32) / 255.0


def _scratches_and_dust(rng, img: np.ndarray) -> np.ndarray:
    from PIL import Image, ImageDraw

    h, w = img.shape
    mask = Image.new("F", (w, h), 0.0)
    d = ImageDraw.Draw(mask)
    for _ in range(int(rng.integers(1, 7))):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        ang, ln = rng.uniform(0, math.pi), rng.uniform(0.1, 0.9) * max(w, h)
        d.line([(x0, y0), (x0 + ln * math.cos(ang), y0 + ln * math.sin(ang))],
               fill=float(rng.choice([-1.0, 1.0]) * rng.uniform(0.15, 0.5)), width=int(rng.integers(1, 3)))
    for _ in range(int(rng.integers(3, 40))):
        x0, y0, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.7, 2.5)
        d.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=float(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 0.6)))
    return img + np.asarray(mask, F32)


def _burnt_in_text(rng, img: np.ndarray, kind: str) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    h, w = img.shape
    layer = Image.new("F", (w, h), -1.0)
    d = ImageDraw.Draw(layer)
    size = int(max(10, min(h, w) * rng.uniform(0.025, 0.06)))
    try:
        font = ImageFont.load_default(size=size)
    except (TypeError, OSError):       # Pillow without FreeType: the fixed bitmap font
        font = ImageFont.load_default()
    value = float(rng.choice([0.0, 1.0]))
    for _ in range(int(rng.integers(1, 4))):
        words = " ".join(str(rng.choice(_MARKER_WORDS)) for _ in range(int(rng.integers(1, 3))))
        if rng.random() < 0.5:
            words += f" {int(rng.integers(1, 31)):02d}.{int(rng.integers(1, 13)):02d}.{int(rng.integers(2015, 2027))}"
        edge_y = rng.choice([rng.uniform(0.01, 0.08), rng.uniform(0.9, 0.96)]) * h
        d.text((rng.uniform(0.01, 0.7) * w, edge_y), words, fill=value, font=font)
    if kind == "panoramic" and rng.random() < 0.5:     # ruler scale along one edge
        y = rng.uniform(0.02, 0.06) * h
        x0 = rng.uniform(0.02, 0.1) * w
        step = rng.uniform(0.008, 0.015) * w
        for i in range(int(rng.integers(10, 30))):
            d.line([(x0 + i * step, y), (x0 + i * step, y + (8 if i % 5 == 0 else 4))], fill=value, width=2)
    a = np.asarray(layer, F32)
    return np.where(a >= 0, a, img)


def _sensor_outline(rng, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A rounded-rectangle sensor/plate outline; outside saturated white or black.
    Returns the image and the mask of what is inside (for dropping hidden objects)."""
    h, w = img.shape
    inset_x = int(rng.uniform(0.0, 0.05) * w)
    inset_y = int(rng.uniform(0.0, 0.05) * h)
    r = rng.uniform(0.08, 0.22) * min(h, w)
    yy = np.arange(h, dtype=F32)[:, None]
    xx = np.arange(w, dtype=F32)[None, :]
    x0, x1, y0, y1 = inset_x + r, w - 1 - inset_x - r, inset_y + r, h - 1 - inset_y - r
    dx = np.maximum(np.maximum(x0 - xx, xx - x1), 0)
    dy = np.maximum(np.maximum(y0 - yy, yy - y1), 0)
    inside = (dx * dx + dy * dy) <= r * r
    fill = F32(1.0 if rng.random() < 0.55 else 0.0)
    return np.where(inside, img, fill), inside


def _bite_tab(rng, img: np.ndarray, y_occ: float, ppm: float) -> np.ndarray:
    h, w = img.shape
    y = np.arange(h, dtype=F32)[:, None]
    half = rng.uniform(0.6, 1.6) * ppm
    band = np.clip(1 - np.abs(y - y_occ - rng.uniform(-0.5, 0.5) * ppm) / half, 0, 1) ** 0.5
    x = np.arange(w, dtype=F32)[None, :]
    xa, xb = sorted(float(v) for v in rng.uniform(0, 1, 2) * w)
    xa, xb = min(xa, 0.3 * w), max(xb, 0.7 * w)
    band = band * np.clip(np.minimum(x - xa, xb - x) / (2 * ppm), 0, 1)
    return (img + F32(rng.uniform(-0.12, 0.1)) * band).astype(F32)


def apply(rng, geo, img: np.ndarray, kind: str, family: str, ppm: float, y_occ: float | None = None):
    """Process one float image in [0, 1]. `rng` draws the family's processing, `geo` what
    hides or cuts anatomy (outline, text, crop, bite tab), so forcing another family keeps
    the ground truth. Returns (image, inside mask or None, crop box (x0, y0, x1, y1))."""
    img = img.astype(F32, copy=False)
    h, w = img.shape
    scale = ppm / 20.0                                   # sizes below are for ~20 px/mm
    if kind == "bitewing" and y_occ is not None and geo.random() < 0.5:
        img = _bite_tab(geo, img, y_occ, ppm)
    if family == "clean":
        amt = rng.uniform(0.0, 0.5)
        if amt > 0.05:
            img = img + amt * (img - _gauss(img, rng.uniform(2, 6) * scale + 1))
    elif family == "vendor_sharp":
        if rng.random() < 0.5:                           # noise reduction first
            img = _gauss(img, rng.uniform(0.5, 1.2))
        img = img + rng.uniform(0.8, 2.2) * (img - _gauss(img, rng.uniform(2, 8) * scale + 1))
        if rng.random() < 0.5:
            img = img + rng.uniform(0.3, 1.0) * (img - _gauss(img, 1.0))
    elif family == "equalised":
        img = _equalise(np.clip(img, 0, 1), rng.uniform(0.5, 1.0))
        if rng.random() < 0.7:
            img = img + rng.uniform(0.3, 1.2) * (img - _gauss(img, rng.uniform(10, 30) * scale + 2))
    elif family == "psp_plate":
        img = _box_blur_small(img, int(rng.integers(2, 4))) if rng.random() < 0.6 else _gauss(img, rng.uniform(0.8, 1.8))
        lo, hi = rng.uniform(0.05, 0.2), rng.uniform(0.75, 0.95)
        img = lo + img * (hi - lo)
        img = img + rng.normal(0, rng.uniform(0.015, 0.045), img.shape).astype(F32)
        img = _scratches_and_dust(rng, img)
    elif family == "jpeg_export":
        if rng.random() < 0.5:
            img = img + rng.uniform(0.3, 1.2) * (img - _gauss(img, rng.uniform(2, 6) * scale + 1))
        g = rng.uniform(0.7, 1.4)
        img = np.clip(img, 0, 1) ** g
    img = np.clip(img, 0, 1)
    inside = None
    if kind != "panoramic" and geo.random() < 0.5:
        img, inside = _sensor_outline(geo, img)
    if geo.random() < 0.35:
        img = _burnt_in_text(geo, img, kind)
    if family == "jpeg_export":
        img = _jpeg(img, int(rng.integers(25, 90)))
    elif rng.random() < 0.15:
        img = _jpeg(img, int(rng.integers(60, 95)))
    crop = (0, 0, w, h)
    if geo.random() < 0.35:
        cx0, cx1 = int(geo.uniform(0, 0.08) * w), int(geo.uniform(0, 0.08) * w)
        cy0, cy1 = int(geo.uniform(0, 0.08) * h), int(geo.uniform(0, 0.08) * h)
        crop = (cx0, cy0, w - cx1, h - cy1)
    return np.clip(img, 0, 1).astype(F32), inside, crop
