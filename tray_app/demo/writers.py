"""Write synthetic samples the way imaging software exports them: PNG, TIFF, DICOM, YOLO labels.

DICOM files follow the DX family: Digital Intra-Oral X-Ray Image For Presentation (Modality IO)
for bitewings/periapicals and Digital X-Ray Image For Presentation (Modality PX) for panoramics,
so the intake code is exercised on the same attributes real sensors write.
"""

from __future__ import annotations

import datetime as _dt
import os

import numpy as np

from .. import teeth as _teeth
from .synth import LABELS, Sample

SOP_IO_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.3"
SOP_DX_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.1"
MANUFACTURER = "Dental AI Bridge synthetic"

# SNOMED CT tooth concepts we are confident about; other teeth use a private scheme
_FDI_TO_SCT = {18: "68085002", 16: "865995000", 11: "422653006", 21: "424399000",
               36: "866006002", 46: "866005003", 48: "38994002"}
_REGION = {"teeth": ("28035005", "Teeth, gums and supporting structures"),
           "maxilla": ("70925003", "Maxilla"), "mandible": ("91609006", "Mandible")}


def _pil_image(sample: Sample):
    from PIL import Image

    img = np.ascontiguousarray(sample.image)
    if sample.bits_stored == 8:
        return Image.fromarray(img.astype(np.uint8, copy=False), mode="L")
    # 12-bit data are stored unscaled (0..4095) in a 16-bit container, like the DICOM pixels
    return Image.fromarray(img.astype(np.uint16, copy=False))


def write_png(sample: Sample, path) -> None:
    """8-bit grayscale PNG for 8-bit samples, else 16-bit PNG holding the raw stored values."""
    _pil_image(sample).save(os.fspath(path), format="PNG")


def write_tiff(sample: Sample, path) -> None:
    """8-bit or 16-bit grayscale TIFF (raw stored values, uncompressed)."""
    _pil_image(sample).save(os.fspath(path), format="TIFF")


def _focus_tooth(sample: Sample) -> int | None:
    """Tooth whose box centre is nearest the image centre."""
    h, w = sample.image.shape
    best, best_d = None, None
    for o in sample.objects:
        if o.label != "tooth" or o.tooth_fdi is None:
            continue
        cx, cy = (o.box[0] + o.box[2]) / 2, (o.box[1] + o.box[3]) / 2
        d = (cx - w / 2) ** 2 + 0.25 * (cy - h / 2) ** 2
        if best_d is None or d < best_d:
            best, best_d = o.tooth_fdi, d
    return best


def default_series_description(sample: Sample) -> str:
    """'BW R molar' / 'PA #19' / 'PAN', as practices label their series."""
    if sample.kind == "panoramic":
        return "PAN"
    focus = _focus_tooth(sample)
    if sample.kind == "bitewing":
        region = "molar" if focus is not None and focus % 10 >= 6 else "premolar"
        return f"BW {sample.laterality} {region}"
    return f"PA #{_teeth.fdi_to_universal(focus)}" if focus is not None else "PA"


def _code_item(value: str, scheme: str, meaning: str):
    from pydicom.dataset import Dataset

    it = Dataset()
    it.CodeValue = value
    it.CodingSchemeDesignator = scheme
    it.CodeMeaning = meaning
    return it


