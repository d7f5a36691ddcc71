"""The finding labels the product knows, each described once.

A model's manifest names the labels it outputs and may set their display name, colour and
severity; what it leaves out comes from here (`describe`). The words of the chart note and
the patient summary, which labels are anatomy, existing dental work or pathology, where a
label sits on a tooth and which labels a practice may let go out before review are product
decisions, so they live here and nowhere else. A label nobody describes (a practice's own
model, a clinician's own label) gets its name in words and a colour fixed by the name.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

ANATOMY, DENTAL_WORK, PATHOLOGY, OTHER = "anatomy", "dental_work", "pathology", "other"
# where a label sits: on a tooth, on a tooth's surfaces, or beside it (apex, bone, root surface)
ON_TOOTH, ON_SURFACE, NEAR_TOOTH = "tooth", "surface", "near"
BY_SURFACES = "by surfaces"  # charted_as: the code follows the number of surfaces (clinical/cdt.py)
SURFACE_CODES = ("D21", "D23", "D26")  # CDT families charted with surfaces: amalgam, resin, inlay/onlay

# colours for labels nobody describes (picked by the label's name, so stable across runs)
FALLBACK_COLORS = ("#94a3b8", "#ef4444", "#38bdf8", "#a78bfa", "#facc15", "#34d399", "#fb923c", "#f43f5e",
                   "#e879f9")


@dataclass(frozen=True)
class Label:
    name: str
    display: str            # review window, legends, PDF, DICOM
    color: str              # "#rrggbb"
    group: str = OTHER
    severity: int = 0       # triage weight 0-3 (priority = severity x confidence)
    placement: str = ON_TOOTH
    automatable: bool = False  # documenting it changes no treatment: may go out before review
    plural: str = ""        # settings: "Restorations"
    chart_text: str = ""    # chart note: "Caries suspected on …"
    patient_text: str = ""  # patient summary: "A possible cavity on …"; empty: not mentioned
    family: str = ""        # labels the clinical rules treat alike (decay of any depth; what covers a tooth)
    tooth_treatment: bool = False  # usually treated on the tooth itself: a later film of it is a follow-up
    # existing dental work as it is charted in a practice system (structured write-back): the CDT
    # code — one, one per tooth class (anterior, premolar, molar), or BY_SURFACES (the resin code by
    # surface count, clinical/cdt.py) — and the code prefixes that mean "already charted" on a tooth
    charted_as: tuple[str, ...] = ()
    code_family: tuple[str, ...] = ()


KNOWN: tuple[Label, ...] = (
    Label("tooth", "Tooth", "#94a3b8", ANATOMY),
    Label("caries", "Caries", "#e0795a", PATHOLOGY, 2, ON_SURFACE,
          chart_text="Caries suspected", patient_text="a possible cavity", family="caries",
          tooth_treatment=True),
    Label("deep_caries", "Deep caries", "#c2410c", PATHOLOGY, 3,
          chart_text="Deep caries suspected", patient_text="a possible deep cavity", family="caries",
          tooth_treatment=True),
    # a radiograph does not show the material (amalgam or resin, ceramic or metal): the codes chart
    # the work as present; the office can change the code in its chart
    Label("restoration", "Restoration", "#5aa9e6", DENTAL_WORK, 0, ON_SURFACE, True, "Restorations",
          "Restoration present", family="covering", charted_as=(BY_SURFACES,), code_family=SURFACE_CODES),
    Label("crown", "Crown", "#a78bfa", DENTAL_WORK, 0, ON_TOOTH, True, "Crowns", "Crown present",
          family="covering", charted_as=("D2740",), code_family=("D27", "D6058", "D6059", "D606")),
    Label("root_canal", "Root canal filling", "#e6c35a", DENTAL_WORK, 0, ON_TOOTH, True, "Root canal fillings",
          "Root canal filling present", charted_as=("D3310", "D3320", "D3330"),
          code_family=("D331", "D332", "D333", "D3346", "D3347", "D3348")),  # therapy and retreatment
    Label("implant", "Implant", "#4fbfa0", DENTAL_WORK, 0, ON_TOOTH, True, "Implants", "Implant present",
          charted_as=("D6010",), code_family=("D600", "D601", "D604", "D605")),  # implant bodies
    Label("calculus", "Calculus", "#c9a27e", PATHOLOGY, 1, NEAR_TOOTH,
          chart_text="Calculus", patient_text="tartar build-up"),
    Label("periapical_radiolucency", "Periapical radiolucency", "#d9607a", PATHOLOGY, 3, NEAR_TOOTH,
          chart_text="Periapical radiolucency", patient_text="a possible infection at the root tip",
          tooth_treatment=True),
    Label("bone_loss", "Bone loss", "#d68fd6", PATHOLOGY, 2, NEAR_TOOTH,
          chart_text="Radiographic bone loss", patient_text="possible loss of the bone that supports the tooth"),
    Label("margin_discrepancy", "Margin discrepancy", "#f59e0b", PATHOLOGY, 2,
          chart_text="Margin discrepancy",
          patient_text="an edge of an existing filling or crown that may not fit well", tooth_treatment=True),
)
_BY_NAME = {label.name: label for label in KNOWN}


def _names(**match) -> frozenset[str]:
    return frozenset(l.name for l in KNOWN if all(getattr(l, k) == v for k, v in match.items()))


ANATOMY_LABELS = _names(group=ANATOMY)
DENTAL_WORK_LABELS = _names(group=DENTAL_WORK)
PATHOLOGY_LABELS = _names(group=PATHOLOGY)
SURFACE_LABELS = _names(placement=ON_SURFACE)
NEAR_TOOTH_LABELS = _names(placement=NEAR_TOOTH)
CARIES_LABELS = _names(family="caries")
COVERING_LABELS = _names(family="covering")  # under which decay recurs
# darker on a radiograph where they appear (the rest — dental work, calculus — lighter): clinical/change.py
RADIOLUCENT_LABELS = frozenset({"caries", "deep_caries", "periapical_radiolucency", "bone_loss", "margin_discrepancy"})
TOOTH_TREATMENT_LABELS = _names(tooth_treatment=True)
CHARTED_WORK_LABELS = frozenset(l.name for l in KNOWN if l.charted_as)  # existing work written as a procedure
# an allowlist in a fixed order, so a model bringing new labels (fracture, impacted, …) never widens it
AUTOMATABLE_LABELS: tuple[str, ...] = tuple(l.name for l in KNOWN if l.automatable)


# What the practice system already charts, in our labels: CDT code number ranges (the digits after
# "D"; codes only, the ADA descriptors are copyrighted) of work that is in the mouth once completed.
CHARTED_WORK_CODES: tuple[tuple[int, int, str], ...] = (
    (2140, 2161, "restoration"),   # amalgam
    (2330, 2394, "restoration"),   # resin-based composite
    (2410, 2430, "restoration"),   # gold foil
    (2510, 2664, "restoration"),   # inlays and onlays
    (2710, 2799, "crown"),         # single crowns
    (2930, 2934, "crown"),         # prefabricated crowns
    (3310, 3348, "root_canal"),    # endodontic therapy and retreatment
    (6010, 6099, "implant"),       # implant bodies, abutments, implant-supported crowns, maintenance
    (6110, 6199, "implant"),       # implant-supported dentures and repairs (6100-6106 remove or treat one)
)
EXTRACTION_CODES = (7111, 7250)  # extractions, surgical and impacted: the tooth is gone once completed
MISSING_TOOTH = "missing_tooth"  # a model's label for a gap where a tooth belongs (no product words yet)


def _code_number(code: str) -> int | None:
    code = (code or "").strip().upper()
    return int(code[1:5]) if len(code) >= 5 and code[0] == "D" and code[1:5].isdigit() else None


def label_of_code(code: str) -> str | None:
    """The label a charted procedure's CDT code shows on the tooth (None: not work we detect)."""
    number = _code_number(code)
    return next((label for lo, hi, label in CHARTED_WORK_CODES if number is not None and lo <= number <= hi), None)


def removes_tooth(code: str) -> bool:
    number = _code_number(code)
    return number is not None and EXTRACTION_CODES[0] <= number <= EXTRACTION_CODES[1]


def fallback_color(name: str) -> str:
    return FALLBACK_COLORS[zlib.crc32(name.encode("utf-8")) % len(FALLBACK_COLORS)]


def describe(name: str) -> Label:
    """The product's description of a label; one nobody describes gets its name in words."""
    known = _BY_NAME.get(name)
    if known:
        return known
    words = (name or "finding").replace("_", " ").capitalize()
    return Label(name, words, fallback_color(name), chart_text=words)


def findings_labels() -> list[str]:
    """What a clinician may add by hand: every described label except anatomy."""
    return [l.name for l in KNOWN if l.group != ANATOMY]
