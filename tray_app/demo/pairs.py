"""Prior/current pairs of generated radiographs with a known change, to measure what the
comparison finds (clinical/comparison.py, bench/priors_pairs.py).

Both images of a pair are the same mouth (same kind, seed and view: same teeth, bone and
noise); the current one has one edit — a caries lesion that grew, bone that receded by a
known number of mm on one tooth surface, a new restoration — or none. The prior went through
another export style and exposure and is turned a few degrees and shifted, as a sensor never
sits twice the same way. Ground truth (boxes, landmarks) of the prior moves with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from . import imaging_chain, synth
from .landmarks import SurfaceLandmarks, surface_landmarks

CHANGES = ("none", "lesion_grew", "bone_receded", "new_restoration")
VIEWS = {"bitewing": ("right molar", "left molar", "right premolar", "left premolar"),
         "periapical": ("maxillary right molar", "mandibular left molar", "mandibular right premolar",
                        "maxillary left premolar")}
VISIBLE_LEVELS = 12.0   # grey levels (of 255) an edit must move to be seen: ~2 noise sigmas of the noisier export styles


@dataclass
class Pair:
    kind: str
    change: str                     # one of CHANGES
    prior: np.ndarray               # uint8, turned and re-exposed
    current: np.ndarray             # uint8
    prior_objects: list             # synth.GroundTruth in the prior's (turned) pixels
    current_objects: list
    prior_landmarks: list[SurfaceLandmarks]
    current_landmarks: list[SurfaceLandmarks]
    spacing_mm: float
    prior_to_current: np.ndarray    # 2×3: prior pixel -> current pixel (the true registration)
    tooth_fdi: int | None = None    # where the change is
    surface: str = ""
    teeth_fdi: tuple = ()
    laterality: str = ""
    # the current image rendered without the edit (same mouth, style and noise): what the edit changed
    unedited: Callable[[], np.ndarray] | None = field(default=None, repr=False)

    def change_drawn(self) -> bool:
        """Whether the pixels the change edits lie in both images: the edited lesion or filling is
        in the current image's ground truth (the export crop keeps what is mostly in view) and
        half its box was in the prior's view; the bone between the surface's old and new crest
        lies in the current image and in the prior's. A target tooth at the edge may have its
        change beyond it (a filling on the cut-off side, a crest past the border): then nothing
        was drawn and there is nothing to report."""
        if self.change == "none" or self.tooth_fdi is None:
            return False
        h, w = self.current.shape
        back = np.linalg.inv(np.vstack([self.prior_to_current, [0, 0, 1]]))[:2]
        if self.change == "bone_receded":
            now = _landmark(self.current_landmarks, self.tooth_fdi, self.surface)
            then = _landmark(self.prior_landmarks, self.tooth_fdi, self.surface)
            if now is None or then is None:
                return False
            old = _map(self.prior_to_current, *then.crest)
            pts = [(old[0] + k * (now.crest[0] - old[0]), old[1] + k * (now.crest[1] - old[1])) for k in np.linspace(0, 1, 11)]
            return any(_in(p, w, h) and _in(_map(back, *p), w, h) for p in pts)
        label, surface = ("caries", self.surface) if self.change == "lesion_grew" else ("restoration", "")
        boxes = [o.box for o in self.current_objects if o.label == label and o.tooth_fdi == self.tooth_fdi
                 and surface in o.surfaces]
        return any(_share_inside([_map(back, x, y) for x in (b[0], b[2]) for y in (b[1], b[3])], w, h) >= 0.5
                   for b in boxes)

    def change_visible(self, min_levels: float = VISIBLE_LEVELS) -> bool:
        """Whether a reader could see the change in the current image: drawn (`change_drawn`), and
        the edit moved the current's pixels where it was drawn by `min_levels` grey levels or more.
        An export that clips a crown white hides a filling drawn in it; nobody can report that."""
        if not self.change_drawn() or self.unedited is None:
            return False
        diff = np.abs(self.current.astype(np.int16) - self.unedited().astype(np.int16))
        h, w = diff.shape
        if self.change == "bone_receded":
            now = _landmark(self.current_landmarks, self.tooth_fdi, self.surface)
            x, y = now.crest
            r = 3.0 / self.spacing_mm                       # the bone within 3 mm of the new crest
            x1, x2, y1, y2 = int(max(0, x - r)), int(min(w, x + r)), int(max(0, y - r)), int(min(h, y + r))
            return x2 > x1 and y2 > y1 and float(np.percentile(diff[y1:y2, x1:x2], 95)) >= min_levels
        label, surface = ("caries", self.surface) if self.change == "lesion_grew" else ("restoration", "")
        for o in self.current_objects:
            if o.label == label and o.tooth_fdi == self.tooth_fdi and surface in o.surfaces:
                x1, y1, x2, y2 = (int(round(v)) for v in o.box)
                if x2 > x1 and y2 > y1 and float(np.percentile(diff[y1:y2, x1:x2], 75)) >= min_levels:
                    return True
        return False


def _target(teeth, rng, want):
    """A natural tooth, in view in both images, that suits the change."""
    ok = [t for t in teeth if not (t.implant or t.pontic or t.decap or t.crown) and want(t)]
    ok.sort(key=lambda t: abs(t.x - np.mean([u.x for u in teeth])))   # central teeth stay in view
    return ok[int(rng.integers(0, min(3, len(ok))))] if ok else None


def _edits(change: str, seed: int):
    """(edit of the prior, edit of the current, facts) — the same tooth chosen in both."""
    facts: dict = {}

    def pick(teeth, want):
        if "fdi" not in facts:
            t = _target(teeth, np.random.default_rng([seed, 5]), want)
            facts["fdi"] = t.fdi if t is not None else None
        return next((t for t in teeth if t.fdi == facts["fdi"]), None)

    def lesion(grown):
        def edit(teeth):
            t = pick(teeth, lambda t: t.pos >= 4 and not t.resto)
            if t is None:
                return
            side = facts.setdefault("surface", "M")
            t.caries = [c for c in t.caries if c["surf"] != side]
            size = t.ppm * (2.2 if grown else 1.1)
            t.caries.append({"surf": facts["surface"], "vc": t.ch * 0.45, "h": 1.6 * size, "d": 1.5 * size, "k": 0.75})
        return edit

    def crest(receded):
        def edit(teeth):
            t = pick(teeth, lambda t: True)
            if t is None:
                return
            s = facts.setdefault("surface", "M")
            base = facts.setdefault("base", float(t.crest[s]) if s not in t.bone_loss else 1.6)
            facts.setdefault("delta", float(np.random.default_rng([seed, 6]).uniform(1.5, 3.0)))
            t.bone_loss.discard(s)
            t.crest[s] = base + (facts["delta"] if receded else 0.0)
            if t.crest[s] >= 3.5:
                t.bone_loss.add(s)
        return edit

    def filling(present):
        def edit(teeth):
            t = pick(teeth, lambda t: t.pos >= 4 and not t.resto and not t.caries)
            if t is None or not present:
                return
            t.resto = "MO" if t.ms > 0 else "DO"
            t.resto_p.update({"ow": 0.3 * t.W, "od": 2.2 * t.ppm, "pw": 0.4 * t.W, "pv": 0.65 * t.ch, "u0": 0.0,
                              "mat": 7.5, "irr": 0.1, "ph": np.array([1.0, 2.5])})
        return edit

    if change == "lesion_grew":
        return lesion(False), lesion(True), facts
    if change == "bone_receded":
        return crest(False), crest(True), facts
    if change == "new_restoration":
        return filling(False), filling(True), facts
    return None, None, facts


def _turn(img: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Turn by 2-5° and shift a little; returns the image and the 2×3 original -> turned map."""
    import cv2

    h, w = img.shape
    ang = float(rng.uniform(2.0, 5.0) * rng.choice([-1, 1]))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), ang, 1.0)
    m[:, 2] += rng.uniform(-0.04, 0.04, 2) * (w, h)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), m


