"""One proposal per finding: detections of one label placed on the same tooth and the same
surfaces are merged before they are stored, so nobody is asked about (or charts) one finding twice.

The most confident detection is kept, with its own box. Then the box and the confidence shown are
what the model produced for one detection; a union box would draw an area no detection claimed
and grow with every duplicate, and an averaged confidence would be a number the model never gave.
Different surfaces of one tooth (mesial and distal caries) stay separate findings. Detections not
placed on a tooth are left as they are (non-maximum suppression already merged overlapping ones),
and so are tooth boxes, which are anatomy, not findings.
"""

from __future__ import annotations

from typing import Sequence, TypeVar

from ..labels import ANATOMY_LABELS
from .tooth_mapping import Placed

D = TypeVar("D")  # a detection: `.label`, `.score`


def _key(d, p: Placed) -> tuple | None:
    if d.label in ANATOMY_LABELS or p.tooth_fdi is None:
        return None
    return d.label, p.tooth_fdi, "".join(sorted(p.surfaces or ""))


def merge_duplicates(detections: Sequence[D], placed: Sequence[Placed]) -> tuple[list[D], list[Placed]]:
    """The detections (and their placements) left after merging, in their original order."""
    keys = [_key(d, p) for d, p in zip(detections, placed)]
    best: dict[tuple, int] = {}
    for i, key in enumerate(keys):
        if key is not None and (key not in best or detections[i].score > detections[best[key]].score):
            best[key] = i
    kept = [i for i, key in enumerate(keys) if key is None or best[key] == i]
    return [detections[i] for i in kept], [placed[i] for i in kept]