def write_dicom(sample: Sample, path, *, patient_id: str, patient_name: str, birth_date: str,
                study_uid: str | None = None, series_description: str | None = None, instance_number: int = 1,
                study_date: str | None = None, transfer_syntax: str = "explicit") -> str:
    """Write a DX-family DICOM file (Part 10, with preamble); returns the SOPInstanceUID.

    UIDs are derived deterministically from the patient, sample seed/kind and instance number,
    so regenerating a demo data set gives the same UIDs.  transfer_syntax: "explicit"
    (Explicit VR Little Endian) or "rle" (RLE Lossless, pydicom's native encoder)."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID, RLELossless, generate_uid

    if transfer_syntax not in ("explicit", "rle"):
        raise ValueError("transfer_syntax must be 'explicit' or 'rle'")
    intra = sample.kind != "panoramic"
    sop_class = SOP_IO_PRESENTATION if intra else SOP_DX_PRESENTATION
    key = [str(patient_id), sample.kind, str(sample.seed), str(sample.bits_stored)]
    study_uid = study_uid or generate_uid(entropy_srcs=["study"] + key)
    series_uid = generate_uid(entropy_srcs=["series", study_uid] + key + [str(instance_number)])
    sop_uid = generate_uid(entropy_srcs=["sop", study_uid] + key + [str(instance_number)])
    if study_date is None:   # deterministic per seed, within the last few years
        study_date = (_dt.date(2023, 1, 2) + _dt.timedelta(days=sample.seed % 1000)).strftime("%Y%m%d")
    study_time = "%02d%02d%02d" % (8 + sample.seed % 10, (sample.seed // 10) % 60, (sample.seed // 600) % 60)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = FileDataset(os.fspath(path), {}, file_meta=meta, preamble=b"\0" * 128)

    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = study_date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = study_time
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = int(instance_number)
    ds.Modality = "IO" if intra else "PX"
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = f"synth-{sample.kind}"
    ds.SeriesDescription = series_description or default_series_description(sample)
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = birth_date
    ds.PatientSex = ""
    ds.BodyPartExamined = "JAW"
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ImageLaterality = sample.laterality
    ds.PositionerType = "NONE"
    ds.DetectorType = "SCINTILLATOR"
    sp = f"{sample.pixel_spacing_mm:.6g}"
    ds.ImagerPixelSpacing = [sp, sp]
    ds.PixelSpacing = [sp, sp]
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"

    if sample.kind == "periapical" and sample.teeth_fdi:
        region = _teeth.arch_of_fdi(sample.teeth_fdi[0])
    else:
        region = "teeth"
    ds.AnatomicRegionSequence = Sequence([_code_item(*_REGION[region][:1], "SCT", _REGION[region][1])])
    items = []
    for fdi in sample.teeth_fdi:
        code = _FDI_TO_SCT.get(fdi)
        scheme, value = ("SCT", code) if code else ("99DBRIDGE", f"FDI-{fdi}")
        items.append(_code_item(value, scheme, _teeth.fdi_name(fdi)))
    ds.PrimaryAnatomicStructureSequence = Sequence(items)

    img = np.ascontiguousarray(sample.image)
    bits = int(sample.bits_stored)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = int(img.shape[0]), int(img.shape[1])
    ds.BitsAllocated = 8 if bits == 8 else 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.PresentationLUTShape = "IDENTITY"
    lo, hi = float(np.percentile(img, 0.5)), float(np.percentile(img, 99.5))
    ds.WindowCenter = f"{(lo + hi) / 2:.1f}"
    ds.WindowWidth = f"{max(hi - lo, 1.0):.1f}"
    ds.PixelData = img.astype(np.uint8 if bits == 8 else np.uint16, copy=False).tobytes()

    if transfer_syntax == "rle":
        # lossless, so the instance keeps its UID (pydicom would mint a new one by default)
        ds.compress(RLELossless, encoding_plugin="pydicom", generate_instance_uid=False)
    ds.save_as(os.fspath(path), enforce_file_format=True)
    return sop_uid


def write_yolo_labels(sample: Sample, path, labels=LABELS) -> None:
    """YOLO txt: 'cls cx cy w h' normalised to the image size, one object per line.

    Objects whose label is not in `labels` are skipped (lets a model train on a subset)."""
    h, w = sample.image.shape
    index = {name: i for i, name in enumerate(labels)}
    lines = []
    for o in sample.objects:
        if o.label not in index:
            continue
        x1, y1, x2, y2 = o.box
        lines.append(f"{index[o.label]} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} "
                     f"{(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}")
    with open(os.fspath(path), "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + ("\n" if lines else ""))
