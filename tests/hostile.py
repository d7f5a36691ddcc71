"""Hostile inputs of issue 22, generated (never stored): shared by the tests and by
`bench.hostile_rss`, which measures intake's peak memory on each."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np


def _dicom(path: Path, rows: int, cols: int, pixel_bytes, *, syntax: str = "1.2.840.10008.1.2.1",
           bits: int = 16, encapsulated: bool = False) -> Path:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientID, ds.PatientName = "PX", "BENCH", "Bench^Hostile"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, cols, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, 12 if bits == 16 else 8, \
        11 if bits == 16 else 7, 0
    if encapsulated:
        from pydicom.encaps import encapsulate

        ds.PixelData = encapsulate([pixel_bytes])
        ds["PixelData"].VR = "OB"
    else:
        ds.PixelData = pixel_bytes
    ds.save_as(path, enforce_file_format=True)
    return path


def _legit_pixels(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    row = np.linspace(200, 3800, w, dtype=np.float32)
    img = np.empty((h, w), np.uint16)
    for y in range(0, h, 512):
        block = row[None, :] + rng.normal(0, 40, (min(512, h - y), w)).astype(np.float32)
        img[y:y + 512] = np.clip(block, 0, 4095).astype(np.uint16)
    return img


def deflate_bomb(path: Path, inflated_mb: int = 900) -> Path:
    """A Deflated Explicit VR file: a 64×64 header over `inflated_mb` of zero pixel data."""
    plain = _dicom(path.with_suffix(".plain"), 64, 64, b"\0" * (64 * 64 * 2))
    raw = plain.read_bytes()
    plain.unlink()
    from pydicom import dcmread

    ds = dcmread(io.BytesIO(raw))
    head = io.BytesIO()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1.99"
    from pydicom.filewriter import write_file_meta_info

    head.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(head, ds.file_meta, enforce_standard=True)
    # the dataset (Explicit VR LE) up to the pixel data, then a huge OW Pixel Data element
    del ds.PixelData
    body = io.BytesIO()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds.save_as(body, enforce_file_format=True)
    dataset = body.getvalue()[132 + _meta_length(body.getvalue()):]
    pixel_len = inflated_mb << 20
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    with open(path, "wb") as f:
        f.write(head.getvalue())
        f.write(comp.compress(dataset + struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, pixel_len)))
        zeros = b"\0" * (1 << 20)
        for _ in range(inflated_mb):
            f.write(comp.compress(zeros))
        f.write(comp.flush())
    return path


def _meta_length(data: bytes) -> int:
    # (0002,0000) UL group length: tag(4) VR(2) len(2) value(4) = 12 bytes + value
    return 12 + struct.unpack("<I", data[132 + 8:132 + 12])[0]


def jpeg_mismatch(path: Path, side: int = 12000, header: tuple[int, int] = (2000, 2000), *,
                  codec: str = "JPEG") -> Path:
    """A DICOM whose Rows/Columns say `header` over a `side`×`side` JPEG (or JPEG 2000) frame."""
    from PIL import Image

    buf = io.BytesIO()
    if codec == "JPEG2000":
        Image.new("L", (side, side), 128).save(buf, format="JPEG2000", no_jp2=True)
        syntax = "1.2.840.10008.1.2.4.90"
    else:
        Image.new("L", (side, side), 128).save(buf, format="JPEG", quality=50)
        syntax = "1.2.840.10008.1.2.4.50"
    return _dicom(path, header[0], header[1], buf.getvalue(), syntax=syntax, bits=8, encapsulated=True)


def huge_tiff(path: Path, side: int = 10900) -> Path:
    from PIL import Image

    im = Image.new("I;16", (side, side), 1000)
    im.save(path, compression="tiff_adobe_deflate")
    return path


def oversize_pixel_data(path: Path, mb: int = 256) -> Path:
    return _dicom(path, 64, 64, b"\0" * (mb << 20))


def encapsulated_padding(path: Path, mb: int = 250) -> Path:
    """A valid 64×64 JPEG frame followed by `mb` of extra fragments (undefined length: read whole)."""
    from PIL import Image
    from pydicom.encaps import encapsulate

    buf = io.BytesIO()
    Image.new("L", (64, 64), 128).save(buf, format="JPEG")
    frame = buf.getvalue() + b"\0" * (mb << 20)
    return _dicom(path, 64, 64, frame, syntax="1.2.840.10008.1.2.4.50", bits=8, encapsulated=True)


def png_bomb(path: Path, side: int = 100_000) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (side + 1) * 16)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def legit_dicom(path: Path, max_pixels: int) -> Path:
    w = int((max_pixels * 2) ** 0.5)
    h = max_pixels // w
    return _dicom(path, h, w, _legit_pixels(h, w).tobytes())


def legit_tiff(path: Path, max_pixels: int) -> Path:
    from PIL import Image

    w = int((max_pixels * 2) ** 0.5)
    h = max_pixels // w
    Image.fromarray(_legit_pixels(h, w)).save(path, compression="tiff_adobe_deflate")
    return path
