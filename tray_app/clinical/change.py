"""What changed between a prior image and the current one, per tooth: findings new, gone or
grown (their boxes compared after the prior is aligned). The bone level's change is in
`bone_level.py`.
"""

from __future__ import annotations

import numpy as np

from ..labels import (ANATOMY_LABELS, CARIES_LABELS, COVERING_LABELS, PATHOLOGY_LABELS, RADIOLUCENT_LABELS as RADIOLUCENT,
                      SURFACE_LABELS)

GROWN_RATIO = 1.5         # box area now / then for "grown" (box jitter between exposures stays below)
MIN_IOU = 0.05            # a prior box, aligned, must overlap the current one to be the same finding
IN_VIEW = 0.7             # a prior finding counts as gone only when this much of it is in the current image
# a change must show in the pixels (`pixel_evidence.py`, the residual of the change's own sign in the box
# over the residual around it). Chosen on seeds 5000 and 9000 of bench/priors_pairs.py only: detector
# flicker on their no-change pairs reached 0.18 for a new finding; real new fillings scored 0.9 and up
# (one at 0.0, a filling the prior's clipped enamel hid)
MIN_EVIDENCE = 0.5
GROWN_EVIDENCE = 1.2      # a prior lesion not found again grew when the area around it darkened this much (no-change pairs: up to 0.91; lesions that grew 1.71 and up)
# a prior finding not found again is the detector's flicker when it scored within this of its label's
# threshold (no-change pairs: a crown at 0.43 of 0.425, calculus at 0.31 of 0.225, bone loss at 0.19 of
# 0.175). A new finding scored so is not dropped for that alone (it is in the image under review, and new
# fillings found at 0.36–0.43 were real) but needs twice the least pixel evidence: two weak signals are
# no claim (no-change pair 17032: bone loss at 0.205 of 0.175 with evidence 0.54)
CLEAR_MARGIN = 0.1
WEAK_NEW_EVIDENCE = 2 * MIN_EVIDENCE
# a restoration or crown gone needs this much: one that was lost leaves a cavity, an extracted tooth an
# empty socket, far darker than the detector's flicker on a filling (no-change pair 57129: 0.57; on the
# seeds' change pairs, gone fillings, all flicker, at 0.68 and up)
GONE_COVERING_EVIDENCE = WEAK_NEW_EVIDENCE
# a lesion the detector boxed alike in both images grew when the area around it darkened this much:
# the detector's own boxes say otherwise, so the pixels must say it more clearly than GROWN_EVIDENCE
# (seeds 5000 and 9000: no-change pairs up to 1.56; lesions that grew 1.84 and up, one at 1.56)
ALIKE_EVIDENCE = 1.8
ALIKE_EDGE_SHARE = 0.05   # … and only this far (of the long side) inside the image: a turned prior's pixels by its
                          # border are the least alike (no-change pairs 13113, 17113 at the top edge)
# a new or gone finding's box correlating this much with the aligned prior's pixels shows the same shape
# in both (seeds 5000-17000: all 8 no-change claims past MIN_EVIDENCE at 0.98-1.0; new findings that
# were real at 0.45-0.93, one filling at 0.99)
SAME_SHAPE = 0.97
SAME_PLACE_IOU = 0.3      # a candidate in the other image overlapping this much is the same finding
# a crown covers a whole tooth and is the brightest thing in a radiograph: one gone leaves a stump or a
# socket, so what was brightest in its box is no longer near the top of the current image's brightness
# ranks, and a new one was not there before (`pixel_evidence(...).brightest_rank`). No-change pairs
# 97041 (a crown the detector did not find again in another export, evidence 2.04, still at rank 1.0)
# and 105073 (a crown the detector found only in the current, evidence 1.28)
WHOLE_TOOTH_COVERING = COVERING_LABELS - SURFACE_LABELS
STILL_BRIGHTEST = 0.97


def _mapped_box(box, m: np.ndarray) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    pts = np.array([[x, y] for x in (x1, x2) for y in (y1, y2)], dtype=np.float64) @ m[:, :2].T + m[:, 2]
    return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())


def _area(b) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (_area(a) + _area(b) - inter + 1e-9)


def _box(f) -> tuple[float, float, float, float]:
    return float(f["x1"]), float(f["y1"]), float(f["x2"]), float(f["y2"])


def _same_tooth(a, b) -> bool:
    return not (a.get("tooth_fdi") and b.get("tooth_fdi")) or int(a["tooth_fdi"]) == int(b["tooth_fdi"])


