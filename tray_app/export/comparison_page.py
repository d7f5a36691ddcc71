"""The patient PDF's comparison page: before (the prior, aligned) and after, with the measured
change in plain words (clinical/change_text.patient_lines). Only changes of findings the signed
report keeps are named; an image whose comparison names nothing is left out."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..analysis.registration import warp_onto
from ..clinical.change_text import patient_lines
from ..intake import image_cache
from ..store import images as image_repo
from ..store import priors as priors_repo

THUMB_WIDTH = 700       # px per side: enough for a half-page picture


def _thumb(pixels: np.ndarray) -> Image.Image:
    img = Image.fromarray(pixels)
    return img.resize((THUMB_WIDTH, max(1, round(img.height * THUMB_WIDTH / img.width))), Image.LANCZOS)


def comparison_pages(db, study_id: int, report) -> list[dict]:
    """[{date, lines, before, after}] for the study's images with a change worth telling."""
    signed = {(f.get("label"), f.get("tooth_fdi")) for f in report.findings}
    out = []
    for comp in priors_repo.of_study(db, study_id):
        lines = patient_lines(comp, signed)
        if not lines or not comp["registered"]:
            continue
        row, prior = image_repo.get(db, comp["image_id"]), image_repo.get(db, comp["prior_image_id"])
        now, before = image_cache.cached(row), image_cache.cached(prior)
        if now is None or before is None:
            continue
        aligned, _ = warp_onto(before, comp["matrix"], now.shape)
        out.append({"date": comp["prior_date"], "lines": lines, "before": _thumb(aligned), "after": _thumb(now)})
    return out
