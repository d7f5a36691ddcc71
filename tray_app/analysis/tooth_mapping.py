"""Places findings on teeth: Universal/FDI number and surfaces, or an honest "unknown".

Radiographs are mounted labially (patient's right on the viewer's left), so on the image
the patient's right quadrants (1, 4, 5, 8) run distal→mesial from left to right and the
left quadrants (2, 3, 6, 7) mesial→distal. Detected tooth boxes are numbered from the
DICOM tooth list when there is one (a monotonic alignment of boxes to listed teeth), or for
a panoramic from their order outward from the midline. Findings take the tooth they
overlap most; surfaces come from where the finding sits on that tooth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..labels import ANATOMY_LABELS, NEAR_TOOTH_LABELS, SURFACE_LABELS
from ..teeth import arch_of_fdi, fdi_to_universal, is_valid_fdi


@dataclass(frozen=True)
class Placed:
    tooth_fdi: int | None
    tooth_universal: str
    surfaces: str


def display_order(fdi: int) -> float:
    """Horizontal order on a labially mounted image, viewer's left to right."""
    quadrant, position = divmod(fdi, 10)
    return -position if quadrant in (1, 4, 5, 8) else position


def _cx(b: Sequence[float]) -> float:
    return (b[0] + b[2]) / 2


def _cy(b: Sequence[float]) -> float:
    return (b[1] + b[3]) / 2


def _align(xs: list[float], slots: list[float]) -> list[int | None]:
    """Monotonic assignment of sorted positions xs to sorted slots minimising total distance."""
    k, n = len(xs), len(slots)
    if k == 0:
        return []
    if k > n:  # more boxes than listed teeth: assign teeth to boxes, the rest stay unknown
        inverse = _align(slots, xs)
        out: list[int | None] = [None] * k
        for slot_index, box_index in enumerate(inverse):
            if box_index is not None:
                out[box_index] = slot_index
        return out
    inf = float("inf")
    cost = [[inf] * (n + 1) for _ in range(k + 1)]
    take = [[False] * (n + 1) for _ in range(k + 1)]
    for j in range(n + 1):
        cost[0][j] = 0.0
    for i in range(1, k + 1):
        for j in range(i, n + 1):
            skip = cost[i][j - 1]
            use = cost[i - 1][j - 1] + abs(xs[i - 1] - slots[j - 1])
            if use <= skip:
                cost[i][j], take[i][j] = use, True
            else:
                cost[i][j] = skip
    out = [None] * k
    i, j = k, n
    while i > 0:
        if take[i][j]:
            out[i - 1] = j - 1
            i -= 1
        j -= 1
    return out


def _split_rows(boxes: list[Sequence[float]], height: float) -> tuple[list[int], list[int]]:
    """Upper and lower row indices: split tooth centres at the widest vertical gap near the middle."""
    if not boxes:
        return [], []
    ys = sorted((_cy(b), i) for i, b in enumerate(boxes))
    best, cut = -1.0, height / 2
    for (y0, _), (y1, _) in zip(ys, ys[1:]):
        mid = (y0 + y1) / 2
        if 0.25 * height < mid < 0.75 * height and y1 - y0 > best:
            best, cut = y1 - y0, mid
    upper = [i for y, i in ys if y < cut]
    lower = [i for y, i in ys if y >= cut]
    return upper, lower


# typical mesiodistal crown widths in mm by position (permanent 1-8, primary 1-5)
_WIDTH_MM = {
    ("maxilla", False): (8.5, 6.5, 7.5, 7.0, 6.5, 10.0, 9.0, 8.5),
    ("mandible", False): (5.0, 5.5, 7.0, 7.0, 7.0, 11.0, 10.5, 10.0),
    ("maxilla", True): (6.5, 5.2, 7.0, 7.3, 8.2),
    ("mandible", True): (4.0, 4.5, 5.0, 7.7, 9.9),
}