def findings_change(current: list[dict], prior: list[dict], matrix, size: tuple[int, int], evidence=None,
                    prior_size: tuple[int, int] | None = None, doubt=None) -> list[dict]:
    """current/prior: finding rows (label, box x1..y2, tooth_fdi, surfaces, confidence); matrix:
    2×3 prior -> current; size: the current image's (width, height), prior_size the prior's
    (default the same); evidence: `pixel_evidence.pixel_evidence(...)`, which a change must pass (without it every
    box difference counts); doubt: the detector's own view (`thresholds`, `candidates(which)`,
    see `_flicker`). Teeth themselves are not compared, but a prior finding takes the number of
    the current tooth its tooth lies on (the detector may number a tooth one off at an edge); one
    change per kind, label and tooth."""
    m = np.asarray(matrix, dtype=np.float64)
    w, h = size
    numbers = same_teeth(current, prior, m)
    now = [f for f in current if f["label"] not in ANATOMY_LABELS]
    then = [(_renumbered_finding(f, numbers), _mapped_box(_box(f), m)) for f in prior if f["label"] not in ANATOMY_LABELS]
    back = _inverse(m)
    used: set[int] = set()
    out = []
    for f in now:
        box = _box(f)
        best, best_iou = None, MIN_IOU
        for i, (p, pbox) in enumerate(then):
            if i in used or p["label"] != f["label"] or not _same_tooth(f, p):
                continue
            iou = _iou(box, pbox)
            if iou >= best_iou:
                best, best_iou = i, iou
        if best is None:
            # only where the prior image saw: a finding beyond its edge is not new
            if _inside(_mapped_box(box, back), *(prior_size or size)) >= IN_VIEW:
                out.append(_change("new", f, box))
            continue
        used.add(best)
        ratio = _area(box) / max(_area(then[best][1]), 1e-6)
        # a lesion grows; a calculus deposit's box boxed larger says more about the box (no-change pair
        # 45112: the prior's box covered half the deposit), and a cleaning removes it anyway. Only where
        # the prior saw the box: a lesion its edge cut was boxed smaller there (no-change pair 217033)
        if f["label"] in PATHOLOGY_LABELS & RADIOLUCENT and ratio >= GROWN_RATIO and \
                _inside(_mapped_box(box, back), *(prior_size or size)) >= IN_VIEW:
            out.append(_change("grown", f, box, area_ratio=round(ratio, 2)))
        elif _away_from_edge(around := _scaled(then[best][1], 2.0), w, h) and \
                _darker(evidence, f, around, ALIKE_EVIDENCE) and not _shape_kept(evidence, around):
            out.append(_change("grown", f, box))   # boxed alike, its surroundings darkened
    for i, (p, pbox) in enumerate(then):
        # a prior finding the detector was unsure of is neither gone nor grown when not found again
        if i in used or _inside(pbox, w, h) < IN_VIEW or _unsure(p, doubt):
            continue
        around = _scaled(pbox, 2.0)   # a lesion grows beyond its old box
        if _darker(evidence, p, around):
            out.append(_change("grown", p, around))
        else:
            out.append(_change("gone", p, pbox))
    if evidence is not None:
        for c in out:
            c["evidence"] = round(evidence(c["box"], _sign(c)), 2)
        # a new or gone finding whose box shows the same shape in both images: an export darkened a
        # lesion or lightened calculus that was there, and the detector found it in one image only
        out = [c for c in out if c["evidence"] >= _least_evidence(c)
               and not (c["change"] in ("new", "gone") and _shape_kept(evidence, c["box"]))
               and not _crown_still_there(evidence, c)]
    if doubt is not None:
        out = [c for c in (_grown_from_candidate(c, doubt, m) for c in out) if not _flicker(c, doubt, m)]
    out = [c for c in out if not _untreated_lesion_gone(c, out) and not _relabelled(c, out)]
    seen: set[tuple] = set()
    return [c for c in out if not ((c["change"], c["label"], c["tooth_fdi"]) in seen
                                   or seen.add((c["change"], c["label"], c["tooth_fdi"])))]


def _least_evidence(c: dict) -> float:
    """The pixel evidence a change needs: MIN_EVIDENCE, GONE_COVERING_EVIDENCE for a restoration or
    crown gone, and GROWN_EVIDENCE for a finding whose box grew by GROWN_RATIO, as much as around a
    lesion not found again (no-change pair 45112: caries boxed 1.5× larger at 0.6; lesions that grew,
    seeds 5000-17000: 1.5 and up)."""
    if c["change"] == "grown" and "area_ratio" in c:
        return GROWN_EVIDENCE
    return GONE_COVERING_EVIDENCE if c["change"] == "gone" and c["label"] in COVERING_LABELS else MIN_EVIDENCE


