"""Pixel evidence of a change between an image and its aligned prior (clinical/change.py asks it):
how much the current image differs from the prior inside a finding's box, against the ring around
it, after the two exports' tones are matched; and whether the box shows the same shape in both.
"""

from __future__ import annotations

import numpy as np

SMOOTH_SIGMA = 1.5        # px: sensor noise, not structure, dominated the residual of a single pixel
REGISTRATION_SLACK = 2    # px: a residual within the prior's range this near is misalignment of an edge, not change
MIN_BOX_SHARE = 0.05      # of a box's pixels usable (seen, not clipped) for any evidence (0.25 lost 5 real changes on seeds 5000-17000)
TONE_QUANTILES = 33       # the prior's tone mapped onto the current's by matching this many quantiles around the box


def clipped(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(at the image's ceiling, at its floor): pixels an export style clipped say only that the
    true value lay beyond. A plateau counts only when it holds a noticeable share of the image."""
    out = []
    for extreme, near in ((img.max(), lambda v: img >= v - 1), (img.min(), lambda v: img <= v + 1)):
        mask = near(extreme)
        out.append(mask if mask.mean() >= 0.002 else np.zeros_like(mask))
    return out[0], out[1]


def not_anatomy(img: np.ndarray, corners: bool = False) -> np.ndarray:
    """Pixels an export drew over the radiograph: burnt-in text (thin strokes at the image's extreme
    value) and, with `corners`, a sensor outline's fill (the extreme plateau that reaches a corner).
    Where they lie neither image says what the mouth looks like."""
    import cv2

    h, w = img.shape
    out = np.zeros(img.shape, bool)
    for plateau in clipped(img):
        mask = plateau.astype(np.uint8)
        out |= (mask & ~cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))).astype(bool)
        if corners and mask.any():
            _, labels = cv2.connectedComponents(mask, connectivity=8)
            at_corner = {int(labels[y, x]) for y in (0, h - 1) for x in (0, w - 1)} - {0}
            if at_corner:
                out |= np.isin(labels, list(at_corner))
    return cv2.dilate(out.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)


def pixel_evidence(current: np.ndarray, prior_aligned: np.ndarray, seen: np.ndarray):
    """box -> how much the current image differs from the aligned prior inside the box, relative
    to the ring around it. Both images are smoothed (noise is no change); the prior's tone is
    mapped onto the current's by matching quantiles in the ring (export styles differ by curves,
    not lines, and clip), and beyond the ring's range of tones by the whole image's curve
    (`whole_image_tone`, `mapped_prior`); a residual inside the box counts only beyond what the prior shows within
    REGISTRATION_SLACK pixels (an edge a pixel off is no change). Pixels clipped in either image are
    left out of the ring, and out of the box where clipping could fake the change's direction. A
    detector's flicker between two exposures leaves the pixels alike (≈0); a filling that was not
    there, or a lesion that grew, does not."""
    import cv2

    cur = cv2.GaussianBlur(current.astype(np.float32), (0, 0), SMOOTH_SIGMA)
    pri = cv2.GaussianBlur(prior_aligned.astype(np.float32), (0, 0), SMOOTH_SIGMA)
    cur_hi, cur_lo = clipped(current)
    pri_hi, pri_lo = clipped(prior_aligned)
    slack = np.ones((2 * REGISTRATION_SLACK + 1,) * 2, np.uint8)
    whole_tone = whole_image_tone(cur, pri, seen & ~(cur_hi | cur_lo | pri_hi | pri_lo))

    def score(box, sign: int = 0) -> float:
        """sign 0: any residual; +1 / -1: only the current image lighter / darker than the prior."""
        h, w = current.shape
        x1, y1, x2, y2 = box
        pad = max(8.0, 0.75 * max(x2 - x1, y2 - y1))
        wx1, wy1 = int(max(0, x1 - pad)), int(max(0, y1 - pad))
        wx2, wy2 = int(min(w, x2 + pad)), int(min(h, y2 + pad))
        if wx2 - wx1 < 4 or wy2 - wy1 < 4:
            return 0.0
        win = np.s_[wy1:wy2, wx1:wx2]
        c, p = cur[win], pri[win]
        inner = np.zeros(c.shape, bool)
        inner[int(max(0, y1 - wy1)):int(max(0, y2 - wy1)), int(max(0, x1 - wx1)):int(max(0, x2 - wx1))] = True
        clipped = cur_hi[win] | cur_lo[win] | pri_hi[win] | pri_lo[win]
        # clipping that can only hide the change's direction is kept: a new filling the current
        # image clips is still lighter than the prior there
        fake = {1: cur_lo[win] | pri_hi[win], -1: cur_hi[win] | pri_lo[win]}.get(sign, clipped)
        ring, box_px = seen[win] & ~inner & ~clipped, seen[win] & inner & ~fake
        if ring.sum() < 12 or box_px.sum() < max(6.0, MIN_BOX_SHARE * inner.sum()):
            return 0.0   # a few pixels of the box say nothing (a bracket both images clip: pair 33001)
        pred = mapped_prior(p, p[ring], c[ring], whole_tone, TONE_QUANTILES)
        d = c - np.clip(c, cv2.erode(pred, slack), cv2.dilate(pred, slack))
        r = np.abs(c - pred)
        # the larger half of the residuals: a lesion that grew changes part of its box
        inside = sign * d[box_px] if sign else np.abs(d[box_px])
        return float(_upper_half(inside) / (_upper_half(r[ring]) + 1e-6))

    def inside(box) -> tuple[np.ndarray, np.ndarray]:
        """(current, prior) smoothed pixels inside the box that both images show."""
        h, w = current.shape
        x1, y1 = int(max(0, box[0])), int(max(0, box[1]))
        x2, y2 = int(min(w, box[2])), int(min(h, box[3]))
        m = seen[y1:y2, x1:x2]
        return cur[y1:y2, x1:x2][m], pri[y1:y2, x1:x2][m]

    def alike(box) -> float:
        """The correlation of the two images' pixels inside the box: a shape both show (≈1) is
        the same thing, whatever the tones around it."""
        a, b = inside(box)
        if a.size < 12 or a.std() < 1e-3 or b.std() < 1e-3:
            return 0.0
        return float(np.corrcoef(a, b)[0, 1])

    sorted_seen: dict[str, np.ndarray] = {}    # each image's seen pixels, sorted on first use

    def brightest_rank(box, of: str = "current") -> float:
        """The brightness rank (0-1, over the pixels both images show) in image `of` ("current" or
        "prior") of what is brightest inside the box in the other image (its brightest quarter
        there), the median: ≈1 where the other image's brightest thing, e.g. a crown, is as bright
        as anything in this one too. Ranks, not tones: an export's curve does not change them."""
        a, b = inside(box) if of == "current" else inside(box)[::-1]
        if a.size < 12:
            return 0.0
        if of not in sorted_seen:
            sorted_seen[of] = np.sort((cur if of == "current" else pri)[seen])
        top = a[b >= np.quantile(b, 0.75)]
        return float(np.median(np.searchsorted(sorted_seen[of], top, side="right")) / sorted_seen[of].size)

    score.alike = alike
    score.brightest_rank = brightest_rank
    return score


def tone_quantiles(prior_px: np.ndarray, current_px: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The prior's tone -> the current's as `n` matched quantiles (`np.interp(v, *pair)`); the
    prior's made strictly rising for interp."""
    qs = np.linspace(0.0, 1.0, n)
    return np.maximum.accumulate(np.quantile(prior_px, qs) + qs * 1e-3), np.quantile(current_px, qs)


def mapped_prior(p: np.ndarray, ring_prior: np.ndarray, ring_current: np.ndarray, whole_tone, n: int) -> np.ndarray:
    """The prior's tones `p` on the current's scale: by `n` quantiles matched in a ring around a box,
    and beyond the ring's range by the whole image's curve (`whole_image_tone`) on from near the
    ring's ends (its second quantiles: the very ends are the noise's), not a flat clamp at them (a
    lesion darker than all its ring)."""
    pq, cq = tone_quantiles(ring_prior, ring_current, n)
    pred = np.interp(p, pq, cq)
    whole = whole_tone(p)
    pred = np.where(p < pq[1], cq[1] + whole - whole_tone(pq[1]), pred)
    return np.where(p > pq[-2], cq[-2] + whole - whole_tone(pq[-2]), pred).astype(np.float32)


def whole_image_tone(cur: np.ndarray, pri: np.ndarray, usable: np.ndarray):
    """The prior's tone -> the current's, by quantiles over all the pixels both show unclipped;
    with too few of them no curve is known and tones stay as they are."""
    if usable.sum() < 100:
        return lambda v: np.asarray(v, np.float64)
    pq, cq = tone_quantiles(pri[usable], cur[usable], 65)
    return lambda v: np.interp(v, pq, cq)


def _upper_half(values: np.ndarray) -> float:
    return float(np.sort(values)[values.size // 2:].mean())
