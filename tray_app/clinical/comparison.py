"""Comparing an analysed image with its prior: find the prior (clinical/priors.py), align it
(analysis/registration.py), compare the findings (clinical/change.py) and the bone levels (clinical/bone_level.py), store
the result (`store/priors.py`) and refresh the study's summary, whose tags and priority it feeds.

Runs as one of the pipeline's `after_image` steps on the analysis worker thread (app.py), never
on a GUI thread; a study with no prior costs one query.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

import numpy as np

from ..analysis.registration import register, warp_onto
from ..store import findings as findings_repo
from ..store import images as image_repo
from ..store import priors as priors_repo
from ..store.db import Database
from . import bone_level, change
from . import pixel_evidence as pixels
from .priors import find_prior

log = logging.getLogger(__name__)
MM_KINDS = ("bitewing", "periapical")   # magnification varies across a panoramic: no mm there


def _spacing(row) -> float | None:
    if row["kind"] not in MM_KINDS:
        return None
    value = (image_repo.meta_of(row).get("pixel_spacing_mm") or [None])[0]
    return float(value) if value else None


def _live(rows) -> list[dict]:
    return [dict(f) for f in rows if f["status"] not in ("rejected", "withdrawn")]


CANDIDATE_SHARE = 0.5   # a detection at this share of its label's threshold says the detector saw it there


def label_thresholds(detector) -> dict[str, float]:
    """The finding model's threshold per label name, from its manifest."""
    return {spec.name: float(spec.threshold) for spec in detector.manifest.labels}


class DetectorDoubt:
    """What the detector scored below its thresholds, asked only when a change passed its pixel
    evidence: a finding at its threshold in one image is often just under it in the other, and
    that is no change (`change._flicker`). One extra detection per image asked, none otherwise."""

    def __init__(self, detector, kind: str | None, images: dict):
        self.detector, self.kind, self.images = detector, kind, images
        self.thresholds = label_thresholds(detector)
        self._floors = CANDIDATE_SHARE * detector.thresholds  # the model's own per-label array
        self._found: dict[str, list[dict]] = {}

    def candidates(self, which: str) -> list[dict]:
        if which not in self._found:
            self._found[which] = [{"label": d.label, "box": d.box, "confidence": d.score} for d in
                                  self.detector.detect(self.images[which], thresholds=self._floors, kind=self.kind)]
        return self._found[which]


def pixel_evidence_of(gray, prior_gray, reg):
    """`pixel_evidence.pixel_evidence` of an image and its registered prior, over the pixels both show of
    the mouth: where the aligned prior has pixels, neither image has burnt-in text, and the prior
    has no sensor-outline fill. Aligned, the prior's overlays land on other anatomy (no-change pair
    33081: its burnt-in date by the outline, boxed as a filling); the current's own clipped corners
    are left to the clipping rules (taking them too took crowns clipped white, where new fillings
    were then missed: 3 on seeds 9000 and 29000)."""
    return pixels.pixel_evidence(gray, *aligned_prior(gray, prior_gray, reg))


def aligned_prior(gray, prior_gray, reg) -> tuple[np.ndarray, np.ndarray]:
    """(the prior aligned onto the image, the pixels both show of the mouth: see `pixel_evidence_of`)."""
    prior_aligned, seen = warp_onto(prior_gray, reg.matrix, gray.shape)
    drawn_over, _ = warp_onto(pixels.not_anatomy(prior_gray, corners=True).astype(np.uint8), reg.matrix, gray.shape)
    seen &= ~drawn_over.astype(bool) & ~pixels.not_anatomy(gray)
    return prior_aligned, seen


def changed_findings(gray, prior_gray, findings: list[dict], prior_findings: list[dict], reg,
                     detector=None, kind: str | None = None, evidence=None) -> list[dict]:
    """Findings new / gone / grown between an image and its registered prior, each shown in the
    pixels of the prior aligned onto it (`evidence`, made here when not given) and, given the
    `detector`, not just its flicker at a threshold (part of `compared`)."""
    evidence = evidence or pixel_evidence_of(gray, prior_gray, reg)
    doubt = DetectorDoubt(detector, kind, {"current": gray, "prior": prior_gray}) if detector is not None else None
    return change.findings_change(findings, prior_findings, reg.as_array(), gray.shape[::-1], evidence,
                                  prior_size=prior_gray.shape[::-1], doubt=doubt)


def bone_levels_of(model, gray, findings: list[dict], spacing_mm: float | None) -> dict:
    """The bone level per tooth surface of an image, from the landmark `model` on its detected teeth."""
    teeth = [(int(f["tooth_fdi"]), (f["x1"], f["y1"], f["x2"], f["y2"])) for f in findings
             if f["label"] == "tooth" and f.get("tooth_fdi")]
    return bone_level.bone_levels(model.find(gray, teeth), spacing_mm, gray.shape) if teeth else {}


def bone_compared(now: dict, then: dict, findings: list[dict], prior_findings: list[dict], reg, evidence=None) -> list[dict]:
    """The bone-level change between an image's levels and its prior's (`bone_levels_of`). Registered,
    the prior's teeth go by the numbers of the current teeth they lie on, and a level that deepened
    must show in the pixels (`evidence`); not registered, the tooth numbers are all there is, and a
    level read deeper stays `unconfirmed`: nothing shows it in the pixels, and the panel says the
    image was not compared (no-change pair 341073 of bench/priors_pairs.py: +1.6 mm read on a pair
    that did not align) (part of `compared`)."""
    if not reg.ok:
        return [r | {"progressing": False, "unconfirmed": True} if r["progressing"] else r
                for r in bone_level.bone_change(now, then)]
    numbers = change.same_teeth(findings, prior_findings, reg.as_array())
    return bone_level.bone_change(now, bone_level.renumbered(then, numbers), reg, evidence)