def _width_mm(fdi: int) -> float:
    return _WIDTH_MM[(arch_of_fdi(fdi), fdi // 10 >= 5)][fdi % 10 - 1]


def _assign_row(xs: list[float], widths_px: list[float], teeth: list[int]) -> list[int | None]:
    """Align sorted box centres to teeth in display order, allowing missing teeth on either side:
    slots are laid out with typical tooth widths, scaled to the boxes, and shifted to fit best."""
    if not xs or not teeth:
        return [None] * len(xs)
    typical = [_width_mm(f) for f in teeth]
    ordered = sorted(widths_px)
    scale = ordered[len(ordered) // 2] / sorted(typical)[len(typical) // 2]
    slots, acc = [], 0.0
    for w in typical:
        slots.append((acc + w / 2) * scale)
        acc += w
    best: tuple[float, list[int | None]] | None = None
    for x in xs:
        for slot in slots:
            shifted = [s + x - slot for s in slots]
            assignment = _align(xs, shifted)
            cost = sum(abs(xi - shifted[j]) for xi, j in zip(xs, assignment) if j is not None)
            cost += scale * 8.0 * sum(j is None for j in assignment)
            if best is None or cost < best[0]:
                best = (cost, assignment)
    return [teeth[j] if j is not None else None for j in best[1]]


def _symmetric_midline(rows: list[list[int]], boxes, width: float) -> float:
    """The vertical line about which the teeth are most nearly mirror images of each other
    (patients stand up to a tooth off the machine's centre), within 6 % of the image centre."""
    import numpy as np

    xs = [np.array([_cx(boxes[i]) for i in row]) for row in rows if len(row) >= 2]
    if not xs:
        return width / 2
    best, best_cost = width / 2, float("inf")
    for mid in np.linspace(0.44 * width, 0.56 * width, 97):
        cost = 0.0
        for x in xs:
            d = x - mid
            left, right = -d[d < 0], d[d >= 0]
            if not len(left) or not len(right):
                cost += float(np.abs(d).sum())
                continue
            cost += float(np.abs(left[:, None] - right[None, :]).min(axis=1).sum())
            cost += float(np.abs(right[:, None] - left[None, :]).min(axis=1).sum())
        if cost < best_cost - 1e-9:
            best, best_cost = float(mid), cost
    return best


def _pitch(row: list[int], boxes) -> float | None:
    """Median distance between neighbouring tooth centres: the arch's scale. Box widths
    overstate it (a tilted 23 mm tooth widens its box), gaps only lengthen a few pitches."""
    xs = sorted(_cx(boxes[i]) for i in row)
    steps = sorted(b - a for a, b in zip(xs, xs[1:]))
    return steps[len(steps) // 2] if len(steps) >= 3 else None


def _assign_from_midline(side: list[int], boxes, mid: float, quadrant: int, pitch: float | None) -> list[int | None]:
    if not side:
        return []
    teeth = [quadrant * 10 + p for p in range(1, 9)]
    typical = [_width_mm(f) for f in teeth]
    if pitch is None:
        widths = sorted(boxes[i][2] - boxes[i][0] for i in side)
        pitch = 0.8 * widths[len(widths) // 2]
    scale = pitch / sorted(typical)[len(typical) // 2]
    slots, acc = [], 0.0
    for w in typical:
        slots.append((acc + w / 2) * scale)
        acc += w
    dist = [abs(_cx(boxes[i]) - mid) for i in side]
    return [teeth[j] if j is not None else None for j in _align(dist, slots)]


def number_teeth(tooth_boxes: list[Sequence[float]], *, kind: str, width: float, height: float,
                 listed_fdi: Sequence[int] = ()) -> list[int | None]:
    listed = [f for f in listed_fdi if is_valid_fdi(f)]
    result: list[int | None] = [None] * len(tooth_boxes)
    if not tooth_boxes or (not listed and kind != "panoramic"):
        return result  # an intra-oral image without a tooth list cannot be placed honestly
    if kind == "periapical" or (listed and len({arch_of_fdi(f) for f in listed}) == 1):
        rows = [list(range(len(tooth_boxes)))]
        arches: list[str | None] = [arch_of_fdi(listed[0])] if listed else [None]
    else:
        upper, lower = _split_rows(tooth_boxes, height)
        rows, arches = [upper, lower], ["maxilla", "mandible"]
    pano_mid = _symmetric_midline(rows, tooth_boxes, width) if not listed else width / 2
    for row, arch in zip(rows, arches):
        if arch is None:
            continue
        row = sorted(row, key=lambda i: _cx(tooth_boxes[i]))
        if not listed:
            # a panoramic shows the whole arch: per quadrant, lay the teeth out from the midline
            # with typical widths and align the boxes to them, so a gap (an extraction) is
            # skipped instead of renumbering every tooth behind it
            mid = pano_mid
            left = sorted((i for i in row if _cx(tooth_boxes[i]) < mid), key=lambda i: -_cx(tooth_boxes[i]))
            right = sorted((i for i in row if _cx(tooth_boxes[i]) >= mid), key=lambda i: _cx(tooth_boxes[i]))
            q_left, q_right = (1, 2) if arch == "maxilla" else (4, 3)
            pitch = _pitch(row, tooth_boxes)
            for quadrant, side in ((q_left, left), (q_right, right)):
                for i, fdi in zip(side, _assign_from_midline(side, tooth_boxes, mid, quadrant, pitch)):
                    result[i] = fdi
            continue
        teeth = sorted((f for f in listed if arch_of_fdi(f) == arch), key=display_order)
        xs = [_cx(tooth_boxes[i]) for i in row]
        widths = [tooth_boxes[i][2] - tooth_boxes[i][0] for i in row]
        for i, fdi in zip(row, _assign_row(xs, widths, teeth)):
            result[i] = fdi
    return result


def _overlap_fraction(f: Sequence[float], t: Sequence[float]) -> float:
    w = min(f[2], t[2]) - max(f[0], t[0])
    h = min(f[3], t[3]) - max(f[1], t[1])
    area = max((f[2] - f[0]) * (f[3] - f[1]), 1e-9)
    return max(w, 0) * max(h, 0) / area


def surfaces_for(finding: Sequence[float], tooth: Sequence[float], fdi: int) -> str:
    """Surface letters from where the finding lies on the tooth box (M/D sides, occlusal end)."""
    tw = max(tooth[2] - tooth[0], 1e-9)
    th = max(tooth[3] - tooth[1], 1e-9)
    a = (finding[0] - tooth[0]) / tw
    b = (finding[2] - tooth[0]) / tw
    mesial_on_right = fdi // 10 in (1, 4, 5, 8)
    touches_left, touches_right = a < 0.28, b > 0.72
    mesial = touches_right if mesial_on_right else touches_left
    distal = touches_left if mesial_on_right else touches_right
    upper = arch_of_fdi(fdi) == "maxilla"
    # occlusal end of the crown: bottom of an upper tooth, top of a lower one
    top = (finding[1] - tooth[1]) / th
    bottom = (finding[3] - tooth[1]) / th
    at_occlusal_end = bottom > 0.7 if upper else top < 0.3
    central = a < 0.65 and b > 0.35
    posterior = fdi % 10 >= 4
    occlusal = central and at_occlusal_end and (posterior or not (mesial or distal))
    top_letter = ("O" if posterior else "I") if occlusal else ""
    if mesial and distal:
        return "M" + top_letter + "D"  # MOD
    # the usual two-surface forms: MO, DO
    return ("M" if mesial else "") + ("D" if distal else "") + top_letter


def place_findings(detections: Sequence, *, kind: str, width: float, height: float,
                   listed_fdi: Sequence[int] = ()) -> list[Placed]:
    """One `Placed` per detection (same order). Detections need `.label` and `.box`."""
    tooth_idx = [i for i, d in enumerate(detections) if d.label in ANATOMY_LABELS]
    tooth_boxes = [detections[i].box for i in tooth_idx]
    numbers = number_teeth(tooth_boxes, kind=kind, width=width, height=height, listed_fdi=listed_fdi)
    numbered = [(box, fdi) for box, fdi in zip(tooth_boxes, numbers) if fdi is not None]
    out: list[Placed] = []
    by_index = dict(zip(tooth_idx, numbers))
    for i, d in enumerate(detections):
        fdi: int | None = None
        box = d.box
        if i in by_index:
            fdi = by_index[i]
        elif numbered:
            best_box, best_fdi = max(numbered, key=lambda t: _overlap_fraction(box, t[0]))
            if _overlap_fraction(box, best_box) >= 0.25:
                fdi = best_fdi
            elif d.label in NEAR_TOOTH_LABELS:
                near_box, near_fdi = min(numbered, key=lambda t: abs(_cx(t[0]) - _cx(box)) + 0.5 * abs(_cy(t[0]) - _cy(box)))
                if abs(_cx(near_box) - _cx(box)) < (near_box[2] - near_box[0]):
                    fdi, best_box = near_fdi, near_box
            if fdi is not None and d.label in SURFACE_LABELS:
                out.append(Placed(fdi, str(fdi_to_universal(fdi)), surfaces_for(box, best_box, fdi)))
                continue
        out.append(Placed(fdi, str(fdi_to_universal(fdi)) if fdi is not None else "", ""))
    return out
