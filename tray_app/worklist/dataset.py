"""A cached imaging appointment as a Modality Worklist item, and C-FIND matching on it.

Matching (DICOM PS3.4 C.2.2.2): an empty key matches everything and is only returned; `*` and `?`
are wildcards (patient names compared without regard to case); dates and times match a single
value or a range (`a-b`, `-b`, `a-`); a backslash lists alternatives. Keys other than the
supported matching keys are return keys only. ScheduledStationAETitle is answered, not matched:
Open Dental's schedule does not say which X-ray unit takes the images, so every allowed station
sees every imaging appointment (`[worklist] allowed_calling_aes` limits who may ask).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from ..store.worklist import Item

SPS = "ScheduledProcedureStepSequence"
MATCH_TOP = ("PatientName", "PatientID", "AccessionNumber", "RequestedProcedureID", "StudyInstanceUID",
             "PatientBirthDate", "PatientSex")
MATCH_SPS = ("ScheduledProcedureStepStartDate", "ScheduledProcedureStepStartTime", "Modality",
             "ScheduledPerformingPhysicianName", "ScheduledProcedureStepID")
CASE_INSENSITIVE = ("PatientName", "ScheduledPerformingPhysicianName")


def _lo(text: str, limit: int = 64) -> str:
    text = " ".join(str(text).split()).replace("\\", "/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def charset(*texts: str) -> str:
    """Latin-1 (ISO_IR 100) where every name fits, which the older imaging software reads; else UTF-8."""
    try:
        "".join(texts).encode("latin-1")
        return "ISO_IR 100"
    except UnicodeEncodeError:
        return "ISO_IR 192"


def item_dataset(item: Item, patient_id: str, *, uid_salt: str, station_ae: str = "") -> Dataset:
    """The full worklist item. `uid_salt` (this database's id) makes the appointment's
    StudyInstanceUID the same at every answer, so the images taken for it group as one study."""
    ds = Dataset()
    ds.SpecificCharacterSet = charset(item.patient_name, item.provider, *(d for _, d in item.procedures))
    ds.AccessionNumber = f"OD{item.apt_num}"[:16]
    ds.PatientName = item.patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = item.birth_date
    ds.PatientSex = item.sex
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[uid_salt, "worklist", str(item.apt_num), item.modality])
    ds.RequestedProcedureID = f"OD{item.apt_num}-{item.modality}"[:16]
    words = [f"{code} {desc}".strip() for code, desc in item.procedures]
    ds.RequestedProcedureDescription = _lo("; ".join(words))
    ds.RequestedProcedureCodeSequence = Sequence([_code(*item.procedures[0])]) if item.procedures else Sequence()
    step = Dataset()
    step.ScheduledStationAETitle = station_ae
    step.ScheduledProcedureStepStartDate = item.start[:10].replace("-", "")
    step.ScheduledProcedureStepStartTime = item.start[11:19].replace(":", "")
    step.Modality = item.modality
    step.ScheduledPerformingPhysicianName = item.provider
    step.ScheduledProcedureStepDescription = _lo(", ".join(words))
    step.ScheduledProtocolCodeSequence = Sequence([_code(code, desc) for code, desc in item.procedures])
    step.ScheduledProcedureStepID = ds.RequestedProcedureID
    step.ScheduledProcedureStepStatus = "SCHEDULED"
    ds.ScheduledProcedureStepSequence = Sequence([step])
    return ds


def _code(code: str, description: str) -> Dataset:
    c = Dataset()
    c.CodeValue = code
    c.CodingSchemeDesignator = "CDT"
    c.CodeMeaning = _lo(description or code)
    return c


# -- matching ------------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def _pattern(value: str, fold: bool) -> re.Pattern:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in value)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if fold else 0))


def _range_match(query: str, value: str, width: int) -> bool:
    digits = lambda s: re.sub(r"\D", "", s)[:width]  # noqa: E731 — "08:30" and "0830" are one time
    value = digits(value)
    if "-" not in query:
        q = digits(query)
        return value.startswith(q) if width == 6 else value == q
    low, high = (digits(part) for part in query.split("-", 1))
    if not value:
        return False
    return (not low or value >= low.ljust(len(value), "0")) and (not high or value[: len(high)] <= high)


def value_matches(keyword: str, query: str, value: str) -> bool:
    query = query.strip()
    if not query or query == "*":
        return True  # universal matching
    if keyword.endswith("Date"):
        return _range_match(query, value, 8)
    if keyword.endswith("Time"):
        return _range_match(query, value, 6)
    fold = keyword in CASE_INSENSITIVE
    return any(_pattern(alt.strip(), fold).fullmatch(value.strip()) for alt in query.split("\\"))


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    return "" if value is None else str(value)


def matches(query: Dataset, item: Dataset) -> bool:
    for keyword in MATCH_TOP:
        if keyword in query and not value_matches(keyword, _text(query, keyword), _text(item, keyword)):
            return False
    steps = query.get(SPS)
    if steps:
        wanted, step = steps[0], item.ScheduledProcedureStepSequence[0]
        for keyword in MATCH_SPS:
            if keyword in wanted and not value_matches(keyword, _text(wanted, keyword), _text(step, keyword)):
                return False
    return True


def response(query: Dataset, item: Dataset) -> Dataset:
    """The item cut to the keys the query asked for (an empty sequence key returns the whole sequence)."""
    out = Dataset()
    out.SpecificCharacterSet = item.SpecificCharacterSet
    _copy_keys(query, item, out)
    return out


def _copy_keys(query: Dataset, item: Dataset, out: Dataset) -> None:
    for elem in query:
        if elem.keyword in ("SpecificCharacterSet", "") or elem.tag.is_private:
            continue
        have = item.get(elem.keyword)
        if elem.VR == "SQ":
            if have is None:
                setattr(out, elem.keyword, Sequence())
            elif len(elem.value) and len(have):
                sub = Dataset()
                _copy_keys(elem.value[0], have[0], sub)
                setattr(out, elem.keyword, Sequence([sub]))
            else:
                setattr(out, elem.keyword, have)
        else:
            out.add_new(elem.tag, elem.VR, have if have is not None else None)