def _flicker(c: dict, doubt, m: np.ndarray) -> bool:
    """A finding new or gone that the detector itself was unsure of: the detector saw the same
    label at the same place in the other image at half its threshold (`doubt.candidates("prior" |
    "current")`: label and box in that image's pixels), or it is new, scored within CLEAR_MARGIN of
    its label's threshold (`_unsure`) and has less than WEAK_NEW_EVIDENCE. (A prior finding scored so
    is neither gone nor grown: `findings_change` skips it.)"""
    if c["change"] not in ("new", "gone"):
        return False
    if c["change"] == "new" and _unsure(c, doubt) and c.get("evidence", 0.0) < WEAK_NEW_EVIDENCE:
        return True
    other = "prior" if c["change"] == "new" else "current"
    boxes = [_mapped_box(o["box"], m) if other == "prior" else tuple(o["box"])
             for o in doubt.candidates(other) if o["label"] == c["label"]]
    return any(_iou(c["box"], b) >= SAME_PLACE_IOU for b in boxes)


def _grown_from_candidate(c: dict, doubt, m: np.ndarray) -> dict:
    """A new lesion where the detector saw, under its threshold, a much smaller one of the same label
    in the prior (`doubt.candidates("prior")`, mostly inside the new box) grew from it: the prior's
    lesion was just too faint to report (pair 13019: caries at 0.33 of 0.35 in the prior, a third of
    the area now)."""
    if c["change"] != "new" or c["label"] not in PATHOLOGY_LABELS:
        return c
    for o in doubt.candidates("prior"):
        if o["label"] != c["label"]:
            continue
        before = _mapped_box(o["box"], m)
        ratio = _area(c["box"]) / max(_area(before), 1e-6)
        if _share_in(before, c["box"]) >= IN_VIEW and ratio >= GROWN_RATIO:
            return {**c, "change": "grown", "area_ratio": round(ratio, 2)}
    return c


def _unsure(f: dict, doubt) -> bool:
    return doubt is not None and near_threshold(f, doubt.thresholds)


def near_threshold(f: dict, thresholds: dict[str, float]) -> bool:
    """The detector scored the finding within CLEAR_MARGIN of its label's threshold (`thresholds`
    by label name)."""
    threshold, score = thresholds.get(f["label"]), f.get("confidence")
    return threshold is not None and score is not None and score < threshold + CLEAR_MARGIN


def _shape_kept(evidence, box) -> bool:
    """Both images show the same shape in the box (`pixel_evidence(...).alike`): an export that
    sharpens or steepens its tones changed how dark or light it is, not what is there."""
    alike = getattr(evidence, "alike", None)
    return alike is not None and alike(box) >= SAME_SHAPE


def _crown_still_there(evidence, c: dict) -> bool:
    """A crown new or gone whose place was as bright in the image without it as anything there."""
    rank = getattr(evidence, "brightest_rank", None)
    if rank is None or c["label"] not in WHOLE_TOOTH_COVERING or c["change"] not in ("new", "gone"):
        return False
    return rank(c["box"], "current" if c["change"] == "gone" else "prior") >= STILL_BRIGHTEST


def _untreated_lesion_gone(c: dict, changes: list[dict]) -> bool:
    """Caries does not heal on a radiograph: a lesion gone without a new filling or crown where it
    was is the detector's error in one of the images (an export style that clips the enamel hides a
    lesion the detector found before), not a change of the patient's."""
    if c["change"] != "gone" or c["label"] not in CARIES_LABELS:
        return False
    return not any(o["change"] == "new" and o["label"] in COVERING_LABELS and _iou(o["box"], c["box"]) > 0
                   for o in changes)


def _relabelled(c: dict, changes: list[dict]) -> bool:
    """A lesion new where a lesion of another label went, at the same place, is one dark area the
    detector named differently in the two images (no-change pair 73008: bone loss in the prior, caries
    in the current): a lesion does not turn into another."""
    if c["change"] not in ("new", "gone") or c["label"] not in RADIOLUCENT:
        return False
    other = "gone" if c["change"] == "new" else "new"
    return any(o["change"] == other and o["label"] in RADIOLUCENT and o["label"] != c["label"]
               and _iou(o["box"], c["box"]) >= SAME_PLACE_IOU for o in changes)


