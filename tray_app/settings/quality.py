"""`[quality]`: the image-quality checks run seconds after each radiograph arrives
(tray_app/quality/), each with its threshold. A check whose threshold is 0 is off; `enabled`
turns them all off. Defaults are set on generated images (docs/quality.md has the rates)."""

from __future__ import annotations

from dataclasses import dataclass

from .schema import Table


@dataclass
class QualityConfig(Table):
    TABLE = "quality"

    enabled: bool = True
    # fraction of the image (margins aside) piled up at pure black or pure white
    exposure_clipped: float = 0.3
    # smallest unexposed area beyond a circular edge, as a fraction of the image
    cone_cut_area: float = 0.04
    # motion blur: the weakest direction's fine-to-coarse edge energy below this (sharp images ~0.08+)
    blur_sharpness: float = 0.068
    # periapicals: a whole tooth reaching within this many mm of the image edge has its apex cut off
    # (about 2 mm of bone beyond the apex is needed to judge it)
    apex_margin_mm: float = 1.0
    # … or the roots run on into that edge: the image there matches the image 1 and 1.5 mm inside (-1..1)
    apex_root_continuity: float = 0.4
    # bitewings: neighbouring crowns' boxes overlapping by more than this many mm, or their
    # contact brighter than the crowns by this many grey levels (of 255): enamel over enamel
    contact_overlap_mm: float = 1.0
    contact_brightness: float = 9.0
    # a flipped or upside-down image: how clear the evidence must be (0-1)
    orientation_confidence: float = 0.15
    missing_bitewing: bool = True

    def validate(self) -> list[str]:
        errors = []
        for key in ("exposure_clipped", "cone_cut_area", "orientation_confidence", "apex_root_continuity"):
            if not 0 <= getattr(self, key) <= 1:
                errors.append(f"quality.{key} must be between 0 (off) and 1")
        for key in ("blur_sharpness", "apex_margin_mm", "contact_overlap_mm", "contact_brightness"):
            if getattr(self, key) < 0:
                errors.append(f"quality.{key} must be 0 (off) or more")
        return errors
