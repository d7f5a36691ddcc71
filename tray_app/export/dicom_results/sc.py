"""The Secondary Capture (RGB) of the annotated rendering of one report image (highdicom)."""

from __future__ import annotations

import numpy as np

from ...review.report import demo_prefix
from ...store.reports import Report
from ..render import models_text
from .common import (MANUFACTURER, MODEL_NAME, SERIES_NUMBER, _deterministic, _version, _when, character_set,
                     creator_name, dicom_text, fit, instance_uid, local_study_uid, report_line, series_uid)
from .source import Source, reference_dataset

def build_sc(report: Report, image: dict, rendered, src: Source | None, *, report_sha256: str, study: dict,
             instance_number: int = 1):
    """The Secondary Capture (RGB) of the annotated rendering of one image."""
    from highdicom.sc import SCImage
    from pydicom.dataset import Dataset

    pixels = np.asarray(rendered.convert("RGB"), dtype=np.uint8)
    when = _when(report)
    ref = reference_dataset(src, report) if src is not None and src.dataset is not None else None
    if ref is not None:
        fields = dict(patient_id=ref.PatientID, patient_name=ref.PatientName or None,
                      patient_birth_date=ref.PatientBirthDate or None, patient_sex=ref.PatientSex or None,
                      accession_number=ref.AccessionNumber, study_id=ref.StudyID, study_date=ref.StudyDate or None,
                      study_time=ref.StudyTime or None, referring_physician_name=ref.ReferringPhysicianName or None)
        study_uid = str(ref.StudyInstanceUID or "") or report.study_uid or local_study_uid(study, report)
        original_charset = ref.get("SpecificCharacterSet")
    else:
        patient = report.patient
        name = "^".join(p for p in (dicom_text(patient.last).strip(), dicom_text(patient.first).strip()))
        birth = str(patient.birth_date or "").replace("-", "")
        sdate = str((study or {}).get("study_date") or "")
        fields = dict(patient_id=str(patient.id or ""), patient_name=name if name.strip("^") else None,
                      patient_birth_date=birth if len(birth) == 8 and birth.isdigit() else None,
                      patient_sex=None, accession_number=None, study_id=None,
                      study_date=sdate if len(sdate) == 8 and sdate.isdigit() else None, study_time=None,
                      referring_physician_name=None)
        study_uid = report.study_uid or local_study_uid(study or {}, report)
        original_charset = None
    texts = [report_line(report), str(fields["patient_name"] or ""), str(fields["patient_id"] or ""),
             creator_name(report)]
    # names go in as they are after construction: highdicom refuses a PN without "^" ("Doe"), and a
    # PACS matches the patient on the exact value of the original
    names = {"PatientName": fields.pop("patient_name"),
             "ReferringPhysicianName": fields.pop("referring_physician_name")}
    sc = SCImage(
        pixel_array=pixels, photometric_interpretation="RGB", bits_allocated=8, coordinate_system="PATIENT",
        study_instance_uid=study_uid, series_instance_uid=series_uid(report_sha256, "sc"),
        series_number=SERIES_NUMBER["sc"], sop_instance_uid=instance_uid(report_sha256, image["id"], "sc"),
        instance_number=instance_number, manufacturer=MANUFACTURER,
        patient_orientation=("L", "F"),  # replaced below: highdicom needs a value, ours is the original's or empty
        manufacturer_model_name=MODEL_NAME, software_versions=_version(),
        series_description=fit(dicom_text(demo_prefix(report) + (report.label or "AI findings")), 64),
        content_date=when.date(), content_time=when.time(), series_date=when.date(), series_time=when.time(),
        specific_character_set=character_set(texts, original_charset),
        **fields,
    )
    for kw, value in names.items():
        setattr(sc, kw, value or None)
    if ref is not None:
        sc.copy_patient_and_study_information(ref)  # the original's values exactly, as the GSPS has them
    orientation = ref.get("PatientOrientation") if ref is not None else None
    sc.PatientOrientation = orientation if orientation else None
    sc.DateOfSecondaryCapture = when.strftime("%Y%m%d")
    sc.TimeOfSecondaryCapture = when.strftime("%H%M%S")
    sc.BurnedInAnnotation = "NO"  # the burned-in text names findings and the signer, not the patient
    sc.ImageComments = fit(f"{report_line(report)}. Model: {models_text(report)}", 10240)
    sc.DerivationDescription = fit("Annotated copy of the original radiograph made by Dental AI Bridge: boxes and "
                                   "labels are the report's findings", 1024)
    if ref is not None:
        item = Dataset()
        item.ReferencedSOPClassUID = ref.SOPClassUID
        item.ReferencedSOPInstanceUID = ref.SOPInstanceUID
        sc.SourceImageSequence = [item]
    _deterministic(sc, when)
    return sc

