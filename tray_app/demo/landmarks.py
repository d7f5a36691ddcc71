"""Ground-truth periodontal landmarks of a generated radiograph: per tooth surface the CEJ,
the alveolar crest and the apex, from synth's tooth frames.

synth draws each tooth in its own frame (u across, v from the occlusal surface to the apex):
the CEJ is the crown's cervical edge at v = crown height, the crest lies on the root surface
`crest[side]` mm below it (the bone drawn around the tooth follows the same depths), the apex
is the end of the root on that side. Implants, pontics and retained roots have no CEJ and get
no landmarks. Coordinates are image pixels after the export crop (x right, y down).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .synth import Sample


@dataclass(frozen=True)
class SurfaceLandmarks:
    tooth_fdi: int
    surface: str                      # "M" or "D"
    cej: tuple[float, float]
    crest: tuple[float, float]
    apex: tuple[float, float]
    spacing_mm: float

    @property
    def bone_level_mm(self) -> float:
        """CEJ-to-crest distance, the radiographic bone level."""
        return math.dist(self.cej, self.crest) * self.spacing_mm

    def inside(self, width: int, height: int, point: str) -> bool:
        x, y = getattr(self, point)
        return 0 <= x < width and 0 <= y < height


def _apex(t, sg) -> tuple[float, float]:
    root = max(t.roots, key=lambda r: (sg * r[1], r[3]))     # the root on that side (or the only one)
    return t.to_img(root[1], root[3])


def surface_landmarks(sample: Sample) -> list[SurfaceLandmarks]:
    """Landmarks of the teeth the sample shows, both interproximal surfaces each."""
    x0, y0 = sample.crop[0], sample.crop[1]
    shown = set(sample.teeth_fdi)
    out = []
    for t in sample.teeth:
        if t.fdi not in shown or t.implant or t.pontic or t.decap:
            continue
        for side in ("M", "D"):
            sg = t.ms if side == "M" else -t.ms
            vc = t.ch + t.crest[side] * t.ppm
            u_crest = float(t.surface(np.float32(vc), sg))
            pts = [t.to_img(sg * t.w_cej, t.ch), t.to_img(sg * u_crest, vc), _apex(t, sg)]
            cej, crest, apex = ((float(x - x0), float(y - y0)) for x, y in pts)
            out.append(SurfaceLandmarks(t.fdi, side, cej, crest, apex, sample.pixel_spacing_mm))
    return out
