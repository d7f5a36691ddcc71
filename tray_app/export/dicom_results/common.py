"""What every result object shares: identifiers derived from the report, texts made safe for
DICOM, the character set, the report's time, and the deterministic stamps."""

from __future__ import annotations

import io
import unicodedata
from datetime import datetime
from typing import Any

from ...review.report import demo_prefix
from ...store.reports import Report
from ..render import signed_line

MANUFACTURER = "Dental AI Bridge"
MODEL_NAME = "Dental AI Bridge"
GSPS_CLASS = "1.2.840.10008.5.1.4.1.1.11.1"  # Grayscale Softcopy Presentation State Storage
SC_CLASS = "1.2.840.10008.5.1.4.1.1.7"       # Secondary Capture Image Storage
SERIES_NUMBER = {"gsps": 9901, "sc": 9902}
UNVERIFIED_CREATOR = "AI (unverified)"


# -- identifiers ------------------------------------------------------------------------------
def instance_uid(report_sha256: str, image_id: int, kind: str) -> str:
    """The SOP Instance UID of one result object: the same for the same report, image and kind."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=["dental-ai-bridge", "instance", report_sha256, str(image_id), kind]))


def series_uid(report_sha256: str, kind: str) -> str:
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=["dental-ai-bridge", "series", report_sha256, kind]))


def local_study_uid(study: dict, report: Report) -> str:
    """A StudyInstanceUID for a study of raster images only (it never had one): stable per study."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=["dental-ai-bridge", "study", str(report.study_id or study.get("id")),
                                          str(study.get("group_key") or ""), str(study.get("first_seen_at") or "")]))


# -- text -------------------------------------------------------------------------------------
_PUNCT = {"—": "-", "–": "-", "·": "-", "…": "...", "‘": "'", "’": "'", "“": '"', "”": '"', "\\": "/"}


def dicom_text(text: str) -> str:
    """Our texts for DICOM: typographic punctuation folded to ASCII (old viewers), no backslash
    (the value separator); other characters (names) are kept and decide the character set."""
    text = unicodedata.normalize("NFC", str(text or ""))
    return "".join(_PUNCT.get(ch, ch) for ch in text if ch >= " " or ch == "\n")


def fit(text: str, limit: int) -> str:
    """Cut to the VR's limit, counted in UTF-8 bytes (what strict checkers such as DCMTK count)."""
    text = dicom_text(text)
    if len(text.encode("utf-8")) <= limit:
        return text
    while text and len(text.encode("utf-8")) > limit - 3:
        text = text[:-1]
    return text.rstrip() + "..."


def person_name(name: str) -> str:
    """A display name ("Dr Jane Smith") as a DICOM PN: the whole name as the family-name part."""
    clean = dicom_text(name).replace("^", " ").replace("=", " ").strip()
    return f"{clean[:64]}^" if clean else ""


def creator_name(report: Report) -> str:
    if report.signer and not report.is_automated:
        return person_name(report.signer.name or "")
    return person_name(UNVERIFIED_CREATOR)


def report_line(report: Report) -> str:
    """The first text of every object; a demonstration model's report says so first."""
    return dicom_text(demo_prefix(report) + signed_line(report))


def _when(report: Report) -> datetime:
    """The report's time (local), used for every date and time in the objects: deterministic."""
    try:
        dt = datetime.fromisoformat(report.time)
    except ValueError:
        return datetime.now().replace(microsecond=0)
    return dt.astimezone() if dt.tzinfo is not None else dt


def character_set(texts: list[str], original: Any = None) -> Any:
    """The original's SpecificCharacterSet when it can hold all our texts, else UTF-8 (ISO_IR 192)."""
    from pydicom.charset import python_encoding

    terms = [t for t in ([original] if isinstance(original, str) else list(original or [])) if t]
    if "ISO_IR 192" in terms:
        return original
    if not terms or terms == ["ISO_IR 6"]:
        ok = all(t.isascii() for t in texts)
    elif len(terms) == 1 and terms[0] in python_encoding:
        try:
            for t in texts:
                t.encode(python_encoding[terms[0]])
            ok = True
        except UnicodeEncodeError:
            ok = False
    else:  # ISO 2022 code extensions: only plain ASCII is certainly safe
        ok = all(t.isascii() for t in texts)
    if ok:
        return original or None
    return "ISO_IR 192"


def _deterministic(ds, when: datetime) -> None:
    """highdicom stamps creation times with "now"; ours are the report's, so a rebuild is identical."""
    ds.InstanceCreationDate = when.strftime("%Y%m%d")
    ds.InstanceCreationTime = when.strftime("%H%M%S")
    for item in ds.get("ContributingEquipmentSequence") or []:
        if "ContributionDateTime" in item:
            item.ContributionDateTime = when.strftime("%Y%m%d%H%M%S")


def device_serial() -> str:
    """Enhanced General Equipment wants a serial number: one per computer, without its name."""
    import hashlib
    import socket

    return "DAB-" + hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:10].upper()


def _version() -> str:
    from ... import __version__

    return str(__version__)


def encode(ds) -> bytes:
    """The object as a DICOM file (PS3.10), e.g. to keep a copy or read it back."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()