def _map(m, x, y):
    return float(m[0, 0] * x + m[0, 1] * y + m[0, 2]), float(m[1, 0] * x + m[1, 1] * y + m[1, 2])


def _moved_objects(objects, m, w, h):
    out = []
    for o in objects:
        x1, y1, x2, y2 = o.box
        pts = [_map(m, x, y) for x in (x1, x2) for y in (y1, y2)]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        box = (max(0.0, min(xs)), max(0.0, min(ys)), min(float(w), max(xs)), min(float(h), max(ys)))
        if box[2] - box[0] > 2 and box[3] - box[1] > 2:
            out.append(replace(o, box=box))
    return out


def _landmark(landmarks, fdi, surface):
    return next((lm for lm in landmarks if lm.tooth_fdi == fdi and lm.surface == surface), None)


def _in(p, w, h) -> bool:
    return 0 <= p[0] < w and 0 <= p[1] < h


def _share_inside(corners, w, h) -> float:
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    x1, y1, x2, y2 = min(xs), min(ys), max(xs), max(ys)
    inside = max(0.0, min(x2, w) - max(x1, 0)) * max(0.0, min(y2, h) - max(y1, 0))
    return inside / max((x2 - x1) * (y2 - y1), 1e-6)


def make_pair(kind: str, seed: int, change: str, view: str | None = None) -> Pair:
    if change not in CHANGES:
        raise ValueError(f"change must be one of {CHANGES}")
    rng = np.random.default_rng([seed, 4])
    view = view or VIEWS[kind][seed % len(VIEWS[kind])]
    styles = [f for f in imaging_chain.FAMILIES if f != "psp_plate"]
    style_prior, style_now = rng.choice(styles, 2, replace=False)
    edit_prior, edit_now, facts = _edits(change, seed)
    prior = synth._generate(kind, seed, 12, view=view, style=str(style_prior), edit=edit_prior)
    now = synth._generate(kind, seed, 12, view=view, style=str(style_now), edit=edit_now)

    def unedited() -> np.ndarray:
        unedit, _, _ = _edits(change, seed)   # the prior's edit: the mouth as it was, in the current's style
        return synth.to_uint8(synth._generate(kind, seed, 12, view=view, style=str(style_now), edit=unedit))

    gamma = float(rng.uniform(0.75, 1.35))
    prior_px = np.clip(255.0 * (synth.to_uint8(prior) / 255.0) ** gamma, 0, 255).astype(np.uint8)
    prior_px, m = _turn(prior_px, rng)
    h, w = prior_px.shape
    lms = [replace(lm, cej=_map(m, *lm.cej), crest=_map(m, *lm.crest), apex=_map(m, *lm.apex))
           for lm in surface_landmarks(prior)]
    inv = np.vstack([m, [0, 0, 1]])
    return Pair(kind=kind, change=change, prior=prior_px, current=synth.to_uint8(now),
                prior_objects=_moved_objects(prior.objects, m, w, h), current_objects=now.objects,
                prior_landmarks=lms, current_landmarks=surface_landmarks(now), spacing_mm=now.pixel_spacing_mm,
                prior_to_current=np.linalg.inv(inv)[:2], tooth_fdi=facts.get("fdi"), surface=facts.get("surface", ""),
                teeth_fdi=tuple(now.teeth_fdi), laterality=now.laterality, unedited=unedited)


def as_samples(pair: Pair, seed: int) -> tuple[synth.Sample, synth.Sample]:
    """(prior, current) as 8-bit samples the demo writers can save (DICOM with the pixel spacing)."""
    def sample(pixels, objects):
        return synth.Sample(image=pixels, bits_stored=8, kind=pair.kind, teeth_fdi=list(pair.teeth_fdi),
                            laterality=pair.laterality, pixel_spacing_mm=pair.spacing_mm, objects=objects, seed=seed)
    return sample(pair.prior, pair.prior_objects), sample(pair.current, pair.current_objects)
