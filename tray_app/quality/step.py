"""The quality step of the pipeline (`Processor.after_image`, added by app.py): seconds after an
image is analysed, check it from the 8-bit cache and record the advice (store/quality.py), with
an audit entry when there is something to retake. The tray and the review window read it from
there. Never raises into intake: a failing step is logged by the pipeline."""

from __future__ import annotations

import logging

from ..config import Config
from ..intake import image_cache
from ..store import audit, findings, images, quality, studies
from ..store.db import Database
from ..clinical.views import view_of
from .advice import assess, missing_bitewings

log = logging.getLogger(__name__)


class QualityStep:
    __name__ = "image quality"

    def __init__(self, db: Database, config: Config):
        self.db, self.config = db, config

    def __call__(self, outcome) -> None:
        cfg = self.config.quality
        if not cfg.enabled or outcome.status not in ("analyzed", "decoded"):
            return
        row = images.get(self.db, outcome.image_id)
        pixels = image_cache.cached(row) if row is not None else None
        if pixels is None:
            return  # no cache (purged, or a kind that has none): nothing to look at in time
        meta = images.meta_of(row)
        spacing = meta.get("pixel_spacing_mm") or [0.0]
        boxes = findings.boxes_of(self.db, row["id"], "tooth") if outcome.status == "analyzed" else None
        issues = assess(pixels, row["kind"] or "", cfg, teeth_fdi=meta.get("teeth_fdi") or [],
                        laterality=meta.get("laterality") or "", tooth_boxes=boxes, pixel_mm=float(spacing[0] or 0))
        set_issue = None
        if cfg.missing_bitewing and row["study_id"] is not None:
            status = studies.clinical(self.db, row["study_id"]).get("set") or {}
            fmx = self.config.clinical.fmx_images
            # the study's views are read only when a bitewing looks missing (a study can hold thousands)
            if missing_bitewings(status, fmx) is not None:
                set_issue = missing_bitewings(status, fmx, self._bitewing_views(row["study_id"]))
        with self.db.tx() as c:
            quality.record(c, row["id"], row["study_id"], [i.as_dict() for i in issues],
                           set_issue.as_dict() if set_issue else None)
            if issues or set_issue:
                audit.append(c, "quality_advice", f"image:{row['id']}",
                             issues={i.check: i.measured for i in issues},
                             set=set_issue.region if set_issue else None)
        if issues:
            log.info("image %s: retake advised (%s)", row["id"], ", ".join(i.check for i in issues))

    def _bitewing_views(self, study_id: int) -> int | None:
        """Different bitewing views among the study's images, by their headers (None: a bitewing
        whose header does not say which view it is)."""
        views = set()
        for im in images.of_study(self.db, study_id):
            if im["kind"] == "bitewing":
                meta = images.meta_of(im)
                view = view_of("bitewing", meta.get("teeth_fdi") or [], meta.get("laterality") or "")
                if not view:
                    return None
                views.add(view)
        return len(views)
