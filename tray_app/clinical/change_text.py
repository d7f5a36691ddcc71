"""The sentences that say what changed since the prior image: one wording for the review
panel, the chart note and the patient's comparison page."""

from __future__ import annotations

from ..labels import describe
from ..teeth import fdi_to_universal

SURFACE = {"M": "mesial", "D": "distal"}


def _tooth(fdi) -> str:
    return f"#{fdi_to_universal(fdi)}" if fdi else "no tooth"


def finding_line(c: dict) -> str:
    name = describe(c["label"]).display.lower()
    where = _tooth(c.get("tooth_fdi"))
    if c["change"] == "grown":
        ratio = c.get("area_ratio")   # none when the detector did not box the lesion again: its area darkened
        return f"{where}: {name} larger than before" + (f" (area ×{ratio:.1f})" if ratio else "")
    return f"{where}: {name} {'new since' if c['change'] == 'new' else 'no longer seen since'} the prior image"


def _delta(mm: float) -> str:
    return "unchanged" if round(mm, 1) == 0 else f"{mm:+.1f} mm"   # not "-0.0 mm"


def bone_line(b: dict) -> str:
    where = f"{_tooth(b['tooth_fdi'])} {SURFACE.get(b['surface'], b['surface'])}"
    if b.get("at_least") and b.get("mm") is not None:
        change = f", at least {b['delta_mm']:+.1f} mm" if b.get("delta_mm") is not None else ""
        text = (f"{where}: bone level at least {b['mm']:.1f} mm below the CEJ — the crest lies past the image "
                f"edge (was {b['prior_mm']:.1f} mm{change})")
    elif b.get("mm") is not None and b.get("prior_mm") is not None:
        text = f"{where}: bone level {b['mm']:.1f} mm below the CEJ (was {b['prior_mm']:.1f} mm, {_delta(b['delta_mm'])})"
    elif b.get("pct_root") is not None and b.get("prior_pct_root") is not None:
        text = (f"{where}: bone level at {b['pct_root']:.0f}% of the root (was {b['prior_pct_root']:.0f}%, "
                f"{b['delta_pct']:+.0f} points; uncalibrated)")
    else:
        return f"{where}: bone level not measurable (uncalibrated, apex not in view)"
    if b.get("unconfirmed"):   # read deeper; the pixels between the crests, or the change check, did not bear it out
        return text + " — not seen in the image, not marked progressing"
    return text + (" — progressing" if b.get("progressing") else "")


def comparison_lines(comparison: dict, *, all_bone: bool = False) -> list[str]:
    """What one image's comparison found; bone levels only where they progress unless all_bone."""
    if not comparison.get("registered"):
        return [f"Not compared with the prior image: {comparison.get('reason') or 'it could not be aligned'}."]
    lines = [finding_line(c) for c in comparison.get("changes", [])]
    # what progressed first, then what the landmarks alone read deeper, then the levels that held
    bone = sorted(comparison.get("bone", []), key=lambda b: (not b.get("progressing"), not b.get("unconfirmed")))
    lines += [bone_line(b) for b in bone if all_bone or b.get("progressing")]
    return lines or ["No change found since the prior image."]


def note_paragraph(comparisons: list[dict]) -> str:
    """The chart note's paragraph on the measured change, '' when nothing was compared."""
    parts = []
    for comp in comparisons:
        found = [finding_line(c) for c in comp["changes"]] if comp.get("registered") else []
        found += [bone_line(b) for b in comp.get("bone", []) if b.get("progressing")]
        if found:
            parts.append(f"{comp['view'] or 'image'} vs {comp['prior_date']}: " + "; ".join(found))
    if not comparisons:
        return ""
    if not parts:
        return "Compared with prior images: no change found."
    return "Compared with prior images — " + " | ".join(parts) + "."


def patient_lines(comparison: dict, signed: set[tuple[str, int]]) -> list[str]:
    """Plain words for the patient's comparison page: only changes of findings the dentist kept
    in the signed report ((label, tooth FDI) in `signed`), and bone levels that progressed."""
    out = []
    for c in comparison.get("changes", []) if comparison.get("registered") else []:
        if c["change"] == "gone" or (c["label"], c.get("tooth_fdi")) not in signed:
            continue
        what = describe(c["label"]).patient_text or describe(c["label"]).display.lower()
        where = f"Tooth {_tooth(c['tooth_fdi'])}" if c.get("tooth_fdi") else "One of your teeth"
        out.append(f"{where}: {what} — "
                   + ("larger than on your earlier X-ray." if c["change"] == "grown" else "new since your earlier X-ray."))
    for b in comparison.get("bone", []):
        if b.get("progressing"):
            amount = f"{b['delta_mm']:.1f} mm" if b.get("delta_mm") is not None else f"{b['delta_pct']:.0f}% of the root"
            amount = ("at least " if b.get("at_least") else "") + amount
            out.append(f"Tooth {_tooth(b['tooth_fdi'])}: the bone around it is {amount} lower than on your earlier X-ray.")
    return out
