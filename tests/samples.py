"""Small sample images for tests: synthetic radiograph-like pixels, PNG and DICOM writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def radiograph(seed: int = 0, h: int = 120, w: int = 160, bits: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = 0.4 + 0.3 * np.sin(xx / (7 + seed % 5)) * np.cos(yy / 11) + rng.normal(0, 0.05, (h, w))
    img = np.clip(img, 0, 1)
    if bits == 8:
        return (img * 255).astype(np.uint8)
    return (img * (2**bits - 1)).astype(np.uint16)


def write_png(path: Path, seed: int = 0, **kw) -> Path:
    from PIL import Image

    Image.fromarray(radiograph(seed, **kw)).save(path)
    return path


def tooth_items(fdis, variant: str = "sct"):
    """Primary Anatomic Structure items for FDI teeth in one of the coding variants seen in the field."""
    from pydicom.dataset import Dataset

    from tray_app.teeth import _SCT_ENTIRE, SCT_CODES, _legacy_srt, fdi_name, fdi_to_universal

    items = []
    for f in fdis:
        it = Dataset()
        if variant == "sct":
            it.CodeValue, it.CodingSchemeDesignator, it.CodeMeaning = SCT_CODES[f], "SCT", fdi_name(f)
        elif variant == "entire":
            it.CodeValue, it.CodingSchemeDesignator, it.CodeMeaning = _SCT_ENTIRE[f], "SCT", "Entire tooth"
        elif variant == "srt":
            it.CodeValue, it.CodingSchemeDesignator = _legacy_srt(fdi_to_universal(f)), "SRT"
            it.CodeMeaning = "Tooth"
        else:  # only the meaning text is usable
            it.CodeValue, it.CodingSchemeDesignator, it.CodeMeaning = "X", "99LOCAL", fdi_name(f).capitalize()
        items.append(it)
    return items


def write_dicom(path: Path, seed: int = 0, *, sop_uid: str | None = None, study_uid: str | None = None,
                patient_id: str = "1001", bits: int = 12, photometric: str = "MONOCHROME2",
                shape: tuple[int, int] | None = None, frames: int = 1, teeth=(), teeth_variant: str = "sct",
                no_study_uid: bool = False, **tags) -> Path:
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    pixels = radiograph(seed, bits=bits, **({"h": shape[0], "w": shape[1]} if shape else {}))
    if frames > 1:
        pixels = np.stack([pixels] * frames)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.3"
    meta.MediaStorageSOPInstanceUID = sop_uid or generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    if not no_study_uid:
        ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "IO"
    ds.PatientID = patient_id
    ds.PatientName = "Doe^Jane"
    ds.PatientBirthDate = "19800101"
    ds.StudyDate = "20261128"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    if teeth:
        ds.PrimaryAnatomicStructureSequence = tooth_items(teeth, teeth_variant)
    for keyword, value in tags.items():
        if keyword == "ViewCode":
            from pydicom.dataset import Dataset

            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "SCT", "view"
            ds.ViewCodeSequence = [item]
        else:
            setattr(ds, keyword, value)
    ds.save_as(path, enforce_file_format=True)
    return path
