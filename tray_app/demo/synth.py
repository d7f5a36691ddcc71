"""Synthetic dental radiographs (bitewing, periapical, panoramic) with exact ground truth.

No openly licensed dental dataset exists, so the demo detector, the demo UI and the
benchmarks all run on these images.  Pure numpy, seeded, fast.

How an image is made (and why):
* Every tooth lives in its own local frame (u across the tooth, v from the occlusal
  surface toward the apex), so shapes are simple 1-D profiles in v and every finding is
  placed relative to anatomy (CEJ, DEJ, contact point, apex) rather than to pixels.
* Brightness comes from a projection model: each structure contributes an attenuation
  proportional to the X-ray path length through it (half-chords of cylinders), so enamel
  caps get bright rims, pulp is darker, overlapping contacts are brighter and the cervical
  neck is naturally darker (burn-out) -- the cues a radiograph reader expects.
* Attenuation -> transmission (exposure) -> blur -> quantum + electronic noise -> display
  curve -> sensor code range (8/12/16 bit).
* Ground-truth boxes are the exact pixel extent of what was drawn (x2/y2 exclusive, in
  pixel units, clipped to the image).  Objects whose analytic extent is < 25 % inside the
  image are dropped.
"""

from __future__ import annotations

import contextvars
import math
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np

from . import imaging_chain
from .pixel_filters import _binomial, _blur, _blur_big, _upsample

LABELS: tuple[str, ...] = ("tooth", "caries", "restoration", "crown", "root_canal", "implant",
                           "calculus", "periapical_radiolucency", "bone_loss")
KINDS = ("bitewing", "periapical", "panoramic")

F32 = np.float32


@dataclass(frozen=True)
class GroundTruth:
    label: str                                  # one of LABELS
    box: tuple[float, float, float, float]      # x1, y1, x2, y2 in image pixels (x right, y down)
    tooth_fdi: int | None                       # FDI number of the tooth it belongs to
    surfaces: str = ""                          # "M", "D", "O", "MO", ... when meaningful


@dataclass
class Sample:
    image: np.ndarray       # 2-D; uint8 when bits_stored == 8, else uint16 holding bits_stored bits
    bits_stored: int        # 8, 12 or 16
    kind: str               # one of KINDS
    teeth_fdi: list[int]    # teeth shown (FDI), whole or partial
    laterality: str         # "R", "L" or "B"
    pixel_spacing_mm: float
    objects: list[GroundTruth]
    seed: int
    style: str = "clean"    # imaging_chain family the export went through
    # the drawn teeth (tooth frames, crest depths) and the export crop, for ground truth that is
    # not a box: demo/landmarks.py (CEJ, crest, apex) and demo/pairs.py (prior/current pairs)
    teeth: list = field(default_factory=list, repr=False)
    crop: tuple = (0, 0, 0, 0)


# --------------------------------------------------------------------------- anatomy tables
# FDI position -> (crown MD width, crown height, root length [mm], BL/MD depth ratio)
_DIMS = {
    "U": {1: (8.6, 10.5, 13.0, .80), 2: (6.6, 9.0, 13.0, .90), 3: (7.6, 10.0, 17.0, 1.05),
          4: (7.0, 8.5, 14.0, 1.25), 5: (6.8, 8.0, 14.0, 1.25), 6: (10.2, 7.5, 12.5, 1.10),
          7: (9.2, 7.0, 12.0, 1.10), 8: (8.6, 6.5, 11.0, 1.10)},
    "L": {1: (5.2, 9.0, 12.5, 1.15), 2: (5.8, 9.5, 14.0, 1.10), 3: (6.9, 11.0, 16.0, 1.10),
          4: (7.0, 8.5, 14.0, 1.10), 5: (7.1, 8.0, 14.5, 1.15), 6: (11.2, 7.5, 14.0, .95),
          7: (10.5, 7.0, 13.0, .95), 8: (10.0, 7.0, 11.0, .95)},
}
# attenuation per mm of path ("units" are arbitrary; exposure k scales them)
MU_ENAMEL, MU_DENTIN, MU_PULP = 1.0, 0.55, 0.08
BONE_MM = 16.0          # bucco-lingual bone thickness a root displaces


