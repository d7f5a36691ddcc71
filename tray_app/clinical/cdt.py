"""CDT code suggestions: imaging codes from the study, treatment codes from accepted findings.

Codes only (the ADA descriptors are copyrighted); every suggestion is "suggested, dentist
to confirm" (clinical-ai.md §6).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from ..labels import BY_SURFACES, CARIES_LABELS, PATHOLOGY, SURFACE_CODES, describe
from ..teeth import fdi_to_universal

CONFIRM = "suggested, dentist to confirm"


@dataclass(frozen=True)
class Suggestion:
    code: str  # "" when the suggestion is an action without a single code
    reason: str
    teeth: tuple[str, ...] = ()
    kind: str = "imaging"  # imaging | treatment

    def as_dict(self) -> dict:
        return {"code": self.code or None, "reason": self.reason, "teeth": list(self.teeth), "kind": self.kind,
                "status": CONFIRM}


def imaging_codes(protocol: str, kinds: dict[str, int]) -> list[Suggestion]:
    out: list[Suggestion] = []
    if protocol == "FMX":
        return [Suggestion("D0210", "intraoral complete series (FMX)")]
    bw = kinds.get("bitewing", 0)
    if bw >= 7:
        out.append(Suggestion("D0277", f"vertical bitewings ({bw} images)"))
    elif bw:
        out.append(Suggestion({1: "D0270", 2: "D0272", 3: "D0273"}.get(bw, "D0274"), f"{bw} bitewing image(s)"))
    pa = kinds.get("periapical", 0)
    if pa:
        out.append(Suggestion("D0220", "first periapical image"))
        if pa > 1:
            out.append(Suggestion("D0230", f"{pa - 1} additional periapical image(s) (D0230 × {pa - 1})"))
    if kinds.get("occlusal"):
        out.append(Suggestion("D0240", "occlusal image"))
    if kinds.get("panoramic"):
        out.append(Suggestion("D0330", "panoramic image"))
    if kinds.get("cephalometric"):
        out.append(Suggestion("D0340", "2D cephalometric image"))
    if kinds.get("cbct"):
        out.append(Suggestion("D0367", "CBCT, both jaws (use D0364–D0366 for a limited or single-jaw field)"))
    return out


def _surface_code(fdi: int, surfaces: str) -> str:
    n = len(set(surfaces)) or 1
    if fdi % 10 >= 4:  # premolars and molars, permanent or primary
        return {1: "D2391", 2: "D2392", 3: "D2393"}.get(n, "D2394")
    return {1: "D2330", 2: "D2331", 3: "D2332"}.get(n, "D2335")


def treatment_codes(findings: Iterable[dict]) -> list[Suggestion]:
    """findings: dicts with label, tooth_fdi, surfaces, box (accepted/edited/added ones)."""
    findings = list(findings)
    out: list[Suggestion] = []
    by_tooth: dict[int, list[dict]] = defaultdict(list)
    for f in findings:
        if f.get("tooth_fdi"):
            by_tooth[int(f["tooth_fdi"])].append(f)
    for fdi, fs in sorted(by_tooth.items()):
        uni = str(fdi_to_universal(fdi))
        labels = {f["label"] for f in fs}
        caries = [f for f in fs if f["label"] in CARIES_LABELS]
        large_restoration = labels & {"crown"} or any(
            f["label"] == "restoration" and len(set(f.get("surfaces") or "")) >= 3 for f in fs)
        if caries and (large_restoration or "margin_discrepancy" in labels):
            out.append(Suggestion("D2740", f"recurrent decay under a large restoration on #{uni}: crown (D27xx)",
                                  (uni,), "treatment"))
        elif "margin_discrepancy" in labels:
            out.append(Suggestion("D2740", f"margin discrepancy on #{uni}: crown (D27xx)", (uni,), "treatment"))
        elif caries:
            surfaces = "".join(sorted({s for f in caries for s in (f.get("surfaces") or "")}, key="MOIDBFL".index))
            out.append(Suggestion(_surface_code(fdi, surfaces),
                                  f"caries #{uni} {surfaces or '(surface not placed)'}: resin-based composite",
                                  (uni,), "treatment"))
        if "periapical_radiolucency" in labels:
            out.append(Suggestion("", f"periapical radiolucency at #{uni}: endodontic evaluation", (uni,), "treatment"))
    quadrants: dict[int, set[str]] = defaultdict(set)
    for f in findings:
        if f["label"] == "bone_loss" and f.get("tooth_fdi"):
            fdi = int(f["tooth_fdi"])
            quadrants[fdi // 10].add(str(fdi_to_universal(fdi)))
    for q, teeth in sorted(quadrants.items()):
        code = "D4341" if len(teeth) >= 4 else "D4342"
        out.append(Suggestion(code, f"radiographic bone loss on {len(teeth)} tooth/teeth in quadrant {q} "
                                    "(needs charted pockets ≥ 4 mm)", tuple(sorted(teeth, key=int)), "treatment"))
    return out


# CDT codes of an image *acquisition* and the DICOM Modality the device records it under
# (dicom-dental.md §1: IO intra-oral, PX panoramic, DX cephalometric and other extra-oral 2D, CT
# cone beam). The D02xx–D03xx diagnostic-imaging codes that take new radiographs, plus the
# "image capture only" codes (D0380–D0384, D0701–D0709) an office bills when the reading happens
# elsewhere. Left out on purpose: photographs (D0350, D0703, D0704 — no X-ray device queries for
# them), interpretation-only codes (D0391 and friends), and sialography, arthrography,
# tomographic survey, MRI and ultrasound (D0310–D0322, D0385, D0386), which a dental X-ray unit
# does not take. The worklist lists an appointment when one of its procedures is in this table.
IMAGING_MODALITY: dict[str, str] = {
    "D0210": "IO",  # intraoral complete series (FMX)
    "D0220": "IO", "D0230": "IO",  # periapical, first and each additional
    "D0240": "IO",  # occlusal
    "D0270": "IO", "D0272": "IO", "D0273": "IO", "D0274": "IO", "D0277": "IO",  # bitewings
    "D0250": "DX", "D0251": "DX",  # extra-oral 2D projection; extra-oral posterior dental image
    "D0330": "PX",  # panoramic
    "D0340": "DX",  # 2D cephalometric
    "D0364": "CT", "D0365": "CT", "D0366": "CT", "D0367": "CT", "D0368": "CT",  # CBCT
    "D0380": "CT", "D0381": "CT", "D0382": "CT", "D0383": "CT", "D0384": "CT",  # CBCT capture only
    "D0701": "PX", "D0702": "DX", "D0705": "DX",  # capture only: panoramic, ceph, extra-oral posterior
    "D0706": "IO", "D0707": "IO", "D0708": "IO", "D0709": "IO",  # capture only: occlusal, PA, BW, FMX
}


def imaging_modality(code: str) -> str:
    """The DICOM Modality of a radiographic CDT code; '' when the code takes no radiograph."""
    return IMAGING_MODALITY.get((code or "").strip().upper(), "")

# -- per finding: what the dentist confirms at sign-off, and existing work as it is charted ------
CODE = re.compile(r"^D\d{4}$")  # a CDT code as Open Dental's procCode takes it


def finding_codes(findings: Iterable[dict]) -> dict[int, Suggestion]:
    """The suggested treatment code of each accepted pathology finding placed on a tooth (its tooth's
    rule above: decay under a crown → D27xx, caries by surface count, …); "" where no single code
    fits (an endodontic evaluation, a quadrant procedure). The dentist confirms or changes each."""
    findings = [f for f in findings if f.get("tooth_fdi") and f.get("id") is not None]
    out: dict[int, Suggestion] = {}
    for f in findings:
        if describe(f["label"]).group != PATHOLOGY:
            continue
        same_tooth = [g for g in findings if g["tooth_fdi"] == f["tooth_fdi"]]
        uni = str(fdi_to_universal(int(f["tooth_fdi"])))
        tooth = [s for s in treatment_codes(same_tooth) if s.teeth == (uni,)]  # the tooth's own, not quadrants
        if f["label"] in CARIES_LABELS or f["label"] == "margin_discrepancy":
            pick = next((s for s in tooth if s.code), None)  # its restoration or crown
        else:
            pick = next((s for s in tooth if not s.code and f["label"].replace("_", " ") in s.reason), None)
        out[int(f["id"])] = pick or Suggestion("", f"{describe(f['label']).display.lower()} #{uni}: no single "
                                                   "tooth code; enter one to chart it", (uni,), "treatment")
    return out


def existing_code(label: str, fdi: int, surfaces: str = "") -> str:
    """The code existing work of this label is charted with on this tooth ("" when it is not charted)."""
    charted = describe(label).charted_as
    if not charted:
        return ""
    if charted == (BY_SURFACES,):
        return _surface_code(fdi, surfaces)
    if len(charted) == 3:  # anterior, premolar, molar (primary: incisors and canine, then molars)
        pos, primary = fdi % 10, fdi // 10 >= 5
        return charted[0] if pos <= 3 else charted[2] if primary or pos >= 6 else charted[1]
    return charted[0]


def takes_surfaces(code: str) -> bool:
    return code.startswith(SURFACE_CODES)


def in_family(label: str, code: str) -> bool:
    """A charted code that already records this label's work (a crown of any material, …)."""
    family = describe(label).code_family
    return bool(family) and code.startswith(family)
