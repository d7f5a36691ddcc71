"""Image type from header, tooth list, shape and description tokens (dicom-dental.md §3).

DICOM has no "bitewing" code, so the type is inferred by rules in a fixed order. Every
decision records the rule that made it and a confidence; a lower-ranked rule that
disagrees lowers the confidence, and below UNCERTAIN the reviewer sees "type uncertain".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..teeth import arch_of_fdi
from .pixel_layout import panoramic_from_pixels

KINDS = ("bitewing", "periapical", "occlusal", "panoramic", "cephalometric", "cbct", "photo", "other")
INTRAORAL = frozenset({"bitewing", "periapical", "occlusal"})
UNCERTAIN = 0.6
OCCLUSAL_VIEW_CODES = {"260499007", "R-40810"}
PHOTO_SOP_CLASSES = {"1.2.840.10008.5.1.4.1.1.77.1.4", "1.2.840.10008.5.1.4.1.1.77.1.4.1"}
PHOTO_MODALITIES = {"XC", "VL", "ES", "GM"}

# token → kind; matched against whole words of the description fields and file name
_TOKENS = [
    (re.compile(r"\b(fmx|fms|full[ -]?mouth)\b"), None),  # a set name, not an image type
    (re.compile(r"\b(pan|pano|panoramic|opg|opt|orthopan\w*)\b"), "panoramic"),
    (re.compile(r"\b(ceph|cephalo\w*|lat[ -]?ceph)\b"), "cephalometric"),
    (re.compile(r"\b(occl|occlusal)\b"), "occlusal"),
    (re.compile(r"\b(bw|bwx|bite[ -]?wings?|bitewings?|vbw)\b"), "bitewing"),
    (re.compile(r"\b(pa|pax|periap\w*|peri[ -]apical)\b"), "periapical"),
    (re.compile(r"\b(cbct|cone[ -]?beam|ct)\b"), "cbct"),
    (re.compile(r"\b(photo|intraoral[ -]?photo|camera)\b"), "photo"),
]


@dataclass(frozen=True)
class TypeDecision:
    kind: str
    confidence: float
    rule: str

    @property
    def uncertain(self) -> bool:
        return self.confidence < UNCERTAIN

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "confidence": round(self.confidence, 2), "rule": self.rule,
                "uncertain": self.uncertain}


def description_text(meta: dict[str, Any]) -> str:
    fields = ("series_description", "study_description", "protocol_name", "image_comments", "file_name")
    text = " ".join(str(meta.get(k) or "") for k in fields).lower()
    return re.sub(r"[_\-.]+", " ", text)


def token_kind(meta: dict[str, Any]) -> tuple[str | None, str]:
    text = description_text(meta)
    for pattern, kind in _TOKENS:
        m = pattern.search(text)
        if m and kind:
            return kind, m.group(0)
    return None, ""


def _codes(meta, key) -> set[str]:
    return {c.get("value", "") for c in meta.get(key) or []}


def classify(meta: dict[str, Any], width: int, height: int, frames: int = 1, pixels=None) -> TypeDecision:
    """The image type with its deciding rule; lower-ranked rules that disagree reduce confidence.
    `pixels` (2-D uint8) lets a raster export without header or name token be typed by layout."""
    modality = (meta.get("modality") or "").upper()
    sop = meta.get("sop_class") or ""
    aspect = max(width, height) / max(1, min(width, height))
    teeth = meta.get("teeth_fdi") or []
    arches = {arch_of_fdi(t) for t in teeth}
    tok_kind, tok = token_kind(meta)
    is_dicom = meta.get("format") == "dicom"

    candidates: list[TypeDecision] = []
    if modality == "CT" or frames > 8:
        candidates.append(TypeDecision("cbct", 0.98, "Modality CT" if modality == "CT" else f"{frames}-frame volume"))
    if modality in PHOTO_MODALITIES or sop in PHOTO_SOP_CLASSES:
        candidates.append(TypeDecision("photo", 0.95, f"photographic object (Modality {modality or '?'})"))
    elif meta.get("color"):
        candidates.append(TypeDecision("photo", 0.75, "colour image (radiographs are greyscale)"))
    if modality == "PX":
        candidates.append(TypeDecision("panoramic", 0.97, "Modality PX"))
    if (meta.get("positioner_type") or "").upper() == "CEPHALOSTAT":
        candidates.append(TypeDecision("cephalometric", 0.95, "Positioner Type CEPHALOSTAT"))
    if _codes(meta, "view_codes") & OCCLUSAL_VIEW_CODES:
        candidates.append(TypeDecision("occlusal", 0.95, "View Code: occlusal projection"))
    if len(arches) == 2:
        candidates.append(TypeDecision("bitewing", 0.93, f"tooth list spans both arches ({len(teeth)} teeth)"))
    elif len(arches) == 1:
        candidates.append(TypeDecision("periapical", 0.9, f"tooth list in one arch ({len(teeth)} teeth)"))
    if tok_kind:
        candidates.append(TypeDecision(tok_kind, 0.85, f"description token '{tok}'"))
    if modality in ("DX", "CR", "OT", "") and aspect >= 1.8 and max(width, height) >= 1000:
        candidates.append(TypeDecision("panoramic", 0.75, f"wide image ({width}×{height})"))
    if not modality and pixels is not None:
        found = panoramic_from_pixels(pixels)
        if found:
            candidates.append(TypeDecision("panoramic", *found))
    if modality == "DX" and min(width, height) >= 1500 and aspect < 1.5:
        candidates.append(TypeDecision("cephalometric", 0.55, f"large near-square DX image ({width}×{height})"))
    regions = _codes(meta, "anatomic_region")
    if modality == "IO" or (regions & {"91609006", "70925003", "T-11170", "T-11180"}):
        if regions & {"91609006", "70925003", "T-11170", "T-11180"}:
            candidates.append(TypeDecision("periapical", 0.7, "anatomic region is one jaw"))
        elif height > width:
            candidates.append(TypeDecision("periapical", 0.55, "intra-oral image in portrait (anterior PA shape)"))
        else:
            candidates.append(TypeDecision("bitewing", 0.45, "intra-oral image in landscape (BW or posterior PA)"))
    if not candidates:
        if not is_dicom and max(width, height) <= 2000 and aspect < 1.8:
            shape = "portrait" if height > width else "landscape"
            kind = "periapical" if height > width else "bitewing"
            candidates.append(TypeDecision(kind, 0.4, f"{shape} intra-oral-sized image, no header or name token"))
        else:
            candidates.append(TypeDecision("other", 0.3, "no rule applied"))

    best = candidates[0]
    disagree = [c for c in candidates[1:] if c.kind != best.kind and c.confidence >= 0.7]
    if disagree:
        worst = max(disagree, key=lambda c: c.confidence)
        conf = best.confidence * (0.6 if worst.confidence >= 0.85 else 0.8)
        return TypeDecision(best.kind, conf, f"{best.rule}; contradicted by {worst.rule} ({worst.kind})")
    agree = [c for c in candidates[1:] if c.kind == best.kind]
    conf = min(0.99, best.confidence + 0.03 * len(agree))
    return TypeDecision(best.kind, conf, best.rule)
