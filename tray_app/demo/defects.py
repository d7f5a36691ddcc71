"""Non-diagnostic radiographs on purpose: the errors a retake fixes, applied to generator images.

The image-quality checks (tray_app/quality/) are measured on generated images with and without
each defect (tests/quality/, `python -m tray_app.quality.measure`). Each function takes the 8-bit
display image (what intake caches) and a seeded generator and returns a new image; the defects
follow radiograph-appearance.md ("Common artefacts and errors"):

* cone cut — the collimator missed part of the sensor: a region beyond a circular edge got no
  exposure and shows saturated white (a digital sensor shows unexposed areas white);
* over-/under-exposure — the histogram pushed into black / white and clipped there;
* motion blur — the patient moved: a linear blur, with the sensor's noise on top (noise comes
  after the movement);
* flipped / upside down — the image mirrored or turned against its mount position;
* apices cut off — a periapical placed too shallow: the root tips fall outside the image;
* overlapping contacts — a horizontal angulation error projects adjacent crowns over each
  other (made by the generator itself, `synth.contact_overlap_mm`);
* a missing bitewing — one view of a bitewing set never taken.
"""

from __future__ import annotations

import math

import numpy as np

from . import synth
from ..image_noise import noise_sigma

F32 = np.float32
BITEWING_SET = ("right molar", "right premolar", "left premolar", "left molar")


def cone_cut(img: np.ndarray, rng: np.random.Generator, *, area: tuple[float, float] = (0.06, 0.3)) -> np.ndarray:
    """White (unexposed) beyond a circle of about the image's size, covering a fraction `area`
    of the image on one side or corner."""
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(F32)
    want = rng.uniform(*area)
    radius = rng.uniform(0.6, 1.1) * max(h, w)
    ang = rng.uniform(0, 2 * math.pi)  # from the image centre toward the cut side
    ux, uy = math.cos(ang), math.sin(ang)
    lo, hi = -radius, radius + max(h, w)  # centre distance from the image centre, bisected for the area
    for _ in range(30):
        mid = (lo + hi) / 2
        cx, cy = w / 2 - ux * mid, h / 2 - uy * mid
        frac = float(((xx - cx) ** 2 + (yy - cy) ** 2 > radius * radius).mean())
        lo, hi = (lo, mid) if frac > want else (mid, hi)
    dist = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) - radius
    edge = np.clip(dist / rng.uniform(0.8, 3.0) + 0.5, 0, 1)  # a short penumbra
    white = 255 - np.abs(rng.normal(0, 1.0, img.shape)).astype(F32)
    return np.clip(img * (1 - edge) + white * edge, 0, 255).round().astype(np.uint8)


def exposure(img: np.ndarray, rng: np.random.Generator, direction: str,
             *, clipped: tuple[float, float] = (0.35, 0.65)) -> np.ndarray:
    """'over': too dark, the darkest `clipped` fraction of the image crushed to black;
    'under': too light, the lightest fraction washed out to white."""
    a = img.astype(F32)
    f = rng.uniform(*clipped)
    lo, hi = np.percentile(a, [f * 100, 99.5]) if direction == "over" else np.percentile(a, [0.5, 100 - f * 100])
    return np.clip((a - lo) * 255 / max(hi - lo, 1.0), 0, 255).round().astype(np.uint8)


def motion_blur(img: np.ndarray, rng: np.random.Generator, *, length_mm: tuple[float, float] = (0.6, 1.5),
                pixel_mm: float = 0.05) -> np.ndarray:
    """A straight movement of `length_mm` in a random direction during the exposure."""
    length = rng.uniform(*length_mm) / pixel_mm
    ang = rng.uniform(0, math.pi)
    steps = max(2, int(round(length)))
    a = img.astype(F32)
    out = np.zeros_like(a)
    for i in range(steps):
        s = (i / (steps - 1) - 0.5) * length
        dx, dy = int(round(s * math.cos(ang))), int(round(s * math.sin(ang)))
        out += np.roll(a, (dy, dx), axis=(0, 1))
    out /= steps
    sigma = noise_sigma(img)
    out += rng.normal(0, sigma, out.shape).astype(F32)
    return np.clip(out, 0, 255).round().astype(np.uint8)


def flip(img: np.ndarray, how: str) -> np.ndarray:
    """'lr' mirrored (a plate read backwards), 'ud' upside down, 'rot180' turned round."""
    return np.ascontiguousarray({"lr": img[:, ::-1], "ud": img[::-1], "rot180": img[::-1, ::-1]}[how])


def apical_side(sample: synth.Sample) -> str:
    """'top' for a maxillary periapical (roots up), 'bottom' for a mandibular one."""
    upper = sum(1 for t in sample.teeth_fdi if t // 10 in (1, 2)) >= len(sample.teeth_fdi) / 2
    return "top" if upper else "bottom"


def root_margin_px(sample: synth.Sample) -> float:
    """Pixels between the apical edge and the deepest apex of a tooth wholly across the image
    (negative: a root tip is cut off already)."""
    h, w = sample.image.shape
    teeth = [o.box for o in sample.objects if o.label == "tooth" and o.box[0] > 2 and o.box[2] < w - 2]
    if not teeth:
        return float("nan")
    if apical_side(sample) == "top":
        return min(b[1] for b in teeth)
    return min(h - b[3] for b in teeth)


def cut_apices(sample: synth.Sample, img: np.ndarray, rng: np.random.Generator,
               *, into_root_mm: tuple[float, float] = (1.5, 4.0)) -> np.ndarray:
    """Crop a periapical on its apical side so that the deepest root tips fall `into_root_mm` outside."""
    h = img.shape[0]
    cut = int(round(root_margin_px(sample) + rng.uniform(*into_root_mm) / sample.pixel_spacing_mm))
    cut = max(1, min(cut, h // 3))
    return np.ascontiguousarray(img[cut:] if apical_side(sample) == "top" else img[:h - cut])


def overlapping_bitewing(seed: int, view: str | None = None, *, overlap_mm: float = 2.0) -> synth.Sample:
    """A bitewing taken with a horizontal angulation error: adjacent crowns overlap by about
    `overlap_mm` (plus the generator's own -0.25..0.35 mm contact variation)."""
    token = synth.contact_overlap_mm.set(overlap_mm)
    try:
        return synth.generate_sample("bitewing", seed, view=view)
    finally:
        synth.contact_overlap_mm.reset(token)


def bitewing_set(seed: int, *, missing: int | None = None) -> list[synth.Sample]:
    """A four-bitewing set of one seed; `missing` (0-3) leaves that view out."""
    return [synth.generate_sample("bitewing", seed * 4 + i, view=v)
            for i, v in enumerate(BITEWING_SET) if i != missing]
