"""First-pass image type from header and shape; the clinical rules refine it later."""

from __future__ import annotations

from typing import Any

from ..teeth import arch_of_fdi

OCCLUSAL_VIEW = "260499007"


def guess_kind(meta: dict[str, Any], width: int, height: int, frames: int) -> str:
    modality = (meta.get("modality") or "").upper()
    aspect = max(width, height) / max(1, min(width, height))
    if modality == "CT" or frames > 8:
        return "cbct"
    if modality == "PX":
        return "panoramic"
    if (meta.get("positioner_type") or "").upper() == "CEPHALOSTAT":
        return "cephalometric"
    if any(c.get("value") == OCCLUSAL_VIEW for c in meta.get("view_codes") or []):
        return "occlusal"
    teeth = meta.get("teeth_fdi") or []
    if teeth:
        arches = {arch_of_fdi(t) for t in teeth}
        return "bitewing" if len(arches) == 2 else "periapical"
    text = " ".join(str(meta.get(k, "")) for k in ("series_description", "study_description", "protocol_name",
                                                     "image_comments", "file_name")).lower()
    for token, kind in (("pan", "panoramic"), ("ceph", "cephalometric"), ("bw", "bitewing"), ("bite", "bitewing"),
                        ("occl", "occlusal"), ("pa", "periapical"), ("periap", "periapical")):
        if any(word.startswith(token) for word in text.replace("_", " ").replace("-", " ").split()):
            return kind
    if aspect >= 1.8 and max(width, height) >= 1000:
        return "panoramic"
    if modality == "IO" or max(width, height) <= 2000:
        return "intraoral"
    return "other"
