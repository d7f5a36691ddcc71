"""Which earlier image of the same patient is the prior of an image: the same image type and,
for intra-oral images, the same FMX view (from the teeth shown) with most of the same teeth.

Earlier studies come from our own store (`store/priors.earlier_images`). An imaging folder that
keeps the practice's history is watched like any export folder: its start-up scan brings the
earlier files in as studies of their own (grouped by patient and time), so they are found here
the same way as images that arrived while the service ran.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..store import findings as findings_repo
from ..store import images as image_repo
from ..store import priors as priors_repo
from ..store.db import Database
from .views import teeth_of_image, view_of

MIN_SHARED = 0.5          # share of the current image's teeth the prior must also show


@dataclass(frozen=True)
class PriorMatch:
    image_id: int
    prior: object             # the prior image's row (with study_date, first_seen_at)
    view: str
    shared_teeth: tuple[int, ...]
    findings: tuple = ()      # the prior image's finding rows, as read to judge its view

    @property
    def date(self) -> str:
        return priors_repo.study_date(self.prior)


def _view(kind: str, teeth: list[int], laterality: str) -> str:
    return view_of(kind, teeth, laterality) or (kind if kind in ("panoramic", "cephalometric") else "")


def _image_facts(row, findings: list[dict]) -> tuple[str, list[int]]:
    meta = image_repo.meta_of(row)
    teeth = teeth_of_image(meta, findings)
    return _view(row["kind"], teeth, meta.get("laterality") or ""), teeth


def find_prior(db: Database, image_row, findings: list[dict]) -> PriorMatch | None:
    """The newest earlier image of the same view as `image_row` (its findings given), or None."""
    view, teeth = _image_facts(image_row, findings)
    if not view:
        return None
    candidates = priors_repo.earlier_images(db, image_row["study_id"])
    by_study: dict[int, list[dict]] = {}
    best = None
    for row in candidates:
        if best is not None and row["first_seen_at"] < best[0][0]:
            break  # newest study first: an older one can no longer win
        if row["kind"] != image_row["kind"]:
            continue
        if row["study_id"] not in by_study:
            by_study[row["study_id"]] = [dict(f) for f in findings_repo.of_study(db, row["study_id"])]
        theirs = [f for f in by_study[row["study_id"]] if f["image_id"] == row["id"]]
        their_view, their_teeth = _image_facts(row, theirs)
        if their_view != view:
            continue
        shared = tuple(sorted(set(teeth) & set(their_teeth)))
        if teeth and len(shared) < MIN_SHARED * len(set(teeth)):
            continue
        key = (row["first_seen_at"], len(shared))
        if best is None or key > best[0]:
            best = (key, PriorMatch(image_row["id"], row, view, shared, tuple(theirs)))
    return best[1] if best else None
