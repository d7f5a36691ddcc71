"""Which FMX view an intra-oral image is (by its teeth), and set completeness.

Adult FMX (dicom-dental.md §8): 4 BWs (right/left × molar/premolar) + 14 PAs =
8 posterior (maxillary/mandibular × right/left × molar/premolar) + 6 anterior
(maxillary/mandibular × right canine-lateral, centrals, left canine-lateral).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from ..labels import ANATOMY_LABELS
from ..teeth import arch_of_fdi

FMX_VIEWS: tuple[str, ...] = (
    "BW right molar", "BW right premolar", "BW left premolar", "BW left molar",
    "PA maxillary right molar", "PA maxillary right premolar", "PA maxillary right canine",
    "PA maxillary centrals", "PA maxillary left canine", "PA maxillary left premolar", "PA maxillary left molar",
    "PA mandibular right molar", "PA mandibular right premolar", "PA mandibular right canine",
    "PA mandibular centrals", "PA mandibular left canine", "PA mandibular left premolar", "PA mandibular left molar",
)
FMX_RANGE = (14, 22)


def _side(teeth: Iterable[int]) -> str:
    quads = Counter(t // 10 for t in teeth)
    right = quads[1] + quads[4] + quads[5] + quads[8]
    left = quads[2] + quads[3] + quads[6] + quads[7]
    return "right" if right > left else "left"


def _region(positions: list[int]) -> str:
    """molar | premolar | canine | centrals, from the tooth positions (1 = central ... 8)."""
    if not positions:
        return ""
    centre = sorted(positions)[len(positions) // 2]
    if all(p <= 2 for p in positions) or (centre <= 1):
        return "centrals"
    if centre <= 3:
        return "canine"
    if centre <= 5:
        return "premolar"
    return "molar"


def teeth_of_image(meta: dict, findings: list[dict]) -> list[int]:
    """The teeth an image shows: its header's tooth list, else the teeth found on it."""
    listed = [int(t) for t in meta.get("teeth_fdi") or []]
    if listed:
        return listed
    return sorted({int(f["tooth_fdi"]) for f in findings if f["label"] in ANATOMY_LABELS and f.get("tooth_fdi")})


def view_of(kind: str, teeth_fdi: list[int], laterality: str = "") -> str:
    """The FMX view name for one image, or '' when it cannot be told."""
    teeth = [t for t in teeth_fdi if t // 10 <= 4]
    if kind not in ("bitewing", "periapical") or not teeth:
        return ""
    positions = [t % 10 for t in teeth]
    if kind == "bitewing":
        side = {"R": "right", "L": "left"}.get(laterality.upper(), _side(teeth))
        return f"BW {side} {'molar' if _region(positions) == 'molar' or max(positions) >= 7 else 'premolar'}"
    arch = "maxillary" if arch_of_fdi(teeth[0]) == "maxilla" else "mandibular"
    region = _region(positions)
    if region == "centrals" or (1 in positions and any(t // 10 in (1, 4) for t in teeth)
                                and any(t // 10 in (2, 3) for t in teeth)):
        return f"PA {arch} centrals"
    return f"PA {arch} {_side(teeth)} {region}"


@dataclass
class SetStatus:
    protocol: str  # FMX | 4BW | 2BW | BW | PA | PA series | pano | ceph | CBCT | mixed | ""
    complete: bool
    expected: int = 0
    present: int = 0
    missing: list[str] = field(default_factory=list)
    unplaced: int = 0  # intra-oral images whose view could not be told

    @property
    def text(self) -> str:
        if self.protocol in ("FMX", "4BW", "2BW") and not self.complete:
            tail = f" — missing {', '.join(self.missing)}" if self.missing else ""
            return f"{self.protocol}: {self.present} of {self.expected}{tail}"
        if self.protocol in ("FMX", "4BW", "2BW"):
            return f"{self.protocol} complete ({self.present} images)"
        return self.protocol

    def as_dict(self) -> dict:
        return {"protocol": self.protocol, "complete": self.complete, "expected": self.expected,
                "present": self.present, "missing": self.missing, "text": self.text}


def set_status(images: list[tuple[str, list[int], str]], fmx_expected: int = 18) -> SetStatus:
    """images: (kind, teeth FDI, laterality) per image of one study."""
    kinds = Counter(k for k, _, _ in images)
    intraoral = kinds["bitewing"] + kinds["periapical"]
    views = [view_of(k, t, lat) for k, t, lat in images]
    present = {v for v in views if v}
    unplaced = sum(1 for (k, _, _), v in zip(images, views) if k in ("bitewing", "periapical") and not v)
    if intraoral >= 8 or (kinds["bitewing"] >= 2 and kinds["periapical"] >= 6):
        missing = [v for v in FMX_VIEWS if v not in present]
        complete = not missing and FMX_RANGE[0] <= intraoral <= FMX_RANGE[1]
        return SetStatus("FMX", complete, fmx_expected, intraoral, missing, unplaced)
    if kinds["bitewing"] and not kinds["periapical"]:
        n = kinds["bitewing"]
        if n >= 3:
            missing = [v for v in FMX_VIEWS[:4] if v not in present]
            return SetStatus("4BW", not missing, 4, n, missing, unplaced)
        if n == 2:
            sides = {v.split()[1] for v in present if v.startswith("BW")}
            ok = len(sides) == 2
            return SetStatus("2BW", ok, 2, n, [] if ok else [f"BW {'left' if 'right' in sides else 'right'}"], unplaced)
        return SetStatus("BW", True, 1, 1)
    if kinds["periapical"] and not kinds["bitewing"]:
        return SetStatus("PA" if kinds["periapical"] == 1 else "PA series", True, kinds["periapical"],
                         kinds["periapical"])
    for kind, name in (("panoramic", "pano"), ("cephalometric", "ceph"), ("cbct", "CBCT")):
        if kinds[kind] and len(kinds) == 1:
            return SetStatus(name, True, kinds[kind], kinds[kind])
    return SetStatus("mixed" if len(kinds) > 1 else (next(iter(kinds), "")), True, len(images), len(images))
