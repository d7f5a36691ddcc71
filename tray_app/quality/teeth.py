"""Checks that need the teeth: apices cut off on a periapical, overlapping contacts on a
bitewing, an image flipped or upside down against its mount position.

They use the model's `tooth` boxes (stored findings of label "tooth"; the bundled model finds
them) and the image's own header (its teeth in FDI and laterality). With no tooth boxes, or no
header saying which side or arch the image shows, a check says nothing rather than guess.
"""

from __future__ import annotations

import numpy as np

Box = tuple[float, float, float, float]


def whole_across(boxes: list[Box], width: int, edge: float = 3.0) -> list[Box]:
    """Teeth wholly across the image (the partial ones at the left and right edges say little)."""
    return [b for b in boxes if b[0] > edge and b[2] < width - edge]


def arch_of(teeth_fdi: list[int]) -> str:
    """'upper' or 'lower' when the header's teeth are all of one arch, else ''."""
    arches = {"upper" if t // 10 in (1, 2, 5, 6) else "lower" for t in teeth_fdi}
    return arches.pop() if len(arches) == 1 else ""


def apices_cut(boxes: list[Box], width: int, height: int, *, margin_px: float) -> list[str]:
    """The image edges ('top', 'bottom') that a tooth wholly across the image reaches (within
    `margin_px`): on a periapical the root tips lie beyond that edge."""
    edges = set()
    for x1, y1, x2, y2 in whole_across(boxes, width):
        if y1 <= margin_px:
            edges.add("top")
        if y2 >= height - margin_px:
            edges.add("bottom")
    return sorted(edges)


def rows(boxes: list[Box]) -> tuple[list[Box], list[Box]]:
    """Upper and lower rows of a bitewing: split at the widest gap between box centres in y
    (([], []) when the boxes do not stand in two rows a crown's height apart)."""
    if len(boxes) < 2:
        return [], []
    ys = sorted((b[1] + b[3]) / 2 for b in boxes)
    gaps = [(ys[i + 1] - ys[i], i) for i in range(len(ys) - 1)]
    gap, i = max(gaps)
    if gap < 0.3 * float(np.median([b[3] - b[1] for b in boxes])):
        return [], []
    cut = (ys[i] + ys[i + 1]) / 2
    return [b for b in boxes if (b[1] + b[3]) / 2 < cut], [b for b in boxes if (b[1] + b[3]) / 2 >= cut]


def contact_overlaps(boxes: list[Box]) -> list[tuple[float, float]]:
    """(overlap in px, x of the contact) of neighbouring crowns in each row of a bitewing."""
    found = []
    for row in rows(boxes):
        row = sorted(row)
        for a, b in zip(row, row[1:]):
            found.append((a[2] - b[0], (a[2] + b[0]) / 2))
    return found


def molars_on(boxes: list[Box], width: int) -> tuple[str, float]:
    """Which side of the image ('left'/'right') the wider teeth (molars) are on, and how sure:
    the correlation of crown width with position (0 = no trend)."""
    inner = whole_across(boxes, width)
    if len(inner) < 3:
        return "", 0.0
    x = np.array([(b[0] + b[2]) / 2 for b in inner])
    wd = np.array([b[2] - b[0] for b in inner])
    if x.std() < 1 or wd.std() < 1e-6:
        return "", 0.0
    r = float(np.corrcoef(x, wd)[0, 1])
    return ("right" if r > 0 else "left"), abs(r)


def crowns_at(img: np.ndarray, boxes: list[Box]) -> tuple[str, float]:
    """Which end ('top'/'bottom') of a periapical's teeth the crowns are at — enamel is the
    brightest tissue — and the brightness difference (0-255) between the ends."""
    inner = whole_across(boxes, img.shape[1]) or boxes
    if not inner:
        return "", 0.0
    top = bottom = 0.0
    for x1, y1, x2, y2 in inner:
        t = img[int(y1):int(y2), int(x1):int(x2)].astype(np.float32)
        if t.shape[0] < 6 or t.shape[1] < 2:
            continue
        third = t.shape[0] // 3
        top += float(t[:third].mean())
        bottom += float(t[-third:].mean())
    diff = (top - bottom) / len(inner)
    return ("top" if diff > 0 else "bottom"), abs(diff)


def _smooth(p: np.ndarray, half: int) -> np.ndarray:
    half = max(1, half)
    return np.convolve(np.pad(p, half, mode="edge"), np.ones(2 * half + 1) / (2 * half + 1), mode="valid")


def root_continuity(img: np.ndarray, edge: str, boxes: list[Box], px_per_mm: float, *,
                    inside_mm: tuple[float, ...] = (1.0, 1.5), core: float = 0.6) -> float:
    """How much the image at the `edge` ('top'/'bottom') looks like the image `inside_mm` inside it
    (the least alike of those depths), across the middle (`core`) of each tooth, where its root
    runs: the correlation (-1..1) of the brightness profiles, fine texture and slow shading taken out. A root that runs into the edge shows the same bands (dentin, canal, ligament space)
    at both levels; bone beyond the apices shows unrelated trabeculae. The sensor's outline (a
    saturated fill) is skipped."""
    a = img.astype(np.float32)
    if edge == "bottom":
        a = a[::-1]
    w = a.shape[1]
    cols = np.zeros(w, bool)
    for x1, _, x2, _ in whole_across(boxes, w) or boxes:
        pad = (x2 - x1) * (1 - core) / 2
        cols[int(x1 + pad):int(x2 - pad)] = True
    if cols.sum() < 10:
        cols[int(0.1 * w):int(0.9 * w)] = True
    start = 0
    while start < a.shape[0] // 4 and np.mean((a[start, cols] <= 2) | (a[start, cols] >= 253)) > 0.5:
        start += 1
    band = int(round(0.8 * px_per_mm))
    if start + int(round(max(inside_mm) * px_per_mm)) + band >= a.shape[0]:
        return 0.0

    def profile(y: int) -> np.ndarray:
        p = _smooth(a[y:y + band].mean(axis=0), int(0.3 * px_per_mm))
        return (p - _smooth(p, int(2.5 * px_per_mm)))[cols]

    near = profile(start)
    alike = []
    for depth in inside_mm:
        far = profile(start + int(round(depth * px_per_mm)))
        if near.std() < 1e-3 or far.std() < 1e-3:
            return 0.0
        alike.append(float(np.corrcoef(near, far)[0, 1]))
    return min(alike)


def contact_brightness(img: np.ndarray, boxes: list[Box], px_per_mm: float) -> list[tuple[float, float]]:
    """(excess, x) per contact of a bitewing: how much brighter (grey levels) the contact between
    neighbouring crowns is than the two crowns, in the crown band next to the occlusal gap. Where
    crowns overlap, enamel lies on enamel and the contact is the brightest part of the row; where
    they only touch, the embrasures around the contact point make it darker. (The model's boxes
    alone do not show an overlap: it tends to split the overlapping zone between the two teeth.)"""
    found = []
    for row, upper in zip(rows(boxes), (True, False)):
        row = sorted(row)
        if len(row) < 2:
            continue
        height = min(b[3] - b[1] for b in row)
        for a, b in zip(row, row[1:]):
            if b[0] - a[2] > 1.5 * px_per_mm:
                continue  # a space between them (a missing tooth), no contact
            gap = min(a[3], b[3]) if upper else max(a[1], b[1])
            y1, y2 = (gap - 0.35 * height, gap - 0.05 * height) if upper else (gap + 0.05 * height, gap + 0.35 * height)
            band = img[max(0, int(y1)):max(0, int(y2))].astype(np.float32)
            if band.size == 0:
                continue
            profile = band.mean(axis=0)

            def around(x: float, half: float) -> float:
                part = profile[max(0, int(x - half)):max(1, int(x + half))]
                return float(part.mean()) if part.size else 0.0

            contact = (a[2] + b[0]) / 2
            crowns = (around((a[0] + a[2]) / 2, px_per_mm) + around((b[0] + b[2]) / 2, px_per_mm)) / 2
            found.append((around(contact, 0.75 * px_per_mm) - crowns, contact))
    return found