def _darker(evidence, f: dict, box, gate: float = GROWN_EVIDENCE) -> bool:
    """A prior lesion the detector did not find again (it may have merged the grown lesion with
    another on the same tooth, or scored it under its threshold) grew rather than went when the
    pixels around it turned darker: a lesion that went leaves them lighter."""
    if evidence is None or f["label"] not in RADIOLUCENT:
        return False
    return evidence(box, -1) >= gate


def _scaled(box, k: float) -> tuple[float, float, float, float]:
    cx, cy, hw, hh = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, k * (box[2] - box[0]) / 2, k * (box[3] - box[1]) / 2
    return cx - hw, cy - hh, cx + hw, cy + hh


def _sign(c: dict) -> int:
    """+1 where the change makes the current image lighter than the prior, -1 darker: a
    restoration that appears, a lesion that goes, is lighter; a lesion that appears or grows darker."""
    appears = -1 if c["label"] in RADIOLUCENT else 1
    return -appears if c["change"] == "gone" else appears


def _away_from_edge(box, w: float, h: float) -> bool:
    margin = ALIKE_EDGE_SHARE * max(w, h)
    return box[0] >= margin and box[1] >= margin and box[2] <= w - margin and box[3] <= h - margin


def _inverse(m: np.ndarray) -> np.ndarray:
    return np.linalg.inv(np.vstack([m, [0.0, 0.0, 1.0]]))[:2]


def _share_in(box, other) -> float:
    """The share of the box that lies in the other box."""
    return _area((max(box[0], other[0]), max(box[1], other[1]), min(box[2], other[2]), min(box[3], other[3]))) \
        / max(_area(box), 1e-6)


def _inside(box, w: float, h: float) -> float:
    """The share of the box inside a w × h image."""
    return _share_in(box, (0.0, 0.0, w, h))


def _renumbered_finding(f: dict, numbers: dict[int, int]) -> dict:
    fdi = int(f["tooth_fdi"]) if f.get("tooth_fdi") else None
    return f if fdi is None or fdi not in numbers else {**f, "tooth_fdi": numbers[fdi]}


def _change(kind: str, f, box, **extra) -> dict:
    out = {"change": kind, "label": f["label"], "tooth_fdi": int(f["tooth_fdi"]) if f.get("tooth_fdi") else None,
           "surfaces": f.get("surfaces") or "", "box": [round(v, 1) for v in box], **extra}
    if f.get("confidence") is not None:   # the finding that changed: how sure the detector was of it
        out["confidence"] = round(float(f["confidence"]), 3)
    return out


def same_teeth(current: list[dict], prior: list[dict], matrix) -> dict[int, int]:
    """prior tooth number -> the number of the current tooth its aligned box overlaps most: the
    detector may number a tooth differently in the two images (one tooth off at an edge)."""
    m = np.asarray(matrix, dtype=np.float64)
    now = [(int(f["tooth_fdi"]), _box(f)) for f in current if f["label"] in ANATOMY_LABELS and f.get("tooth_fdi")]
    out = {}
    for f in prior:
        if f["label"] not in ANATOMY_LABELS or not f.get("tooth_fdi"):
            continue
        box = _mapped_box(_box(f), m)
        best = max(now, key=lambda t: _iou(box, t[1]), default=None)
        if best is not None and _iou(box, best[1]) >= 0.5:
            out[int(f["tooth_fdi"])] = best[0]
    return out


def summary_of(comparisons: list[dict]) -> dict:
    """What a study's comparisons add to its summary: the earliest prior date with a change,
    whether anything progresses (a finding grew, bone receded), and the counted changes."""
    changed = [c for c in comparisons if c["registered"] and c["changes"]] + \
        [c for c in comparisons if any(b.get("progressing") for b in c["bone"])]
    grown = sum(1 for c in comparisons for x in c["changes"] if x["change"] == "grown")
    receded = [b for c in comparisons for b in c["bone"] if b.get("progressing")]
    counts = {k: sum(1 for c in comparisons if c["registered"] for x in c["changes"] if x["change"] == k)
              for k in ("new", "gone", "grown")}
    return {"since": min((c["prior_date"] for c in changed), default=""), "progressing": bool(grown or receded),
            "counts": counts, "receded": receded,
            "changes": [x | {"prior_date": c["prior_date"]} for c in comparisons if c["registered"] for x in c["changes"]]}
