from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYSTRAY_BACKEND", "dummy")
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An isolated DENTAL_BRIDGE_HOME with the stub detector installed as the user's model."""
    h = tmp_path / "home"
    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(h))
    from model_factory import simple_detector

    simple_detector(h / "models" / "stub")
    return h


@pytest.fixture
def export_dir(tmp_path):
    d = tmp_path / "export"
    d.mkdir()
    return d


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


def write_dicom(path: Path, seed: int = 0, *, sop_uid: str | None = None, study_uid: str | None = None,
                patient_id: str = "1001", bits: int = 12, photometric: str = "MONOCHROME2") -> Path:
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    pixels = radiograph(seed, bits=bits)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.3"
    meta.MediaStorageSOPInstanceUID = sop_uid or generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "IO"
    ds.PatientID = patient_id
    ds.PatientName = "Doe^Jane"
    ds.PatientBirthDate = "19800101"
    ds.StudyDate = "20261128"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path