def compared(gray, prior_gray, findings: list[dict], prior_findings: list[dict], reg, now: dict, then: dict,
             detector=None, kind: str | None = None, check=None) -> tuple[list[dict], list[dict]]:
    """(findings' changes, bone-level rows) of an image and its prior, given both images' bone
    levels (`bone_levels_of`): what the service stores and bench/priors_pairs.py measures. A
    change the rules claim, and a bone level they read as progressing, stands only where the change
    model (`check`, `analysis/change_model.py`) also finds it likely: the rules' false claims look
    like real changes in every number they measure (docs/model.md)."""
    aligned = aligned_prior(gray, prior_gray, reg) if reg.ok else None
    evidence = pixels.pixel_evidence(gray, *aligned) if aligned else None
    changes = changed_findings(gray, prior_gray, findings, prior_findings, reg, detector, kind, evidence) if reg.ok else []
    bone = bone_compared(now, then, findings, prior_findings, reg, evidence)
    thresholds = label_thresholds(detector) if detector is not None else {}
    changes = bone_level.agreeing(changes, bone, now, gray.shape, lambda c: change.near_threshold(c, thresholds))
    if check is not None and aligned:
        changes = check.kept(changes, gray, *aligned, evidence.alike, thresholds)
        bone = check.confirmed(bone, gray, *aligned, evidence.alike, thresholds)
    return changes, bone


class _OnFirstUse:
    """A bundled model loaded on first use, once; None when it cannot be (logged): the comparison
    goes on without what it adds."""

    def __init__(self, factory: Callable | None, what: str):
        self.factory, self.what, self.model = factory, what, None
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            if self.model is None and self.factory is not None:
                try:
                    self.model = self.factory()
                except Exception:
                    log.exception("%s could not be loaded", self.what)
                    self.factory = None
            return self.model


class Comparer:
    """Compares images with their priors. `pixels(row)` gives an image's 8-bit pixels;
    `landmarks()` the landmark model and `check()` the change model (each loaded on first use;
    without one, bone levels are not measured / the rules' claims stand); `detector()` the finding
    model in use (None while there is none), asked about a claimed change only (`DetectorDoubt`)."""

    def __init__(self, db: Database, pixels: Callable, landmarks: Callable | None = None,
                 detector: Callable | None = None, check: Callable | None = None):
        self.db = db
        self.pixels = pixels
        self.detector = detector or (lambda: None)
        self._landmark_model = _OnFirstUse(landmarks, "landmark model")
        self._check = _OnFirstUse(check, "change model")

    def _bone(self, gray, row, findings) -> dict:
        model = self._landmark_model()
        return {} if model is None else bone_levels_of(model, gray, findings, _spacing(row))

    def compare(self, image_id: int, *, only_prior: int | None = None) -> dict | None:
        """Compare one image with its prior and store the result; None when it has no prior (or, with
        `only_prior`, when its prior is another image: its stored comparison stands)."""
        row = image_repo.get(self.db, image_id)
        if row is None or not row["study_id"]:
            return None
        findings = [f for f in _live(findings_repo.of_study(self.db, row["study_id"])) if f["image_id"] == image_id]
        match = find_prior(self.db, row, findings)
        if match is None or only_prior not in (None, match.prior["id"]):
            return None
        prior = match.prior
        prior_findings = _live(match.findings)
        gray, prior_gray = self.pixels(row), self.pixels(prior)
        reg = register(gray, prior_gray)
        result = {"view": match.view, "registered": reg.ok, "matrix": reg.matrix, "correlation": reg.correlation,
                  "reason": reg.reason, "changes": [], "bone": []}
        result["changes"], result["bone"] = compared(
            gray, prior_gray, findings, prior_findings, reg, self._bone(gray, row, findings),
            self._bone(prior_gray, prior, prior_findings), self.detector(), row["kind"], self._check())
        priors_repo.save(self.db, image_id, row["study_id"], prior, **result)
        return result | {"prior_image_id": prior["id"], "prior_date": match.date}

    def compare_later(self, image_id: int) -> list[int]:
        """Compare again the later images this image is the prior of (it arrived after them: a
        history folder scanned out of order); the ids of the studies whose comparison changed. A
        later image whose prior is still another image is not registered again."""
        row = image_repo.get(self.db, image_id)
        if row is None or not row["study_id"]:
            return []
        later = priors_repo.later_images(self.db, row["study_id"], row["kind"])
        return sorted({r["study_id"] for r in later if self.compare(r["id"], only_prior=image_id) is not None})


def after_image_step(comparer: Comparer, refresh: Callable[[int], object]) -> Callable:
    """The pipeline step: compare each analysed image, then refresh its study's summary so the
    tags ("changed since …", "progressing") and the priority see the result."""

    def compare_with_prior(outcome) -> None:
        if outcome.status != "analyzed" or not outcome.study_id:
            return
        if comparer.compare(outcome.image_id) is not None:
            refresh(outcome.study_id)
        for study_id in comparer.compare_later(outcome.image_id):
            refresh(study_id)

    return compare_with_prior


def step_for(db: Database, config, detector: Callable | None = None) -> Callable:
    """The pipeline step the composition root adds: pixels from the image cache, the bundled
    landmark model, `detector()` the finding model in use, the summary refreshed with the
    configured thresholds."""
    from ..analysis.change_model import ChangeModel
    from ..analysis.landmarks import LandmarkModel
    from ..intake.image_cache import pixels
    from . import study_summary

    cc = config.clinical
    return after_image_step(Comparer(db, pixels, LandmarkModel, detector, ChangeModel), lambda study_id: study_summary.refresh(
        db, study_id, urgent_threshold=cc.urgent_threshold, fmx_images=cc.fmx_images))