def _ss(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _hc(r, d):
    """Half chord through a cylinder of radius r at lateral offset d (0 outside)."""
    return np.sqrt(np.maximum(r * r - d * d, 0.0))


def _bbox(mask, x0, y0):
    """Exact pixel bbox (x2/y2 exclusive) of a window mask, or None."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return (float(x0 + cols[0]), float(y0 + rows[0]), float(x0 + cols[-1] + 1), float(y0 + rows[-1] + 1))


def _union(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


# --------------------------------------------------------------------------- tooth model
@dataclass
class _Tooth:
    fdi: int
    x: float                 # occlusal centre in image px
    y: float
    ang: float               # tilt of the long axis (rad)
    ppm: float               # pixels per mm
    W: float                 # half crown width (px)
    ch: float                # crown height (px)
    rl: float                # root length (px)
    depth: float             # bucco-lingual / mesio-distal ratio (path length factor)
    ms: int                  # +1 when mesial is toward +u (image right)
    tc: float = .3           # contact level (fraction of crown height) = widest point
    k_occ: float = .12
    k_cerv: float = .25
    cusp: tuple = ("two", 0.0, .45, 0.0)
    e_occ: float = 0.0
    e_lat: float = 0.0
    roots: list = field(default_factory=list)   # [c0, cA, r0, L, weight]
    trunk: float = 0.0       # v where the root trunk ends (multi-rooted), else 0
    pulp: float = 1.0
    # findings
    implant: dict | None = None
    crown: bool = False
    rct: bool = False
    resto: str = ""
    resto_p: dict = field(default_factory=dict)
    crown_p: dict = field(default_factory=dict)    # material: att scale, PFM coping, post
    rct_p: dict = field(default_factory=dict)      # gutta-percha: brightness, short fill, voids
    pontic: bool = False     # bridge unit over a missing tooth: a crown without a root
    decap: float = 0.0       # retained root: nothing drawn above this v
    caries: list = field(default_factory=list)
    calculus: list = field(default_factory=list)
    parl: dict | None = None
    crest: dict = field(default_factory=dict)      # side -> mm below CEJ
    bone_loss: set = field(default_factory=set)

    @property
    def upper(self):
        return self.fdi // 10 in (1, 2)

    @property
    def pos(self):
        return self.fdi % 10

    @property
    def L(self):
        if self.implant:
            return self.implant["vt"] + self.implant["len"]
        return max(r[3] for r in self.roots)

    def axes(self):
        s = -1.0 if self.upper else 1.0
        a = (s * math.sin(self.ang), s * math.cos(self.ang))
        p = (math.cos(self.ang), -math.sin(self.ang))
        return a, p

    def to_img(self, u, v):
        (ax, ay), (px, py) = self.axes()
        return self.x + u * px + v * ax, self.y + u * py + v * ay

    def img_rect(self, u1, u2, v1, v2):
        xs, ys = zip(*(self.to_img(u, v) for u in (u1, u2) for v in (v1, v2)))
        return min(xs), min(ys), max(xs), max(ys)

    def crown_w(self, v):
        t = np.clip(v / self.ch, 0, 1)
        a = 1 - self.k_occ * np.clip((self.tc - t) / self.tc, 0, 1) ** 2
        b = 1 - self.k_cerv * np.clip((t - self.tc) / (1 - self.tc), 0, 1) ** 1.5
        return self.W * a * b

    @property
    def w_cej(self):
        return float(self.crown_w(np.float32(self.ch)))

    def top(self, u):
        kind, d, cp, dm = self.cusp
        a = np.abs(u) / self.W
        if kind == "inc":
            return d * a ** 4
        if kind == "can":
            return d * a ** 1.4
        inner = d * 0.5 * (1 + np.cos(np.pi * np.minimum(a / cp, 1)))
        outer = dm * np.clip((a - cp) / (1 - cp), 0, None) ** 2
        return np.where(a < cp, inner, outer)

    def root_parts(self, v, grow=0.0):
        """[(centre, radius, weight)] of every root (and the trunk) at depth v."""
        parts = []
        start = self.ch * 0.85
        for c0, cA, r0, L, wgt in self.roots:
            s = np.clip((v - self.ch) / (L - self.ch), 0, 1)
            c = c0 + (cA - c0) * s ** 1.5
            r = r0 * (1 - 0.68 * s ** 1.2)
            ra = max(0.5 * r0, 2.0)
            r = (r + grow) * np.sqrt(np.clip((L + grow - v) / (ra + grow), 0, 1)) * (v >= start)
            parts.append((c, r, wgt))
        if self.trunk > self.ch:
            s = np.clip((v - self.ch) / (self.trunk - self.ch), 0, 1)
            rt = self.w_cej * (1 - 0.12 * s)
            rt = (rt + grow) * np.sqrt(np.clip((self.trunk + grow - v) / (0.5 * (self.trunk - self.ch) + grow), 0, 1))
            parts.append((0.0, rt * (v >= start), 1.0))
        return parts

    def surface(self, v, sigma):
        """u-distance (signed by side sigma) of the outer root/crown surface at depth v."""
        out = np.where(v <= self.ch, self.crown_w(v), 0.0)
        for c, r, _ in self.root_parts(v):
            out = np.maximum(out, np.where(r > 0, sigma * c + r, 0.0))
        return out


def _make_tooth(rng, fdi, ppm, x, y, ang, ms, wscale=1.0):
    pos = fdi % 10
    upper = fdi // 10 in (1, 2)
    cw, chm, rlm, depth = _DIMS["U" if upper else "L"][pos]
    j = rng.uniform(0.93, 1.07)
    W = cw / 2 * ppm * j * wscale
    ch = chm * ppm * rng.uniform(0.92, 1.08)
    rl = rlm * ppm * rng.uniform(0.9, 1.08)
    t = _Tooth(fdi=fdi, x=x, y=y, ang=ang, ppm=ppm, W=W, ch=ch, rl=rl, depth=depth, ms=ms)
    t.pulp = rng.uniform(0.7, 1.15)
    d = ms  # mesial sign; distal root curvature uses -d
    if pos <= 2:
        t.tc, t.k_occ, t.k_cerv = .18, .05, .36
        t.cusp = ("inc", 0.5 * ppm, 0, 0)
        t.e_occ, t.e_lat = 1.0 * ppm, 0.8 * ppm
    elif pos == 3:
        t.tc, t.k_occ, t.k_cerv = .32, .22, .32
        t.cusp = ("can", 2.2 * ppm * rng.uniform(.8, 1.2), 0, 0)
        t.e_occ, t.e_lat = 1.4 * ppm, 1.0 * ppm
    elif pos <= 5:
        t.tc, t.k_occ, t.k_cerv = .3, .14, .3
        t.cusp = ("two", 0.8 * ppm * rng.uniform(.7, 1.3), .38, 1.2 * ppm)
        t.e_occ, t.e_lat = 1.5 * ppm, 1.1 * ppm
    else:
        t.tc, t.k_occ, t.k_cerv = .32, .14, .3
        t.cusp = ("two", 1.0 * ppm * rng.uniform(.7, 1.3), .45, 1.3 * ppm)
        t.e_occ, t.e_lat = 1.7 * ppm, 1.25 * ppm
    L = ch + rl
    rc = t.w_cej
    curve = -d * W * rng.uniform(0.0, 0.15)
    if pos == 4 and upper:                      # two superimposed roots splitting mid-way
        r0 = 0.5 * rc
        t.roots = [[-0.45 * rc, -0.55 * rc + curve, r0, L, 1.0], [0.45 * rc, 0.5 * rc + curve, r0, L * 0.97, 1.0]]
        t.trunk = ch + 0.5 * rl
    elif pos >= 6:
        r0 = 0.4 * rc
        off = rc - r0
        spread = rng.uniform(1.0, 1.3)
        if upper:
            t.roots = [[d * off, d * off * spread + curve, r0, L, 1.0],
                       [-d * off, -d * off * spread + curve, 0.9 * r0, ch + 0.9 * rl, 1.0],
                       [0.0, curve, 0.95 * r0, ch + 1.05 * rl, 0.45]]   # palatal, superimposed
            t.trunk = ch + 0.3 * rl
        else:
            t.roots = [[d * off, d * off * spread + curve, r0, L, 1.0],
                       [-d * off, -d * off * spread + curve, 0.95 * r0, ch + 0.93 * rl, 1.0]]
            t.trunk = ch + 0.22 * rl
        if pos == 8 and rng.random() < 0.5:     # fused third-molar roots
            for r in t.roots:
                r[1] *= 0.3
    else:
        t.roots = [[0.0, curve, rc, L, 1.0]]
    t.crest = {"M": rng.uniform(1.0, 2.0), "D": rng.uniform(1.0, 2.0)}
    return t


# --------------------------------------------------------------------------- image helpers
def _bandpass(rng, H, W, lams, bw=0.45, factor=2):
    """Band-pass noise fields (unit std) around each wavelength in lams (px), from one
    white-noise FFT at reduced resolution (returned at that resolution)."""
    h, w = max(8, H // factor), max(8, W // factor)
    F = np.fft.rfft2(rng.random((h, w), dtype=F32))   # uniform white noise: same after filtering
    f = np.sqrt(np.fft.fftfreq(h)[:, None] ** 2 + np.fft.rfftfreq(w)[None, :] ** 2) + 1e-6
    out = []
    for lam in lams:
        filt = np.exp(-(np.log(f * lam / factor) ** 2) / (2 * bw * bw))
        z = np.fft.irfft2(F * filt, s=(h, w)).astype(F32)
        out.append(z / (z.std() + 1e-6))
    return out


def _interp_matrix(n_out, n_in):
    x = np.linspace(0, n_in - 1, n_out, dtype=F32)
    i0 = np.minimum(x.astype(np.intp), n_in - 2)
    f = x - i0
    f = f * f * (3 - 2 * f)                           # smooth (C1) between grid nodes
    m = np.zeros((n_out, n_in), F32)
    m[np.arange(n_out), i0] = 1 - f
    m[np.arange(n_out), i0 + 1] = f
    return m


def _lowfreq(rng, H, W, cells=6):
    """Smooth random field in about [-1, 1] with a few cells across the image.  Rank-2
    (sum of two separable products): plenty for density trends, and far cheaper."""
    out = np.zeros((H, W), F32)
    for _ in range(2):
        fy = _interp_matrix(H, cells + 1) @ rng.uniform(-1, 1, cells + 1).astype(F32)
        fx = _interp_matrix(W, cells + 1) @ rng.uniform(-1, 1, cells + 1).astype(F32)
        out += fy[:, None] * fx[None, :]
    return out * F32(0.7)


# --------------------------------------------------------------------------- layouts
_SIZES_LAND = [(640, 480), (704, 512), (768, 576), (800, 600)]
# a horizontal angulation error projects adjacent crowns over each other by this many mm
# (set by demo/defects.py for its overlapping-contacts bitewings; 0 = the anatomy as drawn)
contact_overlap_mm: contextvars.ContextVar[float] = contextvars.ContextVar("contact_overlap_mm", default=0.0)


def _row_positions(rng, teeth_order, widths_px, ppm):
    """Centre offsets along the row for teeth listed left->right (contacts touch or overlap)."""
    cs, acc = [], 0.0
    for i, w in enumerate(widths_px):
        if i:
            acc += rng.uniform(-0.25, 0.35) * ppm - contact_overlap_mm.get() * ppm
        cs.append(acc + w / 2)
        acc += w
    return dict(zip(teeth_order, cs))


def _build_row(rng, order, ppm, anchor, anchor_along, origin, row_ang, normal_off, ms_of, wscale=None):
    """Create teeth along a straight (tilted) row; the anchor tooth centre sits at anchor_along."""
    protos = {f: _make_tooth(rng, f, ppm, 0, 0, 0, ms_of(f), (wscale or {}).get(f, 1.0)) for f in order}
    pos = _row_positions(rng, order, [2 * protos[f].W for f in order], ppm)
    if isinstance(anchor, tuple):        # anchor between two teeth (midline)
        a0 = (pos[anchor[0]] + protos[anchor[0]].W + pos[anchor[1]] - protos[anchor[1]].W) / 2
    else:
        a0 = pos[anchor]
    dx, dy = math.cos(row_ang), math.sin(row_ang)
    nx, ny = -math.sin(row_ang), math.cos(row_ang)
    out = []
    for f in order:
        t = protos[f]
        al = pos[f] - a0 + anchor_along
        t.x = origin[0] + al * dx + normal_off * nx
        t.y = origin[1] + al * dy + normal_off * ny
        t.ang = -row_ang + rng.normal(0, math.radians(2.0))
        out.append(t)
    return out


def _ms_intra(f):
    return 1 if f // 10 in (1, 4) else -1


def _layout_bitewing(rng, view=None):
    Wi, Hi = _SIZES_LAND[rng.integers(len(_SIZES_LAND))]
    fov = rng.uniform(30, 35)
    ppm = Wi / fov
    ppm = min(max(ppm, 1 / 0.06), 1 / 0.04)
    lat = "R" if rng.random() < 0.5 else "L"
    molar = rng.random() < 0.6
    if view:  # e.g. "right molar"; draws above still happen so other seeds' images are unchanged
        lat, molar = ("R" if "right" in view else "L"), "molar" in view and "premolar" not in view
    q_up, q_lo = (1, 4) if lat == "R" else (2, 3)
    ups = [q_up * 10 + p for p in (range(2, 9) if not molar else range(3, 9))]
    los = [q_lo * 10 + p for p in (range(2, 9) if not molar else range(3, 9))]
    if rng.random() < 0.4:
        ups = [f for f in ups if f % 10 != 8]
    if rng.random() < 0.4:
        los = [f for f in los if f % 10 != 8]
    ms = 1 if lat == "R" else -1
    if ms == 1:                 # right side: distal on image left
        ups, los = ups[::-1], los[::-1]
    row = rng.normal(0, math.radians(3))
    y_occ = Hi / 2 + rng.uniform(-0.06, 0.06) * Hi
    gap = rng.uniform(-0.2, 1.2) * ppm
    anchor = q_lo * 10 + (6 if molar else 5)
    along = rng.uniform(-0.08, 0.08) * Wi - (0 if molar else ms * 3.5 * ppm)
    origin = (Wi / 2, y_occ)
    lower = _build_row(rng, los, ppm, anchor, along, origin, row, gap / 2, _ms_intra)
    upper = _build_row(rng, ups, ppm, q_up * 10 + 6, 0.0, origin, row, -gap / 2, _ms_intra)
    # Class I occlusion: the upper first molar sits ~2.5 mm distal to the lower one
    l6 = next((t for t in lower if t.pos == 6), None)
    u6 = next((t for t in upper if t.pos == 6), None)
    shift = (l6.x - ms * 2.5 * ppm * math.cos(row)) - u6.x
    for t in upper:
        t.x += shift
        t.y += shift * math.tan(row)
    desc = "molar" if molar else "premolar"
    return Wi, Hi, ppm, upper + lower, lat, desc


def _layout_periapical(rng, view=None):
    region = rng.choice(["anterior", "canine", "posterior", "posterior"])
    upper = rng.random() < 0.5
    lat = "R" if rng.random() < 0.5 else "L"
    forced_fp = None
    if view:  # e.g. "maxillary right molar", "mandibular centrals"
        upper = view.startswith("maxillary")
        lat = "R" if "right" in view else "L"
        region = "anterior" if "central" in view else "canine" if "canine" in view else "posterior"
        forced_fp = 7 if view.endswith(" molar") else 4 if "premolar" in view else None
    q = (1 if lat == "R" else 2) if upper else (4 if lat == "R" else 3)
    portrait = region != "posterior"
    Wl, Hl = _SIZES_LAND[rng.integers(len(_SIZES_LAND))]
    Wi, Hi = (Hl, Wl) if portrait else (Wl, Hl)
    if region == "anterior":
        lat = "B"
        if upper:
            order, anchor = [13, 12, 11, 21, 22, 23], (11, 21)
        else:
            order, anchor = [43, 42, 41, 31, 32, 33], (41, 31)
        focus = [11, 21, 41, 31][(0 if upper else 2) + int(rng.random() < 0.5)]
    elif region == "canine":
        order = [q * 10 + p for p in (1, 2, 3, 4, 5)]  # mesial first; mirrored below for the right side (labial mounting)
        anchor = focus = q * 10 + 3
    else:
        fp = int(rng.choice([4, 5, 6, 7]))
        fp = forced_fp or fp
        order = [q * 10 + p for p in range(max(3, fp - 2), min(8, fp + 2) + 1)]
        if rng.random() < 0.4 and order[-1] % 10 == 8:
            order = order[:-1]
        anchor = focus = q * 10 + fp
    ms = 1 if lat in ("R",) else -1
    if region != "anterior" and ms == 1:
        order = order[::-1]
    # pixel spacing so the longest tooth in view plus margins fits vertically
    longest = max(sum(_DIMS["U" if upper else "L"][f % 10][1:3]) for f in order if abs(f % 10 - (focus % 10)) <= 1)
    ppm = min(Hi / (longest * 1.08 + rng.uniform(3.0, 5.0)), Wi / rng.uniform(22, 30))
    ppm = min(max(ppm, 1 / 0.06), 1 / 0.04)
    margin = rng.uniform(1.0, 2.5) * ppm
    row = rng.normal(0, math.radians(3))
    y_occ = margin if not upper else Hi - margin
    along = rng.uniform(-0.06, 0.06) * Wi
    teeth = _build_row(rng, order, ppm, anchor, along, (Wi / 2, y_occ), row, 0.0, _ms_intra)
    return Wi, Hi, ppm, teeth, lat, focus


def _layout_pano(rng):
    Wi = int(rng.integers(2300, 2900)) // 16 * 16
    Hi = int(Wi * rng.uniform(0.46, 0.55)) // 16 * 16
    ups = [10 + p for p in range(8, 0, -1)] + [20 + p for p in range(1, 9)]
    los = [40 + p for p in range(8, 0, -1)] + [30 + p for p in range(1, 9)]
    span_mm = 2 * sum(_DIMS["U"][p][0] * (0.85 if p <= 3 else 1.0) for p in range(1, 9)) + 5
    # the unrolled arch covers about 55-65 % of a real panoramic's width
    ppm = Wi * rng.uniform(0.55, 0.68) / span_mm
    cx = Wi / 2 + rng.uniform(-0.02, 0.02) * Wi
    y0 = Hi * rng.uniform(0.5, 0.55)
    smile = rng.uniform(0.04, 0.09) * Hi
    half = Wi / 2
    gap = rng.uniform(0.0, 1.5) * ppm
    teeth = []
    for order, anchor, sgn in ((ups, (11, 21), -1), (los, (41, 31), 1)):
        present = [f for f in order if not (f % 10 == 8 and rng.random() < 0.35)]
        ws = {f: (0.85 if f % 10 <= 3 else 1.0) for f in present}
        row = _build_row(rng, present, ppm, anchor, 0.0, (cx, y0), 0.0, 0.0, lambda f: 1 if f // 10 in (1, 4) else -1, ws)
        for t in row:
            xr = (t.x - cx) / half
            t.y = y0 - smile * xr * xr + sgn * gap / 2
            slope = -2 * smile * xr / half
            t.ang = math.atan(-slope) + rng.normal(0, math.radians(2.5))
            # posterior teeth on a pano lean slightly toward the midline (lower) / away (upper)
            t.ang += math.radians(4) * xr * (1 if sgn > 0 else -1)
        teeth += row
    # a few missing teeth (extractions) leave gaps
    # extractions leave gaps: most mouths lose a few teeth, some many
    p_missing = float(rng.choice([0.03, 0.12, 0.35], p=[.55, .3, .15]))
    teeth = [t for t in teeth if not (t.pos in (4, 5, 6, 7, 1, 2) and rng.random() < p_missing * (0.4 if t.pos <= 2 else 1))]
    return Wi, Hi, ppm, teeth, "B", (cx, y0, smile, half)


# --------------------------------------------------------------------------- findings
def _frac_inside(rect, Wi, Hi):
    x1, y1, x2, y2 = rect
    area = max(x2 - x1, 1e-6) * max(y2 - y1, 1e-6)
    ix = max(0.0, min(x2, Wi) - max(x1, 0)); iy = max(0.0, min(y2, Hi) - max(y1, 0))
    return ix * iy / area


def _assign_findings(rng, teeth, kind, Wi, Hi):
    pano = kind == "panoramic"
    ppm = teeth[0].ppm

    def crown_in(t):
        return _frac_inside(t.img_rect(-t.W, t.W, 0, t.ch), Wi, Hi) > 0.95

    cand = [t for t in teeth if crown_in(t)]
    if not cand:
        return
    scale = 2 if pano else 1

    def pick(pool, n):
        pool = list(pool)
        idx = rng.permutation(len(pool))[:n]
        return [pool[i] for i in idx]

    # implants (posterior or anterior single sites)
    n_imp = int(rng.random() < (0.25 if not pano else 0.45)) * (1 + int(rng.integers(0, 4 if pano else 2)))
    if n_imp > 1 and rng.random() < 0.5:           # neighbouring implants (a bridge or a row)
        by_x = sorted(cand, key=lambda t: (t.upper, t.x))
        i0 = int(rng.integers(0, max(1, len(by_x) - n_imp + 1)))
        imp_sites = [t for t in by_x[i0:i0 + n_imp] if t.upper == by_x[i0].upper]
    else:
        imp_sites = pick(cand, n_imp)
    for t in imp_sites:
        t.implant = {"vt": t.ch + rng.uniform(0.2, 0.8) * ppm, "len": rng.uniform(8, 13) * ppm,
                     "healing": rng.random() < 0.12,
                     "r": min(rng.uniform(1.8, 2.3) * ppm, 0.75 * t.W), "pitch": rng.uniform(0.8, 1.1) * ppm}
        t.crown = True
    natural = [t for t in cand if not t.implant]
    # crowns (often root-filled)
    n_cr = int(rng.choice([0, 1, 2], p=[.7, .22, .08])) * scale
    for t in pick(natural, n_cr):
        t.crown = True
        t.rct = rng.random() < 0.55
        t.crown_p["post"] = t.rct and rng.random() < 0.4
    # root canal fillings
    if rng.random() < 0.22 * scale:
        for t in pick([t for t in natural if not t.rct], 1 + int(rng.random() < 0.3)):
            t.rct = True
    # restorations
    n_rs = int(rng.choice([0, 1, 2], p=[.45, .35, .2])) * scale
    pool = [t for t in natural if not t.crown]
    for t in pick(pool, n_rs):
        if t.pos <= 3:
            t.resto = str(rng.choice(["M", "D"]))
        else:
            t.resto = str(rng.choice(["O", "MO", "DO", "MOD"], p=[.2, .3, .3, .2]))
        t.resto_p = {"ow": rng.uniform(0.22, 0.34) * t.W, "od": rng.uniform(1.6, 2.6) * ppm,
                     "pw": rng.uniform(0.3, 0.45) * t.W, "pv": rng.uniform(0.55, 0.75) * t.ch,
                     "u0": rng.uniform(-0.08, 0.08) * t.W}
    for t in natural:
        # amalgam (saturated) / composite (from clearly to barely opaque) / ceramic or gold inlay
        m = rng.choice(["amalgam", "composite", "inlay"], p=[.45, .4, .15])
        t.resto_p["mat"] = {"amalgam": rng.uniform(6.5, 9.0), "composite": rng.uniform(1.6, 4.0),
                            "inlay": rng.uniform(4.0, 7.0)}[m]
        t.resto_p["irr"] = rng.uniform(0.0, 0.3)
        t.resto_p["ph"] = rng.uniform(0, 6.3, 2)
        # crown material: metal/gold, PFM (metal coping under porcelain), zirconia, glass ceramic
        cm = rng.choice(["metal", "pfm", "zirconia", "ceramic"], p=[.25, .35, .2, .2])
        t.crown_p.update({"k": {"metal": 1.7, "pfm": 0.8, "zirconia": 1.25, "ceramic": 0.65}[cm],
                          "coping": cm == "pfm"})
        t.rct_p = {"k": rng.uniform(0.8, 1.5), "short": rng.uniform(-0.3, 2.5) * ppm,
                   "void": rng.uniform(0.3, 0.8) if rng.random() < 0.25 else 0.0}
    # bridges: a pontic over a missing tooth between two crowned abutments
    arches = [sorted([t for t in cand if t.upper == up], key=lambda t: t.x) for up in (True, False)]
    if rng.random() < (0.3 if pano else 0.1):
        for row in arches:
            spots = [i for i in range(1, len(row) - 1)
                     if not (row[i - 1].implant or row[i].implant or row[i + 1].implant or row[i].resto)]
            if spots:
                i = spots[int(rng.integers(len(spots)))]
                row[i].pontic, row[i].crown, row[i].caries, row[i].rct = True, True, [], False
                for nb in (row[i - 1], row[i + 1]):
                    nb.crown, nb.resto, nb.caries = True, "", []
                    nb.crown_p["k"] = row[i].crown_p.get("k", 1.0)
                break
    # retained roots: decayed to the gum line, nothing to restore
    if rng.random() < (0.12 if pano else 0.04):
        pool = [t for t in natural if not (t.crown or t.resto or t.pontic)]
        if pool:
            t = pool[int(rng.integers(len(pool)))]
            t.decap, t.rct = t.ch * rng.uniform(0.75, 1.0), False
    natural = [t for t in natural if not (t.pontic or t.decap)]
    # caries: interproximal (most) and occlusal
    n_ca = int(rng.choice([0, 1, 2, 3], p=[.3, .3, .25, .15])) * scale
    pool = [t for t in natural if not t.crown]
    for _ in range(n_ca):
        if not pool:
            break
        t = pool[rng.integers(len(pool))]
        taken = {c["surf"] for c in t.caries} | set(t.resto)
        free = [s for s in ("M", "D") if s not in taken]
        if t.pos >= 4 and "O" not in taken and rng.random() < 0.25:
            free = ["O"]
        if not free:
            continue
        s = str(rng.choice(free))
        size = ppm * (1.0 if not pano else 1.35)
        if s == "O":
            t.caries.append({"surf": "O", "u0": rng.uniform(-0.25, 0.25) * t.W,
                             "rx": rng.uniform(0.9, 1.6) * size, "ry": rng.uniform(0.7, 1.2) * size,
                             "k": rng.uniform(0.55, 0.8)})
        else:
            t.caries.append({"surf": s, "vc": t.ch * rng.uniform(0.38, 0.55),
                             "h": rng.uniform(1.5, 2.6) * size, "d": rng.uniform(1.3, 2.8) * size,
                             "k": rng.uniform(0.55, 0.85)})
    # calculus spurs
    if rng.random() < 0.3 * scale:
        for t in pick(natural, int(rng.integers(1, 4))):
            s = str(rng.choice(["M", "D"]))
            big = 1.0 if not pano else 1.5
            t.calculus.append({"surf": s, "v0": t.ch + rng.uniform(0.1, 0.6) * ppm,
                               "h": rng.uniform(1.2, 2.2) * ppm * big, "p": rng.uniform(0.55, 1.0) * ppm * big})
    # bone loss: crest several mm below the CEJ on some interproximal sides
    if rng.random() < 0.3 * scale:
        n = int(rng.integers(1, 4)) * scale
        for t in pick(natural + [t for t in cand if t.implant], n):
            s = str(rng.choice(["M", "D"]))
            t.bone_loss.add(s)
            t.crest[s] = rng.uniform(3.5, 6.5)
    # periapical radiolucency: only where the apex is in view
    if kind != "bitewing" and rng.random() < (0.45 if not pano else 0.6):
        def apex_in(t):
            if t.implant:
                return False
            for c0, cA, r0, L, w in t.roots:
                if w < 1:
                    continue
                x, y = t.to_img(cA, L)
                m = 2.5 * ppm
                if not (m < x < Wi - m and m < y < Hi - m):
                    return False
            return True
        pool = [t for t in cand if apex_in(t)]
        pref = [t for t in pool if t.rct or t.crown or any(c["d"] > 2.2 * ppm for c in t.caries if "d" in c)]
        if pool:
            t = (pref or pool)[rng.integers(len(pref or pool))]
            roots = [i for i, r in enumerate(t.roots) if r[4] >= 1]
            t.parl = {"root": int(rng.choice(roots)), "rx": rng.uniform(1.4, 2.8) * ppm * (1.3 if pano else 1),
                      "ry": rng.uniform(1.2, 2.4) * ppm * (1.3 if pano else 1),
                      "soft": rng.uniform(0.15, 0.5), "k": rng.uniform(0.6, 0.85)}


# --------------------------------------------------------------------------- rendering
class _Canvas:
    def __init__(self, Wi, Hi):
        self.W, self.H = Wi, Hi
        self.tatt = np.zeros((Hi, Wi), F32)     # tooth + restorative attenuation (additive)
        self.bmul = np.ones((Hi, Wi), F32)      # multiplier on bone (roots, PDL, lamina, lesions)
        self.objects: list[GroundTruth] = []

    def add(self, label, box, fdi, frac, surfaces=""):
        if box is None or frac < 0.25:
            return
        x1, y1, x2, y2 = box
        x1, y1 = max(0.0, x1), max(0.0, y1)
        x2, y2 = min(float(self.W), x2), min(float(self.H), y2)
        if x2 - x1 < 2 or y2 - y1 < 2:
            return
        self.objects.append(GroundTruth(label, (x1, y1, x2, y2), fdi, surfaces))


def _render_tooth(t: _Tooth, cv: _Canvas, cerv_burn: float):
    """Rasterise one tooth and its findings; emits exact pixel boxes.

    Done in two passes split at 0.85 x crown height (where roots start): the crown pass
    never evaluates roots/PDL and the root pass never evaluates enamel/caries/fillings,
    which roughly halves the per-pixel work."""
    ppm = t.ppm
    L = t.L
    split = 0.85 * t.ch
    apex_pad = (max(t.parl["rx"], t.parl["ry"]) * 1.6 if t.parl else 0) + 1.0 * ppm
    boxes: dict = {}
    meta: dict = {}
    for v_lo, v_hi in ((-0.8 * ppm, split), (split, L + apex_pad)):
        _tooth_pass(t, cv, cerv_burn, v_lo, v_hi, apex_pad, boxes, meta)
    for key, box in boxes.items():
        label, frac, surfaces = meta[key]
        cv.add(label, box, t.fdi, frac, surfaces)


def _tooth_pass(t, cv, cerv_burn, v_lo, v_hi, apex_pad, boxes, meta):
    ppm = t.ppm
    L = t.L
    lat_pad = (1.2 if t.calculus else 0.8) * ppm
    x1, y1, x2, y2 = t.img_rect(-t.W - lat_pad, t.W + lat_pad, v_lo, v_hi)
    X0, Y0 = max(0, int(x1)), max(0, int(y1))
    X1, Y1 = min(cv.W, int(math.ceil(x2)) + 1), min(cv.H, int(math.ceil(y2)) + 1)
    if X1 <= X0 or Y1 <= Y0:
        return
    (ax, ay), (px, py) = t.axes()
    dx = np.arange(X0, X1, dtype=F32)[None, :] - F32(t.x)
    dy = np.arange(Y0, Y1, dtype=F32)[:, None] - F32(t.y)
    u = dx * F32(px) + dy * F32(py)
    v = dx * F32(ax) + dy * F32(ay)
    inr = (v >= v_lo) & (v < v_hi)
    sc = F32(2.0 * t.depth / ppm)          # half-chord px -> path length mm
    crown_pass = v_lo < 0
    # profiles depend on v (or u) only: evaluate on 1-D tables (0.5 px) and gather per pixel
    vmin = v_lo - 0.4 * (t.W + lat_pad) - 4
    nv = int((v_hi + 0.4 * (t.W + lat_pad) + 4 - vmin) * 2) + 2
    vs = vmin + np.arange(nv, dtype=F32) / 2
    vi = np.clip(((v - vmin) * 2 + 0.5).astype(np.intp), 0, nv - 1)

    def V(a):
        return np.take(a, vi) if isinstance(a, np.ndarray) and a.ndim == 1 else a

    def parts_at(grow=0.0):
        return [(V(np.asarray(c, F32)) if np.ndim(c) else c, V(r), w) for c, r, w in t.root_parts(vs, grow)]

    def frac(u1, u2, v1, v2):
        return _frac_inside(t.img_rect(u1, u2, v1, v2), cv.W, cv.H)

    def put(key, mask, label, fr, surfaces=""):
        if t.decap:
            mask = mask & (v >= t.decap)
        b = _bbox(mask & inr, X0, Y0)
        if b is not None:
            boxes[key] = _union(boxes.get(key), b)
            meta[key] = (label, fr, surfaces)

    att = np.zeros_like(u)
    bmul = np.ones_like(u)
    tooth_frac = frac(-t.W, t.W, 0, L)
    if crown_pass or v_lo < t.ch:
        cw = V(t.crown_w(vs))
        if crown_pass:
            umax = (t.W + lat_pad) * 1.6 + 4
            nu = int(umax * 4) + 2
            us = -umax + np.arange(nu, dtype=F32) / 2
            top = np.take(t.top(us), np.clip(((u + umax) * 2 + 0.5).astype(np.intp), 0, nu - 1))
        else:
            top = F32(0.0)
        in_cv = (v >= top) & (v <= t.ch)
        hc_c = np.where(in_cv, _hc(cw, u), F32(0))

    if t.pontic:
        if v_lo < t.ch:
            cap = hc_c > 0
            att += np.where(cap, (3.0 + 1.8 * hc_c * sc) * t.crown_p.get("k", 1.0), F32(0))
            put("crown", cap, "crown", frac(-t.W, t.W, 0, t.ch))
            put("tooth", cap, "tooth", tooth_frac)
        cv.tatt[Y0:Y1, X0:X1] += att * inr
        return
    if t.implant:
        im = t.implant
        vt, Lf, rf, pitch = im["vt"], im["len"], im["r"], im["pitch"]
        s = np.clip((vs - vt) / Lf, 0, 1)
        phase = ((vs - vt) / pitch) % 1.0
        rr = rf * (1 - 0.18 * s ** 2) - 0.16 * rf * np.abs(2 * phase - 1)   # threads
        rr = V(rr * np.sqrt(np.clip((vt + Lf - vs) / (0.35 * rf), 0, 1)) * (vs >= vt))
        hc_f = _hc(rr, u)
        ab = (v >= (0.45 if not im.get("healing") else 0.8) * t.ch) & (v < vt)
        hc_a = np.where(ab, _hc(F32(0.5 * t.w_cej), u), F32(0))
        f_mask = (hc_f > 0) | (hc_a > 0)
        att += (5.0 + 2.4 * np.maximum(hc_f, hc_a) * sc) * f_mask
        bmul *= np.where(hc_f > 0, F32(0.25), F32(1))
        put("implant", f_mask, "implant", frac(-rf, rf, 0.45 * t.ch, vt + Lf))
        put("tooth", f_mask, "tooth", tooth_frac)
        if v_lo < t.ch and not im.get("healing"):
            cap = hc_c > 0
            att += np.where(cap, (4.0 + 1.6 * hc_c * sc) * t.crown_p.get("k", 1.0), F32(0))
            put("crown", cap, "crown", frac(-t.W, t.W, 0, t.ch))
            put("tooth", cap, "tooth", tooth_frac)
    else:
        if not crown_pass:
            parts = parts_at()
        else:
            parts = []
        hc_r = np.zeros_like(u)
        hc_x = np.zeros_like(u)
        rbl = 1.9 if t.pos >= 4 else 1.4     # root BL/MD ratio (roots are ribbon-shaped)
        for c, r, w in parts:
            h = _hc(r, u - c)
            if w >= 1:
                hc_r = np.maximum(hc_r, h)
            else:
                hc_x += w * h
        if v_lo < t.ch:
            # enamel shell: outer chord minus the inner (dentin) chord of the crown
            e_side = V(t.e_lat * np.clip((t.ch - vs) / (0.55 * t.ch), 0, 1) ** 0.7)
            in_inner = (v >= top + t.e_occ) & (v <= t.ch)
            hc_ci = np.where(in_inner, _hc(np.maximum(cw - e_side, 0), u), F32(0))
            hc_out = np.maximum(hc_c, hc_r)
            hc_den = np.maximum(hc_ci, hc_r)
        else:
            hc_out = hc_den = hc_r
        # pulp: chamber + canals
        roof = 0.42 * t.ch if t.pos >= 4 else 0.3 * t.ch
        floor = (t.trunk * 0.92) if t.trunk > t.ch else t.ch + 0.2 * t.rl
        pw = V(0.3 * t.pulp * t.crown_w(np.minimum(vs, t.ch)) * np.sqrt(np.clip((vs - roof) / (0.12 * t.ch), 0, 1))
               * np.sqrt(np.clip((floor - vs) / (0.1 * t.ch), 0, 1)))
        hc_p = _hc(pw, u)
        if crown_pass and t.pos >= 4:
            hc_p = np.where(v >= roof + 0.14 * t.ch * np.clip(1 - (u / (0.5 * t.pulp * 0.3 * t.W + 1)) ** 2, 0, 1), hc_p, F32(0))
        for (c, r, w), root in zip(parts, t.roots):
            rc = np.where((r > 0) & (v < root[3] - 0.4 * ppm), np.maximum(0.22 * t.pulp * r, 0.1 * ppm), F32(0))
            hc_p = np.maximum(hc_p, _hc(rc, u - c))
        hc_p = np.minimum(hc_p, hc_den)
        if t.crown and v_lo < t.ch:
            # prepared tooth under a full-coverage cap: no enamel, reduced coronal dentin
            tcap = 0.35 * ppm
            cap = (v >= top - tcap) & (v <= t.ch - 0.25 * ppm) & (np.abs(u) <= cw + tcap)
            hc_cap = np.where(cap, _hc(cw + tcap, u), F32(0))
            hc_prep = np.where(cap & (v >= top + 1.6 * ppm), _hc(0.62 * cw, u), F32(0))
            hc_den = np.where(cap, np.maximum(hc_prep, hc_r), hc_den)
            hc_out = np.where(cap, hc_den, hc_out)
            hc_p = np.minimum(hc_p, 0.5 * hc_den)
        enamel = hc_out - hc_den
        # below the CEJ the path length follows the root's bucco-lingual width
        rootw = V(1 + (rbl - 1) * np.clip((vs - t.ch) / (0.15 * t.rl), 0, 1)) if not crown_pass else F32(1)
        tatt = sc * (MU_ENAMEL * enamel + MU_DENTIN * (hc_den - hc_p) * rootw + MU_PULP * hc_p + MU_DENTIN * hc_x * rbl)
        if not crown_pass:
            # cervical burn-out: the neck (no enamel, no bone yet) reads darker than it should
            band = V(np.exp(-((vs - t.ch) / (1.0 * ppm)) ** 2)) * np.clip(np.abs(u) / (t.w_cej + 1e-3) - 0.35, 0, 1)
            tatt *= 1 - cerv_burn * band
        put("tooth", (hc_out > 0) | (hc_x > 0), "tooth", tooth_frac)
        # caries: radiolucent wedge through the proximal enamel toward dentin, or occlusal lesion
        for i, ca in enumerate(t.caries):
            if ca["surf"] == "O":
                if not crown_pass:
                    continue
                vt0 = float(t.top(np.float32(ca["u0"]))) + t.e_occ * 0.85
                q = ((u - ca["u0"]) / ca["rx"]) ** 2 + ((v - vt0 - 0.35 * ca["ry"]) / ca["ry"]) ** 2
                m = q <= 1
                m |= (np.abs(u - ca["u0"]) < 0.25 * ca["rx"]) & (v < vt0) & (v >= top)   # fissure track
                dark = ca["k"] * np.where(m, np.clip(1.6 * (1 - q), 0.5, 1), 0)
                ext = (ca["u0"] - ca["rx"], ca["u0"] + ca["rx"], vt0 - t.e_occ, vt0 + 1.35 * ca["ry"])
            else:
                if ca["vc"] - ca["h"] / 2 > v_hi or ca["vc"] + ca["h"] / 2 < v_lo:
                    continue
                sg = t.ms if ca["surf"] == "M" else -t.ms
                din = cw - sg * u                       # depth in from the proximal surface
                tri = V(ca["d"] * np.clip(1 - np.abs(vs - ca["vc"]) / (ca["h"] / 2), 0, 1) ** 0.8
                        * (1 + 0.18 * np.sin(vs / (0.35 * ppm) + ca["vc"])))
                m = (din >= -1.0) & (din <= tri) & (tri > 0)
                # darkest at the surface, fading toward the lesion front
                dark = ca["k"] * np.where(m, 1 - 0.45 * np.clip(din / ca["d"], 0, 1), 0)
                wv = float(t.crown_w(np.float32(ca["vc"])))
                ext = tuple(sorted((sg * (wv - ca["d"]), sg * wv))) + (ca["vc"] - ca["h"] / 2, ca["vc"] + ca["h"] / 2)
            m &= in_cv
            tatt = tatt * (1 - dark * m)
            put(("caries", i), m, "caries", frac(*ext), ca["surf"])
        att += tatt
        # restorations: sharp, very radiopaque occlusal/proximal boxes with rounded corners
        if t.resto and crown_pass:
            rp = t.resto_p
            cd = t.cusp[1]
            rm = np.zeros(u.shape, bool)
            vfl = cd + rp["od"]
            v0 = 0.55 * cd                 # cusps overlap the box in projection: start at the fossa
            if "O" in t.resto:
                vh = (vfl - v0) / 2
                rm |= ((u - rp["u0"]) / rp["ow"]) ** 4 + ((v - v0 - vh) / vh) ** 4 <= 1
            for sd in ("M", "D"):
                if sd in t.resto:
                    sg = t.ms if sd == "M" else -t.ms
                    v_top = 0.35 * cd if t.pos >= 4 else t.ch * 0.15
                    vh = (rp["pv"] - v_top) / 2
                    uc = sg * (float(t.crown_w(np.float32(v_top + vh))) - 0.3 * rp["pw"])
                    rm |= ((u - uc) / rp["pw"]) ** 4 + ((v - v_top - vh) / vh) ** 4 <= 1
                    if "O" in t.resto:   # connect the proximal box to the occlusal box
                        rm |= (sg * (u - rp["u0"]) >= 0) & (sg * u <= t.W) & (v >= v0) & (v <= v0 + 0.8 * (vfl - v0))
            rm &= (v >= top - 0.5) & (np.abs(u) <= cw + 0.5)
            if rp.get("irr"):               # real preparations are not neat boxes
                ph = rp["ph"]
                wob = 1 + rp["irr"] * np.sin(u / (0.9 * ppm) + ph[0]) * np.cos(v / (1.1 * ppm) + ph[1])
                rm &= np.abs(u - rp["u0"]) <= (t.W * wob)
            mat = rp.get("mat", 5.5)
            att += np.where(rm, mat + 0.27 * mat * hc_c * sc, F32(0))
            put("restoration", rm, "restoration", frac(-t.W, t.W, 0, t.ch * 0.75), t.resto)
            put("tooth", rm, "tooth", tooth_frac)
        # full-coverage crown: metal/ceramic shell brighter than anything natural
        if t.crown and v_lo < t.ch:
            ck = t.crown_p.get("k", 1.0)
            shell = (3.0 + 1.8 * (hc_cap - hc_prep) * sc) * ck
            if t.crown_p.get("coping"):     # PFM: a bright metal coping inside the porcelain
                cop = cap & (v >= top + 0.9 * ppm) & (np.abs(u) <= cw - 0.5 * ppm)
                shell = shell + np.where(cop, F32(4.0), F32(0))
            att += np.where(cap, shell, F32(0))
            put("crown", cap, "crown", frac(-t.W, t.W, 0, t.ch))
            put("tooth", cap, "tooth", tooth_frac)
        # root canal filling: bright thin lines down each canal + the chamber
        if t.rct:
            hc_g = np.where((hc_p > 0) & (v >= roof), np.minimum(hc_p, 0.6 * ppm), F32(0))
            for (c, r, w), root in zip(parts, t.roots):
                rg = np.where((r > 0) & (v < root[3] - 0.6 * ppm) & (v > t.ch * 0.8), np.maximum(0.2 * r, 0.3 * ppm), F32(0))
                hc_g = np.maximum(hc_g, _hc(rg, u - c))
            gp = t.rct_p
            if gp:
                gm_end = V(np.asarray(vs < max(r[3] for r in t.roots) - gp["short"], F32))
                hc_g = hc_g * gm_end
                if gp["void"]:               # a void: a short gap in the filling
                    vv = t.ch + gp["void"] * t.rl
                    hc_g = np.where(np.abs(v - vv) < 0.4 * ppm, F32(0), hc_g)
            if t.crown_p.get("post") and parts:   # a metal post in the main canal under the crown
                post = (np.abs(u - parts[0][0]) < max(0.35 * ppm, 1.0)) & (v > 0.5 * t.ch) & (v < t.ch + 0.4 * t.rl)
                att += np.where(post, F32(7.0), F32(0))
            gm = hc_g > 0
            att += np.where(gm, (4.0 + 3.0 * hc_g * sc) * gp.get("k", 1.0), F32(0))
            put("root_canal", gm, "root_canal", frac(-t.W, t.W, t.ch * 0.5, L))
        if not crown_pass:
            # bone: the root displaces bone; PDL dark line, lamina dura bright line
            occ = np.clip((2 * hc_r + hc_x) * rbl / ppm * t.depth / BONE_MM, 0, 0.85)
            bmul *= 1 - occ
            d1, d2 = 0.16 * ppm, 0.45 * ppm
            in0 = hc_r > 0
            in1 = np.zeros_like(in0); in2 = np.zeros_like(in0)
            # grown roots share the centre lines, so only the radii are re-evaluated
            for (c, r, w), (_, r1, _), (_, r2, _) in zip(parts, parts_at(d1), parts_at(d2)):
                if w >= 1:
                    dd = np.abs(u - c)
                    in1 |= r1 > dd
                    in2 |= r2 > dd
            bmul = np.where(in1 & ~in0, bmul * F32(0.5), bmul)
            bmul = np.where(in2 & ~in1, bmul * F32(1.35), bmul)
            if t.parl:
                pa = t.parl
                c0, cA, r0, Lr, _ = t.roots[pa["root"]]
                cu, cvv = cA, Lr + 0.15 * pa["ry"]
                mq = ((u - cu) / pa["rx"]) ** 2 + ((v - cvv) / pa["ry"]) ** 2
                ms = np.clip((1 - mq) / pa["soft"], 0, 1)
                bmul *= 1 - pa["k"] * ms
                put("parl", ms >= 0.5, "periapical_radiolucency",
                    frac(cu - pa["rx"], cu + pa["rx"], cvv - pa["ry"], cvv + pa["ry"]))
            # calculus: small radiopaque spurs on the root surface just below the CEJ
            for i, ca in enumerate(t.calculus):
                sg = t.ms if ca["surf"] == "M" else -t.ms
                vm = ca["v0"] + 0.4 * ca["h"]
                dout = sg * u - V(t.surface(vs, sg))
                prof = V(ca["p"] * np.clip(1 - ((vs - vm) / (ca["h"] / 2)) ** 2, 0, 1)
                         * (1 + 0.25 * np.sin(vs / (0.2 * ppm) + i)))
                m = (dout >= -1.0) & (dout <= prof) & (prof > 0)
                att += np.where(m, F32(2.6), F32(0))
                wv = t.w_cej
                ext = tuple(sorted((sg * wv, sg * (wv + ca["p"])))) + (vm - ca["h"] / 2, vm + ca["h"] / 2)
                put(("calculus", i), m, "calculus", frac(*ext), ca["surf"])
    if t.decap:                              # retained root: the crown is gone
        att = np.where(v < t.decap + 0.3 * ppm * np.sin(u / (0.7 * ppm)), F32(0), att)
    cv.tatt[Y0:Y1, X0:X1] += att * inr
    if not crown_pass or t.implant:
        cv.bmul[Y0:Y1, X0:X1] *= np.where(inr, bmul, F32(1))


def _orthodontics(rng, teeth, cv, ppm):
    """Brackets on the crowns and an archwire through them: bright, sharp, and no finding
    (teaches the detector that not everything metal is a restoration)."""
    from PIL import Image, ImageDraw

    layer = Image.new("F", (cv.W, cv.H), 0.0)
    d = ImageDraw.Draw(layer)
    for upper in (True, False):
        row = sorted((t for t in teeth if t.upper == upper and not t.decap), key=lambda t: t.x)
        pts = []
        for t in row:
            x, y = t.to_img(0.0, 0.45 * t.ch)
            b = rng.uniform(1.2, 1.8) * ppm
            d.rectangle([x - b, y - 0.8 * b, x + b, y + 0.8 * b], fill=7.0)
            pts.append((x, y))
        if len(pts) > 1:
            d.line(pts, fill=6.0, width=max(1, int(0.45 * ppm)))
    cv.tatt += np.asarray(layer, F32)


def _crest_points(teeth, ppm):
    """Interdental crest polyline for one arch: (x, y) points sorted by x."""
    pts = []
    for t in teeth:
        for s in ("M", "D"):
            sg = t.ms if s == "M" else -t.ms
            base = t.implant["vt"] + 0.4 * ppm if t.implant else t.ch
            depth = t.crest.get(s, 1.5) * ppm
            if t.implant and s not in t.bone_loss:
                depth = 0.3 * ppm
            pts.append(t.to_img(sg * (t.w_cej + 0.35 * ppm), base + depth))
    pts.sort()
    return np.array(pts, dtype=F32)


def _bone_loss_objects(teeth, cv, ppm):
    by_x = sorted(teeth, key=lambda t: t.x)
    for i, t in enumerate(by_x):
        for s in sorted(t.bone_loss):
            sg = t.ms if s == "M" else -t.ms
            nb = by_x[i + 1] if sg > 0 and i + 1 < len(by_x) else (by_x[i - 1] if sg < 0 and i > 0 else None)
            half = 1.5 * ppm
            if nb is not None:
                half = min(max((abs(nb.x - t.x) - t.w_cej - nb.w_cej) / 2, 0.6 * ppm), 2.5 * ppm)
            base = t.implant["vt"] + 0.4 * ppm if t.implant else t.ch
            u1, u2 = sorted((sg * (t.w_cej - 0.6 * ppm), sg * (t.w_cej + half)))
            v1, v2 = base if not t.implant else t.implant["vt"], base + t.crest[s] * ppm
            rect = t.img_rect(u1, u2, v1, v2)
            cv.add("bone_loss", rect, t.fdi, _frac_inside(rect, cv.W, cv.H), s)


def _arch_bone(X, Y, pts, upper, soft=1.5):
    cy = np.interp(X[0], pts[:, 0], pts[:, 1]).astype(F32)[None, :]
    d = (cy - Y) if upper else (Y - cy)          # >0 inside bone
    return np.clip(d * F32(0.5 / soft) + F32(0.5), 0, 1), d


def _background(rng, kind, Wi, Hi, ppm, teeth, extra):
    """Soft tissue and bone attenuation (bone before root/PDL modulation)."""
    X = np.arange(Wi, dtype=F32)[None, :].repeat(1, 0)
    Y = np.arange(Hi, dtype=F32)[:, None]
    X2 = np.broadcast_to(X, (Hi, Wi))
    lam = rng.uniform(1.0, 1.5) * max(ppm, 14)
    z1, z2 = _bandpass(rng, Hi, Wi, (lam, lam * 0.45), 0.4)
    # ridge noise (bright lines on zero crossings) = network of trabeculae at two scales
    trab = _upsample(0.65 * np.exp(-2.0 * z1 * z1) + 0.35 * np.exp(-2.0 * z2 * z2), Hi, Wi)
    low = _lowfreq(rng, Hi, Wi, 5)
    bone_den = rng.uniform(1.8, 2.5) * (0.75 + 0.45 * trab) * (1 + 0.15 * low)
    soft = rng.uniform(0.7, 1.1) * (1 + 0.12 * _lowfreq(rng, Hi, Wi, 3))
    ups = [t for t in teeth if t.upper]
    los = [t for t in teeth if not t.upper]
    bone = np.zeros((Hi, Wi), F32)
    cortex_w = rng.uniform(0.25, 0.45) * ppm
    for grp, up in ((ups, True), (los, False)):
        if not grp:
            continue
        pts = _crest_points(grp, ppm)
        m, d = _arch_bone(X2, Y, pts, up)
        crest_cortex = 1 + 0.45 * np.exp(-((d - cortex_w) / cortex_w) ** 2)
        if kind == "panoramic":
            m = m * _pano_arch_limit(X, Y, up, Wi, Hi, extra, ppm)     # also bounds the crest cortex
        bone = np.maximum(bone, m * crest_cortex)
    if kind == "panoramic":
        soft, bone_den, bone = _pano_anatomy(rng, X, Y, Wi, Hi, ppm, extra, soft, bone_den, bone)
    elif kind == "periapical":
        # crowns side of a periapical is mouth air / tongue: darker
        up = teeth[0].upper
        pts = _crest_points(teeth, ppm)
        cy = np.interp(X[0], pts[:, 0], pts[:, 1])[None, :]
        occ = (cy - Y) if not up else (Y - cy)       # >0 toward the crowns
        soft = soft * (1 - 0.35 * _ss(0, 8 * ppm, occ))
    else:
        # bitewing: the occlusal plane region (bite tab, air, tongue) is darker
        yc = np.mean([t.y for t in teeth])
        soft = soft * (1 - 0.25 * np.exp(-((Y - yc) / (3 * ppm)) ** 2))
    return soft.astype(F32), (bone_den * bone).astype(F32)


def _ramp(x, width):
    """0 -> 1 linear ramp centred on 0 (cheap smooth edge)."""
    return np.clip(x * F32(1.0 / width) + F32(0.5), 0, 1)


def _pano_arch_limit(X, Y, up, Wi, Hi, extra, ppm):
    """Alveolar bone only along the dentition; the maxillary alveolus stops at the sinus floor."""
    cx, y0, smile, half = extra
    xr = (X - cx) / half
    win = _ramp(0.9 - np.abs(xr), 0.08)
    if up:
        lim = y0 - smile * xr * xr - 26 * ppm
        return win * _ramp(Y - lim, 6 * ppm)
    return win


def _pano_anatomy(rng, X, Y, Wi, Hi, ppm, extra, soft, bone_den, bone):
    cx, y0, smile, half = extra
    xr = (X - cx) / half                               # about -1..1 across the image
    ax = np.abs(xr)
    # mandible: body to a cortical inferior border that rises toward the gonial angles
    y_inf = Hi * rng.uniform(0.88, 0.93) - Hi * 0.22 * np.clip(ax - 0.5, 0, None) ** 2 / 0.25
    y_top = y0 + 3 * ppm - smile * xr * xr          # retromolar crest continues the occlusal curve
    body = _ramp(y_inf - Y, 4) * _ramp(Y - y_top - 4 * ppm, 6 * ppm) * _ramp(0.97 - ax, 0.05)
    # rami: slanted vertical plates at the sides, from the angle up to the condyles
    front = 0.86 + 0.06 * np.clip((y0 - Y) / (0.4 * Hi), -1, 1)
    ramus = _ramp(ax - front, 0.03) * _ramp(1.1 - ax, 0.04) * _ramp(y_inf - Y, 4) * _ramp(Y - 0.14 * Hi, 0.05 * Hi)
    bone = np.maximum(bone, np.maximum(body, 0.9 * ramus))
    inf_cortex = np.exp(-((y_inf - 2.5 * ppm - Y) / (1.7 * ppm)) ** 2) * _ramp(1.02 - ax, 0.05)
    post_cortex = np.exp(-((ax - 1.08) / 0.012) ** 2) * _ramp(y_inf - Y, 4) * _ramp(Y - 0.16 * Hi, 0.05 * Hi)
    bone = bone + 0.8 * inf_cortex + 0.5 * post_cortex
    # mandibular canal: dark band with thin bright walls under the molars
    yc = y0 + 22 * ppm - smile * xr * xr - 8 * ppm * np.clip(ax - 0.55, 0, None) / 0.4
    dc = np.abs(Y - yc)
    canal = _ramp(ax - 0.38, 0.05) * _ramp(1.0 - ax, 0.05)
    bone = bone * (1 - canal * (0.35 * np.exp(-(dc / (1.3 * ppm)) ** 2) - 0.25 * np.exp(-((dc - 1.9 * ppm) / (0.4 * ppm)) ** 2)))
    # maxilla above the alveolus: sinus floors (dark), nasal cavity, hard palate (bright line)
    y_pal = y0 - smile * xr * xr * 0.3 - 27 * ppm
    maxilla = _ramp(Y - (y_pal - 10 * ppm), 12 * ppm) * _ramp(y0 - 6 * ppm - Y, 6 * ppm) * _ramp(0.95 - ax, 0.08)
    bone = np.maximum(bone, 0.7 * maxilla)
    palate = np.exp(-((Y - y_pal) / (1.6 * ppm)) ** 2) * _ramp(0.72 - ax, 0.12)
    bone = bone + 1.0 * palate
    sinus = np.exp(-(((ax - 0.55) / 0.22) ** 2 + ((Y - y_pal + 7 * ppm) / (9 * ppm)) ** 2) ** 1.5)
    nasal = np.exp(-((xr / 0.14) ** 2 + ((Y - y_pal + 13 * ppm) / (10 * ppm)) ** 2) ** 1.5)
    soft = soft * (1 - 0.4 * sinus - 0.3 * nasal)
    bone = bone * (1 - 0.55 * sinus - 0.6 * nasal)
    zyg = np.exp(-((Y - (y_pal - 20 * ppm + 10 * ppm * ax)) / (3 * ppm)) ** 2) * _ramp(ax - 0.5, 0.1) * _ramp(1.0 - ax, 0.1)
    bone = bone + 0.6 * zyg
    # cervical spine ghost: a wide diffuse opacity over the anterior region
    soft = soft + 0.5 * np.exp(-(xr / 0.1) ** 2) * _ramp(Y - 0.3 * Hi, 0.4 * Hi)
    # tongue / palatoglossal air space: a dark band under the palate toward the back
    air = np.exp(-((Y - (y0 - 12 * ppm + 6 * ppm * ax)) / (3.5 * ppm)) ** 2) * _ramp(ax - 0.55, 0.15) * _ramp(1.05 - ax, 0.1)
    soft = soft * (1 - 0.45 * air)
    # outside the face and under the chin: thinner tissue
    soft = soft * (0.45 + 0.55 * _ramp(1.22 - ax, 0.12)) * (0.5 + 0.5 * _ramp(y_inf + 10 * ppm - Y, 10 * ppm))
    # between the arches beyond the dentition the cheeks/tongue fill in the bite gap
    soft = soft + 0.5 * _ramp(ax - 0.86, 0.08) * np.exp(-((Y - y0 + smile * xr * xr) / (8 * ppm)) ** 2)
    # hyoid below the mandible on both sides, a fainter ghost of the hard palate above it
    y_mid = Hi * 0.9
    hyoid = np.exp(-(((ax - rng.uniform(0.3, 0.5)) / 0.09) ** 2 + ((Y - y_mid - 6 * ppm) / (1.6 * ppm)) ** 2))
    bone = bone + rng.uniform(0.3, 0.8) * hyoid
    bone = bone + rng.uniform(0.1, 0.5) * np.exp(-((Y - y_pal + rng.uniform(6, 12) * ppm) / (2.5 * ppm)) ** 2) * _ramp(0.6 - ax, 0.15)
    # cervical spine at the lateral edges (vertebrae as stacked blocks), ear lobes at the top corners
    if rng.random() < 0.6:
        blocks = 0.6 + 0.4 * (np.sin(Y / (9 * ppm) * np.pi) > -0.6)
        spine = _ramp(ax - rng.uniform(0.94, 1.0), 0.03) * _ramp(Y - 0.15 * Hi, 0.1 * Hi) * blocks
        bone = bone + rng.uniform(0.4, 1.0) * spine
    lobe = np.exp(-(((ax - 0.93) / 0.07) ** 2 + ((Y - 0.3 * Hi) / (0.12 * Hi)) ** 2))
    soft = soft + rng.uniform(0.0, 0.5) * lobe
    return soft, bone_den, bone


# --------------------------------------------------------------------------- sensor
_NOISE_BANK: list = []


def _noise(rng, shape):
    """Unit-variance, slightly correlated (scintillator-blurred) noise.

    Drawing ~1M normals per image dominated the run time, so images take a randomly
    offset/flipped window of one fixed bank instead: still deterministic per seed."""
    if not _NOISE_BANK:
        bank = np.random.default_rng(20240601).standard_normal((1408, 1408), dtype=F32)
        bank = _binomial(_binomial(bank, 0), 1)
        _NOISE_BANK.append(bank / bank.std())
    bank = _NOISE_BANK[0]
    H, W = shape
    if H > bank.shape[0] or W > bank.shape[1]:     # full-size panoramics: tile the bank
        bank = np.tile(bank, (-(-H // bank.shape[0]), -(-W // bank.shape[1])))
    y = int(rng.integers(0, bank.shape[0] - H + 1)); x = int(rng.integers(0, bank.shape[1] - W + 1))
    win = bank[y:y + H, x:x + W]
    if rng.random() < 0.5:
        win = win[::-1]
    if rng.random() < 0.5:
        win = win[:, ::-1]
    return win


def _sensor(rng, att, kind, ppm):
    """Attenuation -> float image in [0, 1] (bright = radiopaque), before the export chain."""
    Hi, Wi = att.shape
    pano = kind == "panoramic"
    k = rng.uniform(0.18, 0.34)                      # effective energy/exposure
    # cone/heel vignetting: less exposure toward the edges and one side
    yy = (np.arange(Hi, dtype=F32)[:, None] / Hi - 0.5)
    xx = (np.arange(Wi, dtype=F32)[None, :] / Wi - 0.5)
    vig = 1 - rng.uniform(0.0, 0.35) * (xx * xx + yy * yy) * 2 + rng.uniform(-0.1, 0.1) * xx
    T = np.exp(-k * att) * vig
    sig = rng.uniform(0.6, 1.3) if not pano else rng.uniform(0.9, 1.6) * ppm / 8
    T = _blur(T, sig) if sig <= 1.6 else _blur_big(T, sig, 2)
    n0 = rng.uniform(400, 3000)                      # photons / pixel: quantum noise
    T = T + np.sqrt(np.maximum(T, 0) / n0 + rng.uniform(0.001, 0.004) ** 2) * _noise(rng, T.shape)
    # processed images are ~linear in attenuation (log of transmission)
    p = -np.log(np.clip(T, 1e-4, None)) / k
    lo = rng.uniform(0.3, 1.0) + (0.9 if pano else 0.0)   # clipping thin tissue = burn-out
    hi = rng.uniform(8.5, 12.5) if not pano else rng.uniform(5.5, 9.0)   # panoramics: bone mid-grey
    img = np.clip((p - lo) / (hi - lo), 0, 1).astype(F32)
    amt = rng.uniform(0.0, 0.8)
    if amt > 0.05:
        img = np.clip(img + amt * (img - _blur_big(img, 3.0 * ppm / 20 * (2 if pano else 1) + 2.0, 2)), 0, 1)
    return img


def _focal_trough_blur(rng, img, extra):
    """Panoramic: structures outside the focal trough blur (mostly the anteriors)."""
    if rng.random() < 0.4:
        return img
    cx, _, _, half = extra
    H, W = img.shape
    xr = np.abs((np.arange(W, dtype=F32) - cx) / half)[None, :]
    wgt = F32(rng.uniform(0.4, 1.0)) * np.clip(1 - xr / rng.uniform(0.2, 0.35), 0, 1)
    return img + (_blur_big(img, rng.uniform(2.0, 5.0), 2) - img) * wgt


def _quantise(rng, img, bits):
    """Gamma and the sensor's code range through a LUT (cheaper than pow on every pixel)."""
    gamma = rng.uniform(0.7, 1.0)
    vmax = (1 << bits) - 1
    c_lo = rng.uniform(0, 0.04) * vmax
    c_hi = rng.uniform(0.9, 1.0) * vmax
    lut = np.rint(c_lo + np.linspace(0, 1, 65536) ** gamma * (c_hi - c_lo))
    return lut.astype(np.uint8 if bits == 8 else np.uint16)[(np.clip(img, 0, 1) * 65535 + 0.5).astype(np.intp)]


def _keep_visible(objects, inside, crop):
    """Objects after the export chain: hidden by the sensor outline or cut by the crop are
    dropped (with the findings of a dropped tooth); the rest move with the crop."""
    x0, y0, x1, y1 = crop
    W, H = x1 - x0, y1 - y0
    gone_teeth, kept = set(), []
    for o in objects:
        bx1, by1, bx2, by2 = o.box
        area = max(bx2 - bx1, 1e-6) * max(by2 - by1, 1e-6)
        if inside is not None:
            seen = inside[int(by1):int(math.ceil(by2)), int(bx1):int(math.ceil(bx2))].mean()
            if seen < 0.6:
                if o.label == "tooth":
                    gone_teeth.add(o.tooth_fdi)
                continue
        nb = (max(0.0, bx1 - x0), max(0.0, by1 - y0), min(float(W), bx2 - x0), min(float(H), by2 - y0))
        if nb[2] - nb[0] < 2 or nb[3] - nb[1] < 2 or (nb[2] - nb[0]) * (nb[3] - nb[1]) < 0.25 * area:
            if o.label == "tooth":
                gone_teeth.add(o.tooth_fdi)
            continue
        kept.append(GroundTruth(o.label, nb, o.tooth_fdi, o.surfaces))
    return [o for o in kept if o.label == "tooth" or o.tooth_fdi not in gone_teeth]


# --------------------------------------------------------------------------- public API
def generate_sample(kind: str, seed: int, *, bits_stored: int | None = None, view: str | None = None,
                    style: str | None = None) -> Sample:
    """One synthetic radiograph; deterministic for (kind, seed, bits_stored, view).

    The anatomy depends only on (kind, seed); the bit depth, when not given, is drawn from
    a separate stream so forcing bits_stored keeps the same teeth and findings. `view`
    picks an FMX view: "right molar" / "left premolar" for bitewings, "maxillary right
    molar" / "mandibular centrals" / "maxillary left canine" ... for periapicals. `style`
    forces an imaging_chain family (else drawn from the seed).
    """
    return _generate(kind, seed, bits_stored, view=view, style=style)


def _bits_for_seed(seed: int) -> int:
    """Sensor bit depth drawn from its own stream, so forcing it keeps the same anatomy."""
    return int(np.random.default_rng([seed & 0xFFFFFFFF, 7, 7]).choice([8, 12, 16], p=[.35, .4, .25]))


def _generate(kind: str, seed: int, bits_stored: int | None, lesion_gain: float = 1.0, view: str | None = None,
              style: str | None = None, edit=None) -> Sample:
    """generate_sample; lesion_gain scales how much caries/PARL darken (tests render the
    same image with gain 0 as a counterfactual -- the random stream is unchanged). `edit(teeth)`
    changes the drawn teeth before rendering without drawing from the stream (a prior/current
    pair with known change: demo/pairs.py)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if bits_stored is None:
        bits_stored = _bits_for_seed(seed)
    if bits_stored not in (8, 12, 16):
        raise ValueError("bits_stored must be 8, 12 or 16")
    rng = np.random.default_rng([seed & 0xFFFFFFFF, KINDS.index(kind)])
    if kind == "bitewing":
        Wi, Hi, ppm, teeth, lat, extra = _layout_bitewing(rng, view)
    elif kind == "periapical":
        Wi, Hi, ppm, teeth, lat, extra = _layout_periapical(rng, view)
    else:
        Wi, Hi, ppm, teeth, lat, extra = _layout_pano(rng)
    _assign_findings(rng, teeth, kind, Wi, Hi)
    if lesion_gain != 1.0:
        for t in teeth:
            for ca in t.caries:
                ca["k"] *= lesion_gain
            if t.parl:
                t.parl["k"] *= lesion_gain
    if edit is not None:
        edit(teeth)
    cv = _Canvas(Wi, Hi)
    soft, bone = _background(rng, kind, Wi, Hi, ppm, teeth, extra)
    cerv = rng.uniform(0.1, 0.35)
    for t in teeth:
        _render_tooth(t, cv, cerv)
    _bone_loss_objects(teeth, cv, ppm)
    if rng.random() < 0.07:
        _orthodontics(rng, teeth, cv, ppm)
    att = soft + bone * cv.bmul + cv.tatt
    img = _sensor(rng, att, kind, ppm)
    if kind == "panoramic":
        img = _focal_trough_blur(rng, img, extra)
    family = style or imaging_chain.draw_family(seed, KINDS.index(kind))
    if family not in imaging_chain.FAMILIES:
        raise ValueError(f"style must be one of {imaging_chain.FAMILIES}, got {family!r}")
    crng = np.random.default_rng([seed & 0xFFFFFFFF, KINDS.index(kind), 101])
    geo = np.random.default_rng([seed & 0xFFFFFFFF, KINDS.index(kind), 102])
    y_occ = float(np.mean([t.y for t in teeth])) if kind == "bitewing" else None
    img, inside, crop = imaging_chain.apply(crng, geo, img, kind, family, ppm, y_occ)
    x0, y0, x1, y1 = crop
    image = _quantise(rng, img[y0:y1, x0:x1], bits_stored)
    cv.objects = _keep_visible(cv.objects, inside, crop)
    shown = sorted({o.tooth_fdi for o in cv.objects if o.label == "tooth"},
                   key=lambda f: (f // 10, f % 10))
    order = {t.fdi: i for i, t in enumerate(sorted(teeth, key=lambda t: (not t.upper, t.x)))}
    shown.sort(key=lambda f: order.get(f, 0))
    return Sample(image=image, bits_stored=bits_stored, kind=kind, teeth_fdi=shown, laterality=lat,
                  pixel_spacing_mm=round(1.0 / ppm, 5), objects=cv.objects, seed=seed, style=family,
                  teeth=teeth, crop=crop)


def generate_batch(n: int, seed: int, kinds: Iterable[str] = KINDS) -> Iterator[Sample]:
    """n samples of mixed kinds; deterministic. Each Sample.seed regenerates it alone."""
    kinds = tuple(kinds)
    rng = np.random.default_rng([seed & 0xFFFFFFFF, 1234])
    for _ in range(n):
        kind = kinds[int(rng.integers(len(kinds)))]
        s = int(rng.integers(0, 2 ** 31 - 1))
        yield generate_sample(kind, s)


def to_uint8(sample_or_image, bits_stored: int | None = None) -> np.ndarray:
    """Display/model view: linear scale of the full code range [0, 2**bits-1] to uint8."""
    if isinstance(sample_or_image, Sample):
        img, bits = sample_or_image.image, bits_stored or sample_or_image.bits_stored
    else:
        img, bits = np.asarray(sample_or_image), bits_stored
    if bits is None:
        if img.dtype == np.uint8:
            return img.copy()
        if np.issubdtype(img.dtype, np.floating):
            return np.rint(np.clip(img, 0, 1) * 255).astype(np.uint8)
        bits = 12 if int(img.max(initial=0)) <= 4095 else 16
    if bits == 8 and img.dtype == np.uint8:
        return img.copy()
    scale = 255.0 / ((1 << bits) - 1)
    return np.clip(np.rint(img.astype(np.float32) * scale), 0, 255).astype(np.uint8)
