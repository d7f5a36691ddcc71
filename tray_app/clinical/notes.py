"""Drafted text from deterministic templates in resources/templates (practices may edit them).

Nothing here is free text from a model: every sentence is a template filled with findings.
"""

from __future__ import annotations

import string
from functools import lru_cache
import sys
from datetime import date
from pathlib import Path
from typing import Iterable

from .. import __version__
from ..labels import ANATOMY_LABELS, CARIES_LABELS, COVERING_LABELS, describe
from ..teeth import fdi_name, fdi_to_universal
from .cdt import CONFIRM, Suggestion

SURFACE_NAMES = {"M": "mesial", "O": "occlusal", "D": "distal", "I": "incisal", "B": "buccal", "F": "facial",
                 "L": "lingual"}


def templates_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    base = Path(frozen) if frozen else Path(__file__).resolve().parents[2]
    return base / "resources" / "templates"


@lru_cache(maxsize=16)
def _template(name: str) -> string.Template:
    # read once per process: the summary is recomputed after every image and review action
    return string.Template((templates_dir() / name).read_text(encoding="utf-8"))


def render(name: str, **values) -> str:
    return _template(name).safe_substitute(**values).strip() + "\n"


def where(f: dict) -> str:
    if not f.get("tooth_fdi"):
        return "(tooth not identified)"
    uni = fdi_to_universal(int(f["tooth_fdi"]))
    surfaces = f.get("surfaces") or ""
    if surfaces:
        names = "-".join(SURFACE_NAMES.get(s, s) for s in surfaces)
        return f"on {names} of #{uni}"
    return f"on #{uni}"


def _finding_lines(findings: Iterable[dict]) -> str:
    lines = []
    for f in sorted(findings, key=lambda f: (-f.get("severity", 0), -f["confidence"])):
        if f["label"] in ANATOMY_LABELS:
            continue
        text = describe(f["label"]).chart_text
        lines.append(f"- {text} {where(f)} ({f['confidence']:.0%} confidence)")
    return "\n".join(lines) or "- No findings above the reporting thresholds."


def chart_note(findings: Iterable[dict], *, study_line: str, codes: list[Suggestion], model: str,
               signer: str = "", when: date | None = None) -> str:
    review = f"Reviewed and signed by {signer}." if signer else "Pending clinician review."
    return render("chart_note.txt", review_line=review, study_line=study_line, findings_lines=_finding_lines(findings),
                  confirm=CONFIRM, codes=", ".join(c.code for c in codes if c.code) or "none",
                  model=model, version=__version__, date=(when or date.today()).isoformat())


def automated_note(findings: Iterable[dict], *, study_line: str, labels: Iterable[str], min_confidence: float,
                   model: str, when: date | None = None) -> str:
    """The chart note of a targeted-automation export: unreviewed, and saying so first."""
    names = ", ".join(x.replace("_", " ") for x in labels)
    return render("automated_note.txt", study_line=study_line, findings_lines=_finding_lines(findings),
                  labels=names, min_confidence=f"{min_confidence:.0%}", model=model, version=__version__,
                  date=(when or date.today()).isoformat())


def patient_summary(findings: Iterable[dict]) -> str:
    items = []
    for f in findings:
        text = describe(f["label"]).patient_text
        if not text:
            continue
        tooth = f"your {fdi_name(int(f['tooth_fdi'])).replace(' tooth', '')} (#{fdi_to_universal(int(f['tooth_fdi']))})" \
            if f.get("tooth_fdi") else "one of your teeth"
        items.append(f"- {text.capitalize()} on {tooth}.")
    if not items:
        items = ["- Nothing was pointed out on these X-rays."]
    return render("patient_summary.txt", items="\n".join(dict.fromkeys(items)))


def aap_stage(rbl: float) -> str:
    if rbl < 0.15:
        return "Stage I"
    if rbl <= 0.33:
        return "Stage II"
    return "Stage III/IV"


def perio_narrative(measurements: list[dict], *, when: str, image_kinds: str) -> str:
    """measurements: {tooth_fdi, cej_to_crest_mm, rbl (fraction or None)} per bone-loss finding."""
    if not measurements:
        return ""
    lines = []
    for m in sorted(measurements, key=lambda m: m["tooth_fdi"]):
        uni = fdi_to_universal(m["tooth_fdi"])
        text = f"- #{uni}: CEJ to crest {m['cej_to_crest_mm']:.1f} mm" if m.get("cej_to_crest_mm") else f"- #{uni}: bone loss seen"
        if m.get("rbl") is not None:
            text += f", about {m['rbl']:.0%} of the root ({aap_stage(m['rbl'])})"
        elif m.get("cej_to_crest_mm"):
            text += " (percentage not computable: apex not in view)"
        lines.append(text + ".")
    return render("perio_narrative.txt", date=when, lines="\n".join(lines), image_kinds=image_kinds)


def crown_narrative(codes: list[Suggestion], findings: list[dict], *, when: str) -> str:
    lines = []
    for c in codes:
        if c.code.startswith("D27") and c.teeth:
            uni = c.teeth[0]
            here = [f for f in findings if f.get("tooth_fdi") and str(fdi_to_universal(int(f["tooth_fdi"]))) == uni]
            resto = next((f for f in here if f["label"] in COVERING_LABELS), None)
            detail = f"existing {resto['label']}" + (f" ({resto['surfaces']})" if resto and resto.get("surfaces") else "") \
                if resto else "existing restoration"
            surf = ", ".join(sorted({where(f) for f in here if f["label"] in CARIES_LABELS}))
            lines.append(f"- #{uni}: decay {surf or 'suspected'} under the {detail}; {c.reason.split(':')[0]}.")
    return render("crown_narrative.txt", date=when, lines="\n".join(lines)) if lines else ""
