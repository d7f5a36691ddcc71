"""What is wrong with one radiograph, as sentences a hygienist acts on before the patient leaves.

`assess(...)` runs every check that applies to the image's kind (tray_app/quality/pixels.py,
teeth.py) with the thresholds of `[quality]` and returns `Issue`s: which check, where on the
image, the sentence, and the number it measured (kept for the audit and for tuning).
`missing_bitewings(...)` is the one check of a whole set (clinical/views.py's set status).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..settings.quality import QualityConfig
from . import pixels, teeth

INTRAORAL = ("bitewing", "periapical")
MIN_SIDE = 128  # smaller rasters are thumbnails or test patterns, not a radiograph to judge
CHECKS = ("cone_cut", "exposure", "motion_blur", "apices_cut", "overlapping_contacts", "orientation",
          "missing_bitewing")


@dataclass(frozen=True)
class Issue:
    check: str       # one of CHECKS
    region: str      # "upper left", "top edge", "" when the whole image
    sentence: str
    measured: float  # what the check measured (compare with its setting)

    def as_dict(self) -> dict:
        return asdict(self)


def region_words(fx: float, fy: float) -> str:
    """Where a point (fractions of width, height) lies: 'upper left', 'top', 'middle', …"""
    v = "upper" if fy < 0.38 else "lower" if fy > 0.62 else ""
    h = "left" if fx < 0.38 else "right" if fx > 0.62 else ""
    if v and h:
        return f"{v} {h}"
    return {"upper": "top", "lower": "bottom"}.get(v, "") or (f"{h} side" if h else "middle")


def assess(img: np.ndarray, kind: str, cfg: QualityConfig, *, teeth_fdi: list[int] = (), laterality: str = "",
           tooth_boxes: list[teeth.Box] | None = None, pixel_mm: float = 0.0) -> list[Issue]:
    """The issues of one 8-bit image. `tooth_boxes`: the model's tooth boxes (None: no model ran);
    `pixel_mm`: the pixel spacing when the header gives it (else typical intra-oral spacing)."""
    h, w = img.shape
    if not cfg.enabled or kind not in INTRAORAL or min(h, w) < MIN_SIDE:
        return []  # panoramics and cephs: cone cuts, bitewing contacts and apices do not apply
    mm = pixel_mm or 0.05
    out: list[Issue] = []
    if cfg.cone_cut_area > 0:
        cut = pixels.cone_cut(img, min_area=cfg.cone_cut_area)
        if cut is not None:
            where = region_words(*cut.centroid)
            out.append(Issue("cone_cut", where, f"Cone cut on the {where}: part of the sensor was not exposed. "
                             "Retake before the patient leaves.", round(cut.area, 3)))
    if cfg.exposure_clipped > 0:
        dark, light = pixels.clipped_fractions(img)
        if dark >= cfg.exposure_clipped:
            out.append(Issue("exposure", "", f"Overexposed: {dark:.0%} of the image is burnt out to black. "
                             "Retake with a shorter exposure time.", round(dark, 3)))
        elif light >= cfg.exposure_clipped:
            out.append(Issue("exposure", "", f"Underexposed: {light:.0%} of the image is washed out to white. "
                             "Retake with a longer exposure time.", round(light, 3)))
    if cfg.blur_sharpness > 0:
        sharp = pixels.motion_blur_score(img)
        if sharp < cfg.blur_sharpness:
            out.append(Issue("motion_blur", "", "Blurred by movement: the patient or the tube head moved. "
                             "Retake, asking the patient to hold still.", round(sharp, 4)))
    if tooth_boxes:
        out += _teeth_issues(img, kind, cfg, list(tooth_boxes), list(teeth_fdi), laterality.upper(), mm)
    return out


def _teeth_issues(img, kind, cfg, boxes, teeth_fdi, laterality, mm) -> list[Issue]:
    h, w = img.shape
    out = []
    arch = teeth.arch_of(teeth_fdi)
    if kind == "periapical" and cfg.apex_margin_mm > 0:
        if arch:
            edges = ["top" if arch == "upper" else "bottom"]
        else:  # no header: the apices are at the end away from the crowns
            crowns, _ = teeth.crowns_at(img, boxes)
            edges = [{"top": "bottom", "bottom": "top"}[crowns]] if crowns else []
        for edge in edges:
            reached = edge in teeth.apices_cut(boxes, w, h, margin_px=cfg.apex_margin_mm / mm)
            continuity = teeth.root_continuity(img, edge, boxes, 1 / mm)
            if reached or 0 < cfg.apex_root_continuity <= continuity:
                out.append(Issue("apices_cut", f"{edge} edge", f"Root tips cut off at the {edge} edge: the apices "
                                 "are not in the image. Retake with the sensor placed deeper.", round(continuity, 2)))
    if kind == "bitewing" and (cfg.contact_overlap_mm > 0 or cfg.contact_brightness > 0):
        boxed = [(o * mm, x) for o, x in teeth.contact_overlaps(boxes) if 0 < cfg.contact_overlap_mm < o * mm]
        bright = [(e, x) for e, x in teeth.contact_brightness(img, boxes, 1 / mm) if 0 < cfg.contact_brightness <= e]
        if boxed or bright:
            x = max(boxed or bright)[1]
            where = "left side" if x < w * 0.4 else "right side" if x > w * 0.6 else "middle"
            out.append(Issue("overlapping_contacts", where, f"Overlapping contacts {'in' if where == 'middle' else 'on'} "
                             f"the {where}: the crowns "
                             "overlap, so decay between them cannot be seen. Retake with the beam aimed "
                             "through the contacts.", round(max(bright)[0] if bright else max(boxed)[0], 2)))
    if cfg.orientation_confidence > 0:
        out += _orientation(img, kind, cfg, boxes, teeth_fdi, laterality, arch)
    return out


def _orientation(img, kind, cfg, boxes, teeth_fdi, laterality, arch) -> list[Issue]:
    out = []
    if kind == "periapical" and arch:
        end, diff = teeth.crowns_at(img, boxes)
        expected = "bottom" if arch == "upper" else "top"
        if end and end != expected and min(diff / 40, 1.0) >= cfg.orientation_confidence:
            out.append(Issue("orientation", "", f"Upside down: the {arch} teeth show their crowns at the {end}. "
                             "Turn the image in the imaging software before it is mounted.", round(diff, 1)))
    side = {"R": "right", "L": "left"}.get(laterality, "")
    # molar bitewings only: on a premolar one the widest crown is often cut by the edge
    if side and kind == "bitewing" and any(t % 10 >= 7 for t in teeth_fdi):
        molars, sure = teeth.molars_on(boxes, img.shape[1])
        # labial mounting (patient's right on the viewer's left): distal, the molars, face outward
        expected = "left" if side == "right" else "right"
        if molars and molars != expected and sure >= cfg.orientation_confidence:
            out.append(Issue("orientation", "", f"Flipped left to right: this {side}-side image shows the molars on "
                             f"the {molars}. Flip it in the imaging software before it is mounted.", round(sure, 2)))
    return out


def missing_bitewings(status: dict, fmx_expected: int = 18, bitewing_views: int | None = None) -> Issue | None:
    """A bitewing set (2 or 4) or an FMX whose series is otherwise there, missing a bitewing view.
    `status`: the study's set status (clinical/views.py `SetStatus.as_dict()`, kept by the study
    summary); `bitewing_views`: how many different bitewing views the study holds, when known —
    one view taken twice is a retake, not a set of two."""
    bws = [v for v in status.get("missing") or [] if v.startswith("BW")]
    protocol = status.get("protocol")
    if not bws or protocol not in ("2BW", "4BW", "FMX"):
        return None
    if bitewing_views is not None and bitewing_views < {"2BW": 2, "4BW": 3}.get(protocol, 0):
        return None
    if protocol == "FMX" and status.get("present", 0) < fmx_expected - len(bws):
        return None  # an FMX still arriving: its bitewings may be on their way
    names = ", ".join(v[3:] for v in bws)
    return Issue("missing_bitewing", names, f"Bitewing missing: {names}. Take it before the patient leaves.",
                 float(len(bws)))
