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

# Tooth codes seen in DICOM Primary Anatomic Structure items, all mapped to FDI.
# SNOMED CT "structure of ... tooth" concepts (DICOM CID 4018 as of 2022; deciduous CID 4019)
_SCT_STRUCTURE = {
    18: "68085002", 17: "863902006", 16: "865995000", 15: "36492000", 14: "57826002", 13: "860767006",
    12: "424877001", 11: "422653006", 21: "424399000", 22: "423185002", 23: "860780009", 24: "61897005",
    25: "23226009", 26: "865988009", 27: "863901004", 28: "87704003", 38: "74344005", 37: "863898000",
    36: "866006002", 35: "24573005", 34: "2400006", 33: "860782001", 32: "423331005", 31: "425106001",
    41: "424575004", 42: "423937004", 43: "860785004", 44: "80140008", 45: "8873007", 46: "866005003",
    47: "863899008", 48: "38994002",
    51: "88824007", 52: "65624003", 53: "30618001", 54: "17505006", 55: "27855007", 61: "51678005",
    62: "43622005", 63: "73937000", 64: "45234009", 65: "51943008", 71: "89552004", 72: "14770005",
    73: "43281008", 74: "38896004", 75: "49330006", 81: "67834006", 82: "22445006", 83: "6062009",
    84: "58646007", 85: "61868007",
}
# SNOMED CT "entire ... tooth" concepts, used by some tools
_SCT_ENTIRE = {
    11: "245575001", 12: "245574002", 13: "245572003", 14: "245571005", 15: "245570006", 16: "245568002",
    17: "245567007", 18: "245566003", 21: "245587008", 22: "245586004", 23: "245584001", 24: "245583007",
    25: "245582002", 26: "245579007", 27: "245578004", 28: "245577009", 31: "245611006", 32: "245610007",
    33: "245608005", 34: "245607000", 35: "245606009", 36: "245604007", 37: "245603001", 38: "245602006",
    41: "245600003", 42: "245599001", 43: "245597004", 44: "245596008", 45: "245595007", 46: "245592005",
    47: "245591003", 48: "245590002", 51: "245620002", 52: "245619008", 53: "245617005", 54: "245616001",
    55: "245615002", 61: "245627004", 62: "245626008", 63: "245624006", 64: "245623000", 65: "245622005",
    71: "245642001", 72: "245641008", 73: "245639007", 74: "245638004", 75: "245637009", 81: "245635001",
    82: "245634002", 83: "245632003", 84: "245631005", 85: "245630006",
}
_SCT_TO_FDI = {code: fdi for table in (_SCT_STRUCTURE, _SCT_ENTIRE) for fdi, code in table.items()}


def _legacy_srt(universal: int) -> str:
    # SNOMED-RT permanent tooth codes run in Universal order: #1 = T-54210 ... #32 = T-54520
    # (the ones older CID 4018 editions list, e.g. T-54210, T-54250, T-54370, T-54520, fit this).
    return f"T-54{200 + 10 * universal}"


SCT_CODES = dict(_SCT_STRUCTURE)  # FDI -> current code, for writing DICOM


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
    if value in _SCT_TO_FDI and scheme_u in ("SCT", "SNM3", "SRT", "99SDM", ""):
        return _SCT_TO_FDI[value]
    if value.upper() in _SRT_TO_FDI:
        return _SRT_TO_FDI[value.upper()]
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


_SRT_TO_FDI = {_legacy_srt(u): universal_to_fdi(u) for u in range(1, 33)}
