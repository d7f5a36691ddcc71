"""Metadata from DICOM headers: patient identity, UIDs, dates, acquisition, tooth list."""

from __future__ import annotations

from typing import Any

from ..teeth import fdi_from_code


def _s(ds, keyword: str) -> str:
    try:
        return _text(ds, keyword)
    except Exception:  # a damaged element must not cost us the image; its value is just unknown
        return ""


def _text(ds, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    try:
        if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
            return "\\".join(str(v) for v in value)
    except TypeError:
        pass
    return str(value).strip()


def _codes(ds, keyword: str) -> list[dict[str, str]]:
    try:
        seq = ds.get(keyword) or []
        items = list(seq)
    except Exception:
        return []
    out = []
    for item in items:
        out.append(
            {
                "value": _s(item, "CodeValue"),
                "scheme": _s(item, "CodingSchemeDesignator"),
                "meaning": _s(item, "CodeMeaning"),
            }
        )
    return out


def _spacing(ds) -> list[float] | None:
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        try:
            value = ds.get(keyword)
        except Exception:
            continue
        if value:
            try:
                return [float(v) for v in value][:2]
            except (TypeError, ValueError):
                continue
    return None


def split_person_name(raw: str) -> tuple[str, str]:
    """DICOM PN 'Last^First^Middle' -> (last, first)."""
    parts = (raw or "").split("=")[0].split("^")
    last = parts[0].strip() if parts else ""
    first = parts[1].strip() if len(parts) > 1 else ""
    return last, first


def dicom_metadata(ds) -> dict[str, Any]:
    teeth_codes = _codes(ds, "PrimaryAnatomicStructureSequence")
    teeth = []
    for code in teeth_codes:
        fdi = fdi_from_code(code["value"], code["scheme"], code["meaning"])
        if fdi is not None and fdi not in teeth:
            teeth.append(fdi)
    last, first = split_person_name(_s(ds, "PatientName"))
    return {
        "patient_id": _s(ds, "PatientID"),
        "patient_last": last,
        "patient_first": first,
        "birth_date": _s(ds, "PatientBirthDate"),
        "sex": _s(ds, "PatientSex"),
        "study_uid": _s(ds, "StudyInstanceUID"),
        "series_uid": _s(ds, "SeriesInstanceUID"),
        "sop_uid": _s(ds, "SOPInstanceUID"),
        "sop_class": _s(ds, "SOPClassUID"),
        "modality": _s(ds, "Modality"),
        "study_date": _s(ds, "StudyDate"),
        "study_time": _s(ds, "StudyTime"),
        "acquisition_date": _s(ds, "AcquisitionDate") or _s(ds, "ContentDate"),
        "study_description": _s(ds, "StudyDescription"),
        "series_description": _s(ds, "SeriesDescription"),
        "protocol_name": _s(ds, "ProtocolName"),
        "image_comments": _s(ds, "ImageComments"),
        "laterality": _s(ds, "ImageLaterality") or _s(ds, "Laterality"),
        "positioner_type": _s(ds, "PositionerType"),
        "presentation_intent": _s(ds, "PresentationIntentType"),
        "anatomic_region": _codes(ds, "AnatomicRegionSequence"),
        "view_codes": _codes(ds, "ViewCodeSequence"),
        "teeth_codes": teeth_codes,
        "teeth_fdi": teeth,
        "pixel_spacing_mm": _spacing(ds),
        "manufacturer": _s(ds, "Manufacturer"),
        "model_name": _s(ds, "ManufacturerModelName"),
        "photometric": _s(ds, "PhotometricInterpretation"),
        "bits_stored": int(_s(ds, "BitsStored") or 0) if _s(ds, "BitsStored").isdigit() else 0,
        "instance_number": _s(ds, "InstanceNumber"),
    }
