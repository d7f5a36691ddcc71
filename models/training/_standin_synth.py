"""Tiny stand-in for tray_app.demo.synth used only while that module did not exist.
Never shipped, never used for the real training run."""
from __future__ import annotations
from dataclasses import dataclass, field
import numpy as np

LABELS = ("tooth", "caries", "restoration", "crown", "root_canal", "implant", "calculus", "periapical_radiolucency", "bone_loss")
KINDS = ("bitewing", "periapical", "panoramic")


@dataclass
class GroundTruth:
    label: str
    box: tuple
    tooth_fdi: int | None = None
    surfaces: str = ""


@dataclass
class Sample:
    image: np.ndarray
    bits_stored: int
    kind: str
    teeth_fdi: list
    laterality: str
    pixel_spacing_mm: float
    objects: list
    seed: int


def generate_sample(kind, seed, *, bits_stored=None):
    rng = np.random.default_rng(seed)
    if kind == "panoramic":
        h, w = 640, 1280
    elif rng.random() < 0.5:
        h, w = 480, 640
    else:
        h, w = 640, 480
    bits = bits_stored or int(rng.choice([8, 12, 16]))
    img = np.full((h, w), 0.2, np.float32) + rng.normal(0, 0.03, (h, w)).astype(np.float32)
    objs = []
    n = 14 if kind == "panoramic" else 4
    tw = w // (n + 1)
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        x1 = int(tw * (i + 0.5)); x2 = x1 + int(tw * 0.8)
        y1 = int(h * 0.15); y2 = int(h * 0.85)
        img[y1:y2, x1:x2] += 0.4
        objs.append(GroundTruth("tooth", (x1, y1, x2, y2)))
        r = rng.random()
        if r < 0.3:
            cx, cy, rad = rng.integers(x1 + 8, x2 - 8), rng.integers(y1 + 10, y1 + 60), int(rng.integers(5, 10))
            img[(xx - cx) ** 2 + (yy - cy) ** 2 < rad ** 2] -= 0.25
            objs.append(GroundTruth("caries", (cx - rad, cy - rad, cx + rad, cy + rad)))
        elif r < 0.5:
            a, b = x1 + 5, y1 + 5
            img[b:b + 30, a:a + 30] = 0.95
            objs.append(GroundTruth("restoration", (a, b, a + 30, b + 30)))
        elif r < 0.6:
            cx, cy, rad = (x1 + x2) // 2, y2, 14
            img[(xx - cx) ** 2 + (yy - cy) ** 2 < rad ** 2] -= 0.15
            objs.append(GroundTruth("periapical_radiolucency", (cx - rad, cy - rad, cx + rad, cy + rad)))
    img = np.clip(img, 0, 1)
    if bits == 8:
        out = (img * 255).astype(np.uint8)
    else:
        out = (img * (2 ** bits - 1)).astype(np.uint16)
    return Sample(out, bits, kind, [], "L", 0.1, objs, seed)


def generate_batch(n, seed, kinds=KINDS):
    for i in range(n):
        yield generate_sample(kinds[i % len(kinds)], seed + i)


def to_uint8(sample_or_image, bits_stored=None):
    if isinstance(sample_or_image, Sample):
        img, bits = sample_or_image.image, sample_or_image.bits_stored
    else:
        img, bits = sample_or_image, bits_stored or (8 if sample_or_image.dtype == np.uint8 else 16)
    return np.clip(img.astype(np.float64) * 255.0 / (2 ** bits - 1) + 0.5, 0, 255).astype(np.uint8)
