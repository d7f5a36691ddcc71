"""Tooth numbering: Universal (ADA) <-> FDI (ISO 3950), names, and DICOM code parsing.

Universal permanent 1-32, primary A-T; FDI permanent 11-48, primary 51-85.
The DICOM Primary Anatomic Structure Sequence carries SNOMED codes whose values changed
over the years, so `fdi_from_code` maps the codes we know and otherwise parses the
Code Meaning text ("... maxillary right first molar ...", "tooth 16", "#3").
"""

from __future__ import annotations

import re

_PRIMARY_UNIVERSAL = "ABCDEFGHIJKLMNOPQRST"
_PRIMARY_FDI = [55, 54, 53, 52, 51, 61, 62, 63, 64, 65, 75, 74, 73, 72, 71, 81, 82, 83, 84, 85]

_POSITION_NAMES = {
    1: "central incisor",
    2: "lateral incisor",
    3: "canine",
    4: "first premolar",
    5: "second premolar",
    6: "first molar",
    7: "second molar",
    8: "third molar",
}
_PRIMARY_POSITION_NAMES = {
    1: "central incisor",
    2: "lateral incisor",
    3: "canine",
    4: "first molar",
    5: "second molar",
}
_QUADRANT_NAMES = {1: "maxillary right", 2: "maxillary left", 3: "mandibular left", 4: "mandibular right"}

# SNOMED CT codes from DICOM CID 4018 and the "Entire ... tooth" concepts seen in the field.
_SCT_TO_FDI = {
    "68085002": 18,
    "865995000": 16,
    "422653006": 11,
    "424399000": 21,
    "866006002": 36,
    "866005003": 46,
    "38994002": 48,
    "245575001": 11,
    "245590002": 48,
    "245620002": 51,
    "245630006": 85,
}


def universal_to_fdi(universal: int | str) -> int:
    """Universal tooth designation (1-32 or 'A'-'T') to FDI two-digit number."""
    if isinstance(universal, str):
        u = universal.strip().upper()
        if u.isdigit():
            return universal_to_fdi(int(u))
        if len(u) == 1 and u in _PRIMARY_UNIVERSAL:
            return _PRIMARY_FDI[_PRIMARY_UNIVERSAL.index(u)]
        raise ValueError(f"not a Universal tooth designation: {universal!r}")
    u = int(universal)
    if 1 <= u <= 8:
        return 19 - u
    if 9 <= u <= 16:
        return u + 12
    if 17 <= u <= 24:
        return 55 - u
    if 25 <= u <= 32:
        return u + 16
    raise ValueError(f"not a Universal tooth number: {universal!r}")


def fdi_to_universal(fdi: int) -> int | str:
    """FDI number to Universal: int 1-32 for permanent teeth, letter A-T for primary teeth."""
    fdi = int(fdi)
    quadrant, position = divmod(fdi, 10)
    if 1 <= quadrant <= 4 and 1 <= position <= 8:
        if quadrant == 1:
            return 9 - position
        if quadrant == 2:
            return 8 + position
        if quadrant == 3:
            return 25 - position
        return 24 + position
    if 5 <= quadrant <= 8 and 1 <= position <= 5:
        return _PRIMARY_UNIVERSAL[_PRIMARY_FDI.index(fdi)]
    raise ValueError(f"not an FDI tooth number: {fdi!r}")


def is_valid_fdi(fdi: int) -> bool:
    try:
        fdi_to_universal(fdi)
    except (ValueError, TypeError):
        return False
    return True


def arch_of_fdi(fdi: int) -> str:
    """'maxilla' or 'mandible'."""
    return "maxilla" if (fdi // 10) in (1, 2, 5, 6) else "mandible"


def is_posterior_fdi(fdi: int) -> bool:
    position = fdi % 10
    primary = fdi // 10 >= 5
    return position >= (4 if primary else 4)


def fdi_name(fdi: int) -> str:
    """English name, e.g. 16 -> 'maxillary right first molar tooth'."""
    quadrant, position = divmod(int(fdi), 10)
    if not is_valid_fdi(fdi):
        raise ValueError(f"not an FDI tooth number: {fdi!r}")
    if quadrant <= 4:
        return f"{_QUADRANT_NAMES[quadrant]} {_POSITION_NAMES[position]} tooth"
    return f"primary {_QUADRANT_NAMES[quadrant - 4]} {_PRIMARY_POSITION_NAMES[position]} tooth"


def _fdi_from_name(text: str) -> int | None:
    t = text.lower()
    quadrant = None
    for q, qname in _QUADRANT_NAMES.items():
        upper, side = qname.split()
        if (upper in t or upper.replace("ary", "a") in t) and re.search(rf"\b{side}\b", t):
            quadrant = q
            break
    if quadrant is None:
        return None
    primary = any(w in t for w in ("primary", "deciduous", "baby"))
    names = _PRIMARY_POSITION_NAMES if primary else _POSITION_NAMES
    # longest names first so "second premolar" wins over "premolar"
    for position, pname in sorted(names.items(), key=lambda kv: -len(kv[1])):
        if pname in t:
            return (quadrant + 4 if primary else quadrant) * 10 + position
    return None


def fdi_from_code(code_value: str | None, scheme: str | None = None, meaning: str | None = None) -> int | None:
    """Best-effort FDI number for a DICOM tooth code item; None when it cannot be placed."""
    value = (code_value or "").strip()
    scheme_u = (scheme or "").strip().upper()
    if value in _SCT_TO_FDI:
        return _SCT_TO_FDI[value]
    if scheme_u in ("ISO3950", "FDI") and value.isdigit() and is_valid_fdi(int(value)):
        return int(value)
    if meaning:
        by_name = _fdi_from_name(meaning)
        if by_name is not None:
            return by_name
        m = re.search(r"(?:fdi|iso\s*3950|tooth)\s*#?\s*(\d{2})\b", meaning, re.I)
        if m and is_valid_fdi(int(m.group(1))):
            return int(m.group(1))
    return None


ALL_PERMANENT_FDI = [q * 10 + p for q in (1, 2, 3, 4) for p in range(1, 9)]
ALL_PRIMARY_FDI = list(_PRIMARY_FDI)
