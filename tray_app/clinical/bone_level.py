"""The radiographic bone level per tooth surface — the CEJ-to-crest distance, in mm from the pixel
spacing, or as a percent of the root length when the image has no spacing ("uncalibrated") — and
how it changed since the prior image.
"""

from __future__ import annotations

import math
from typing import Callable

PROGRESSING_MM = 1.2      # bone level deeper by more than the landmarks' error can make it: "progressing"
EDGE_SHARE = 0.01         # of the image's long side: a landmark closer to the edge is not measured
PROGRESSING_PCT = 8.0     # the same, uncalibrated, in percent of the root length
ROOT_TILT_DEG = 25.0      # a root surface runs within this of the image's vertical (bitewing and periapical)
# bone that receded leaves the current image darker between the prior's crest and the current one
# (`pixel_evidence.py`, sign -1). Chosen on seeds 5000, 9000, 29000, 41000, 53000 and 57000 of
# bench/priors_pairs.py: readings of "progressing" on pairs without change scored at most 0.24 (a
# crest placed differently at the image edge, or two readings 1.2 mm apart); bone that receded by
# 1.2 mm or more scored 0.65 and up
BONE_EVIDENCE = 0.5
# … in the box between the crests and in that box grown by this many pixels on every side: bone that
# receded darkens a band as wide as the root, and reads the same in both; a thin box holding a root's
# edge beside a clipped-black gap can score on its own ring (no-change pair 85105: 0.98, and 0.17
# grown by 4 px; on seeds 5000-97000, none of the 407 readings of receded bone that scored BONE_EVIDENCE
# fell under it grown)
BONE_BOX_MARGIN = 4.0
# a new or grown bone-loss finding on a tooth surface whose level the landmarks measured in both images
# as deepened by less than this is the detector reading the same bone twice (no-change pairs 17104 and
# 57000: -0.1 and -0.04 mm; bone that receded, found as a new finding: 0.31 mm and up, most over 1.5,
# but for 73092, a crest receded past the edge that the landmark model placed inside, at -0.2)
UNCHANGED_MM = 0.25
# a bone-loss box this near an image edge (share of the long side) sits where the landmarks measure
# nothing and two exports differ most (no-change pairs' new bone loss by a bitewing's edge: 0-1.8 %)
EDGE_BAND_SHARE = 0.025


def bone_levels(landmarks, spacing_mm: float | None, shape: tuple[int, int] | None = None) -> dict[tuple[int, str], dict]:
    """Per (tooth FDI, surface): the CEJ-to-crest distance in mm (None uncalibrated) and, when
    the apex is in view, as a percent of the CEJ-to-apex distance. shape: the image's (height,
    width); a surface whose CEJ lies at its edge, or whose crest the landmark model calls out of
    view, is not measured (on pairs without change it called crests in view out of view); one whose
    crest it places at the edge neither (it reads them badly there: taking the band's depth as a
    lower bound overstated 6 of 30 changes on generated pairs), but one whose crest it places past
    the edge gets a lower bound in mm, `at_least`: the crest is at least as far from the CEJ as the
    edge is. Each level keeps its `crest` point (image pixels, past the edge for a bound) for the
    pixel check of a change (`bone_change`)."""
    out = {}
    for lm in landmarks:
        if lm.cej is None or lm.crest is None or (shape and _at_edge(lm.cej, shape)):
            continue
        if shape and _past_edge(lm.crest, shape):
            bound = _to_edge(lm.cej, lm.tooth_fdi, shape) if spacing_mm else None
            if not bound:
                continue
            level = {"mm": round(bound * spacing_mm, 2), "pct_root": None, "at_least": True}
        elif shape and _at_edge(lm.crest, shape):
            continue
        else:
            px = math.dist(lm.cej, lm.crest)
            root = math.dist(lm.cej, lm.apex) if lm.apex is not None else 0.0
            level = {"mm": round(px * spacing_mm, 2) if spacing_mm else None,
                     "pct_root": round(100.0 * px / root, 1) if root > px else None}
        out[(lm.tooth_fdi, lm.side)] = level | {"crest": (float(lm.crest[0]), float(lm.crest[1]))}
    return out


def _to_edge(cej, fdi: int, shape: tuple[int, int]) -> float | None:
    """The shortest way, in pixels, from the CEJ to where the image stops being measured (EDGE_SHARE
    inside its border) for a root surface within ROOT_TILT_DEG of the vertical, running up for an
    upper tooth and down for a lower one: a crest past that edge lies at least this far from the
    CEJ (by a side edge the bound is short). None when the CEJ lies at an edge."""
    h, w = shape
    margin = EDGE_SHARE * max(h, w)
    x, y = cej
    ahead = (y - margin) if fdi // 10 in (1, 2, 5, 6) else (h - margin - y)
    aside = min(x - margin, w - margin - x) / math.sin(math.radians(ROOT_TILT_DEG))
    return float(min(ahead, aside)) if min(ahead, aside) > 0 else None


def _past_edge(point, shape: tuple[int, int]) -> bool:
    h, w = shape
    return not (0 <= point[0] < w and 0 <= point[1] < h)


def _at_edge(point, shape: tuple[int, int]) -> bool:
    """The landmark model reads a tooth cut by the image edge badly there (on generated pairs
    without change a crest at the edge was placed 2.4 mm too deep)."""
    h, w = shape
    margin = EDGE_SHARE * max(h, w)
    return not (margin <= point[0] <= w - margin and margin <= point[1] <= h - margin)


def _at_edge_band(box, shape: tuple[int, int]) -> bool:
    h, w = shape
    band = EDGE_BAND_SHARE * max(h, w)
    x1, y1, x2, y2 = box
    return min(x1, y1, w - x2, h - y2) < band


