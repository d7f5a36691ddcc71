"""The original image of a report image: its DICOM header, checked to be the file that was analysed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...intake.metadata import split_person_name
from ...intake.staging import open_no_follow
from ...store import images
from ...store.reports import Patient, Report

# the attributes highdicom reads from the referenced image without a default (Type 2: may be empty)
_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyID", "StudyDate",
          "StudyTime", "ReferringPhysicianName")

# -- the original image ------------------------------------------------------------------------
@dataclass
class Source:
    """The original image of a report image: its DICOM header (no pixels) when it has one."""

    image_id: int
    dataset: Any = None            # pydicom Dataset of the original's header, or None
    problem: str = ""              # why there is no usable original DICOM ('' when there is)
    unreachable: bool = False      # the original's folder cannot be reached now (try again later)
    changed: bool = False          # a different file (or patient) lies there now: a person must look
    gsps_problem: str = ""         # why no presentation state can reference it ('' when one can)
    path: str = ""
    width: int = 0
    height: int = 0

    @property
    def can_gsps(self) -> bool:
        return self.dataset is not None and not self.gsps_problem


def read_source(db, image_id: int, *, sha256: str = "", patient: Patient | None = None) -> Source:
    """Reads the original DICOM header of an image (from images.path) and checks it is still
    the file that was analysed: same SOPInstanceUID and size, and the same bytes (sha256 of the
    signed report, else of the database) — and, given the signed snapshot's `patient`, that it
    names that patient. Anything else sets `changed`: identity is never taken from a file that
    could have been swapped after signing (issue 22, item 12)."""
    from pydicom import dcmread

    row = images.get(db, image_id)
    if row is None:
        return Source(image_id, problem=f"image {image_id} is not in the database")
    meta = json.loads(row["meta"] or "{}")
    src = Source(image_id, path=row["path"], width=int(row["width"] or 0), height=int(row["height"] or 0))
    fmt = str(meta.get("format") or "").lower()
    if fmt != "dicom":
        src.problem = f"image {image_id} came as a {fmt.upper() or 'non-DICOM'} file, not as DICOM"
        return src
    if not row["sop_uid"]:
        src.problem = f"image {image_id} has no SOP Instance UID"
        return src
    path = Path(row["path"])
    if not path.parent.is_dir():
        src.problem = f"the folder of image {image_id}'s original DICOM file cannot be reached"
        src.unreachable = True
        return src
    try:

        with open_no_follow(path) as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
            f.seek(0)
            ds = dcmread(f, stop_before_pixels=True, force=True)  # intake reads preamble-less files too
    except FileNotFoundError:
        src.problem = f"image {image_id}'s original DICOM file is no longer in its folder"
        return src
    except PermissionError:
        src.problem = f"image {image_id}'s original DICOM file is locked by another program"
        src.unreachable = True
        return src
    except Exception as exc:  # damaged, a link now, anything a hostile file raises: not usable
        src.problem = f"image {image_id}'s original DICOM file cannot be read any more ({type(exc).__name__})"
        return src
    src.changed = True
    if str(ds.get("SOPInstanceUID", "")) != row["sop_uid"]:
        src.problem = f"the file at image {image_id}'s place is now a different DICOM instance"
        return src
    if int(ds.get("Rows") or 0) != src.height or int(ds.get("Columns") or 0) != src.width:
        src.problem = f"image {image_id}'s original DICOM file no longer has the size that was analysed"
        return src
    if digest != (sha256 or row["sha256"] or digest):
        src.problem = (f"image {image_id}'s original DICOM file was replaced after it was analysed (its content "
                       "differs), so no results were sent: check the file in the export folder")
        return src
    other = _other_patient(ds, patient or Patient())
    if other:
        src.problem = (f"image {image_id}'s DICOM header names a different patient than the signed report "
                       f"({other} differs), so no results were sent: check which patient the images belong to")
        return src
    src.changed = False
    src.dataset = ds
    src.gsps_problem = _gsps_problem(ds, image_id)
    return src


def _other_patient(ds, patient: Patient) -> str:
    """Which identity field of the header disagrees with the signed snapshot's patient ('' if none)."""

    def norm(v) -> str:
        return " ".join(str(v or "").upper().split())

    header_id, signed_id = norm(ds.get("PatientID")), norm(patient.id)
    if header_id and signed_id and header_id != signed_id:
        return "patient ID"
    last, first = split_person_name(str(ds.get("PatientName") or ""))
    signed_last, signed_first = patient.last, patient.first
    if (norm(last), norm(first)) != (norm(signed_last), norm(signed_first.split("^")[0])) and (last or first) \
            and (signed_last or signed_first):
        return "patient name"
    header_birth, signed_birth = norm(ds.get("PatientBirthDate")), norm(patient.birth_date).replace("-", "")
    if header_birth and signed_birth and header_birth != signed_birth:
        return "birth date"
    return ""


def _gsps_problem(ds, image_id: int) -> str:
    if int(ds.get("SamplesPerPixel") or 1) != 1:
        return f"image {image_id} is a colour image; a grayscale presentation state cannot annotate it"
    if int(ds.get("NumberOfFrames") or 1) > 1 or "PerFrameFunctionalGroupsSequence" in ds:
        return f"image {image_id} is a multi-frame image; presentation states are made for single images only"
    if not ds.get("SeriesInstanceUID") or not ds.get("SOPClassUID"):
        return f"image {image_id}'s DICOM header has no series or SOP class UID to reference"
    return ""


def reference_dataset(src: Source, report: Report) -> Any:
    """A copy of the original's header that highdicom can read: missing or malformed Type 2
    patient/study attributes become empty (they are optional in the original's IOD)."""
    from pydicom.dataset import Dataset

    ds = src.dataset
    ref = Dataset()
    for elem in ds:
        if elem.tag.group >= 0x0008 and elem.tag != 0x7FE00010:
            ref.add(elem)
    for kw in _TYPE2:
        if kw not in ref or ref[kw].value is None:
            setattr(ref, kw, None)
    if str(ref.PatientSex or "") not in ("M", "F", "O"):
        ref.PatientSex = None
    for kw in ("StudyDate", "PatientBirthDate"):
        v = str(ref.get(kw) or "")
        if v and not (len(v) == 8 and v.isdigit()):
            setattr(ref, kw, None)
    t = str(ref.get("StudyTime") or "")
    if t and not t.replace(".", "").isdigit():
        ref.StudyTime = None
    if not ref.get("StudyInstanceUID"):
        ref.StudyInstanceUID = report.study_uid or None
    return ref