def renumbered(levels: dict, numbers: dict[int, int]) -> dict:
    """The prior's levels by the number of the current tooth each prior tooth lies on (`same_teeth`).
    A prior tooth on no current tooth is left out: its number alone does not make it the same tooth
    (a prior's tiny misdetected "tooth" at the edge took a real tooth's number, seed 25017)."""
    return {(numbers[fdi], side): v for (fdi, side), v in levels.items() if fdi in numbers}


def bone_change(now: dict, then: dict, reg=None, evidence=None) -> list[dict]:
    """Bone level per tooth surface now and then, and whether it is progressing. A level now that
    is a lower bound (`at_least`) against a measured prior gives a lower bound of the change; a
    prior that is a bound gives none (its crest may have been deeper). Given the pair's registration
    `reg` (prior -> current) and its `evidence` (`pixel_evidence.pixel_evidence`), a
    level deeper by the landmarks' reading is progressing only where the pixels between the two
    crests darkened; otherwise the row says `unconfirmed` (the landmark model placed a crest
    differently, most often at the image edge)."""
    out = []
    for (fdi, side), cur in sorted(now.items()):
        old = then.get((fdi, side))
        if old is None or old.get("at_least"):
            continue
        row = {"tooth_fdi": fdi, "surface": side, "mm": cur["mm"], "prior_mm": old["mm"],
               "pct_root": cur["pct_root"], "prior_pct_root": old["pct_root"], "delta_mm": None, "delta_pct": None}
        if cur.get("at_least"):
            row["at_least"] = True
        if cur["mm"] is not None and old["mm"] is not None:
            row["delta_mm"] = round(cur["mm"] - old["mm"], 2)
            if cur.get("at_least") and row["delta_mm"] <= 0:   # a bound under the prior's level says nothing
                row["delta_mm"] = None
        if cur["pct_root"] is not None and old["pct_root"] is not None:
            row["delta_pct"] = round(cur["pct_root"] - old["pct_root"], 1)
        row["progressing"] = bool((row["delta_mm"] is not None and row["delta_mm"] >= PROGRESSING_MM)
                                  or (row["delta_mm"] is None and row["delta_pct"] is not None
                                      and row["delta_pct"] >= PROGRESSING_PCT))
        if row["progressing"] and evidence is not None and reg is not None and cur.get("crest") and old.get("crest"):
            x1, y1, x2, y2 = _between(cur["crest"], reg.map_points(old["crest"])[0])
            m = BONE_BOX_MARGIN
            row["box"] = [round(v, 1) for v in (x1 - m, y1 - m, x2 + m, y2 + m)]   # what the change check sees
            row["evidence"] = round(min(evidence((x1, y1, x2, y2), -1), evidence(tuple(row["box"]), -1)), 2)
            if row["evidence"] < BONE_EVIDENCE:
                row["progressing"], row["unconfirmed"] = False, True
        out.append(row)
    return out


def _between(crest, prior_crest) -> tuple[float, float, float, float]:
    """The box between the current crest and the prior's (aligned): from one crest's height to the
    other's, as wide as it is high, centred between them (a root runs near the vertical)."""
    (x0, y0), (x1, y1) = prior_crest, crest
    half = max(2.0, abs(y1 - y0) / 2)
    cx = (x0 + x1) / 2
    return cx - half, min(y0, y1), cx + half, max(y0, y1)


def agreeing(changes: list[dict], rows: list[dict], now: dict, shape: tuple[int, int] | None = None,
             unsure: Callable[[dict], bool] | None = None) -> list[dict]:
    """The findings' changes (`change.findings_change`) less the bone-loss changes the measured
    levels do not bear out (`rows` of `bone_change`, `now` the current levels, with crests; a surface
    counts for a finding when it is of the finding's tooth, measured in both images, and its crest
    lies in or near the finding's box). Two readings of the same bone must agree for a change:
    - a new or grown bone-loss finding on a surface that has not deepened by UNCHANGED_MM is the
      detector reading the same bone twice;
    - bone loss gone needs a surface that rose by UNCHANGED_MM: bone does not grow back by itself
      (regenerative surgery aside), so a finding in the prior only is otherwise one image's error
      (no-change pairs 73008, 77088);
    - a new or grown bone-loss finding in the edge band of the image (`shape`, its height and
      width), where the landmarks measure nothing and the two exports differ most, needs a surface
      measured deeper or a detector not `unsure` of it (scored near its threshold: no-change pairs
      81000 and 109120, bone loss new by a bitewing's top edge at 0.23 and 0.27 of 0.175, the tooth's
      levels unmeasured; over seeds 5000-113000, recessions by the edge found so scored 0.30 and up,
      and the two false claims there that scored more, 45048 and 109032 at 0.47 and 0.41, stay)."""
    def deltas(c: dict) -> list[float]:
        x1, y1, x2, y2 = c["box"]
        pad = 0.25 * max(x2 - x1, y2 - y1)
        out = []
        for r in rows:
            crest = now.get((r["tooth_fdi"], r["surface"]), {}).get("crest")
            if r["tooth_fdi"] != c.get("tooth_fdi") or r["delta_mm"] is None or r.get("at_least") or crest is None:
                continue
            if x1 - pad <= crest[0] <= x2 + pad and y1 - pad <= crest[1] <= y2 + pad:
                out.append(r["delta_mm"])
        return out

    def borne_out(c: dict) -> bool:
        if c["label"] != "bone_loss":
            return True
        found = deltas(c)
        if c["change"] == "gone":
            return any(d <= -UNCHANGED_MM for d in found)
        if shape and unsure and not found and _at_edge_band(c["box"], shape) and unsure(c):
            return False
        return not any(d < UNCHANGED_MM for d in found)

    return [c for c in changes if borne_out(c)]
