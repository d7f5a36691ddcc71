"""Checks on a DICOM file before any decoder allocates its pixels (docs/security.md, hostile files).

A decoder allocates what a file says, so every size a file states is checked against what an
image within `intake.max_pixels` can need, first: a Deflated file is inflated with a cap;
pixel data far longer than Rows × Columns × frames is refused before it is read; a compressed
frame whose codestream states a size other than Rows/Columns is refused before it is decoded.
"""

from __future__ import annotations

import os
import struct
import tempfile
import warnings
import zlib
from pathlib import Path

from .errors import QuarantineError, short_reason

DEFLATED = "1.2.840.10008.1.2.1.99"
HEADER_ALLOWANCE = 16 << 20  # header elements beside the pixels of a legitimate image
# encapsulated transfer syntaxes whose codestream states its own size (JPEG SOF, JPEG-LS SOF55,
# JPEG 2000 SIZ); a decoder allocates what the codestream says, not what Rows/Columns say
_CODESTREAM_SYNTAXES = {
    "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203",
}
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}


def max_dataset_bytes(max_pixels: int) -> int:
    """The most an uncompressed legitimate image within `max_pixels` takes: 4 bytes a pixel
    (32-bit or RGB) plus its header. A Deflated file is never inflated beyond this."""
    return max_pixels * 4 + HEADER_ALLOWANCE


def inflate_deflated(path: Path, limit: int):
    """A Deflated Explicit VR file inflated into an anonymous temporary file, streaming and
    stopping at `limit` bytes (pydicom would inflate all of it in memory first: a 408 KB file
    became 904 MiB). None for any other file."""
    from pydicom.filereader import _read_file_meta_info, read_preamble
    from pydicom.filewriter import write_file_meta_info
    from pydicom.uid import ExplicitVRLittleEndian

    with open(path, "rb") as f:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read_preamble(f, force=True)
                meta = _read_file_meta_info(f)
            if str(meta.get("TransferSyntaxUID", "")) != DEFLATED:
                return None
        except Exception:  # not our case, or damaged: the normal read reports it
            return None
        out = tempfile.TemporaryFile()
        try:
            out.write(b"\0" * 128 + b"DICM")
            meta.TransferSyntaxUID = ExplicitVRLittleEndian  # what the inflated bytes are
            write_file_meta_info(out, meta, enforce_standard=False)
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            total = 0
            for chunk in iter(lambda: f.read(1 << 16), b""):
                while chunk and not inflater.eof:
                    data = inflater.decompress(chunk, 1 << 20)
                    total += len(data)
                    if total > limit:
                        raise QuarantineError(
                            f"compressed (Deflated) DICOM file unpacks to more than {limit / 2**20:.0f} MB, more than "
                            "any image within the size limit; it is damaged or made to exhaust memory")
                    out.write(data)
                    chunk = inflater.unconsumed_tail
                if inflater.eof:
                    break
            out.write(inflater.flush())
            out.seek(0)
            return out
        except zlib.error as exc:
            out.close()
            raise QuarantineError("compressed (Deflated) DICOM file is damaged (its data cannot be unpacked)") from exc
        except BaseException:
            out.close()
            raise


def codestream_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) a JPEG, JPEG-LS or JPEG 2000 codestream declares; None if not found."""
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if marker in _SOF_MARKERS:
                if i + 9 > len(data):
                    return None
                height, width = struct.unpack(">HH", data[i + 5:i + 9])
                return width, height
            if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
                i += 2
                continue
            i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
        return None
    j = data.find(b"\xff\x4f\xff\x51")  # JPEG 2000 SOC + SIZ, bare or inside a JP2 box
    if j >= 0 and j + 24 <= len(data):
        xsiz, ysiz, xosiz, yosiz = struct.unpack(">IIII", data[j + 8:j + 24])
        return xsiz - xosiz, ysiz - yosiz
    return None


def check_codestream(ds, tsuid: str, rows: int, cols: int, frames: int) -> None:
    """Refuse a compressed frame whose own size differs from Rows/Columns before any decoder
    allocates it (a 64×64 header over a 12000×12000 JPEG decoded to 481 MiB)."""
    if tsuid not in _CODESTREAM_SYNTAXES or "PixelData" not in ds:
        return
    from pydicom.encaps import get_frame

    try:
        if not ds["PixelData"].is_undefined_length:
            return  # not encapsulated: the native decoder checks the length against the header
        frame = get_frame(ds.PixelData, frames // 2 if frames > 1 else 0, number_of_frames=frames)
    except Exception as exc:
        raise QuarantineError(f"DICOM pixel data is damaged ({short_reason(exc)})") from exc
    size = codestream_size(bytes(frame[: 1 << 20]))
    if size is None:
        raise QuarantineError("DICOM pixel data is damaged (the compressed image states no size)")
    if size != (cols, rows):
        raise QuarantineError(
            f"the compressed image inside this DICOM file is {size[0]}×{size[1]} pixels but its header says "
            f"{cols}×{rows}; the file is damaged or deliberately malformed")


DEFER_BYTES = 1 << 20
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)  # Pixel Data, Float and Double Float Pixel Data


def parse_all_but_pixels(ds, top: bool = True) -> None:
    """Parse every element except the top-level pixel data (read later, once its length is checked)."""
    for tag in list(ds.keys()):
        if top and tag in _PIXEL_TAGS:
            continue
        elem = ds[tag]
        if elem.VR == "SQ":
            for item in elem.value or ():
                parse_all_but_pixels(item, top=False)


def check_pixel_length(ds, rows: int, cols: int, frames: int, samples: int, source_size: int) -> None:
    """Pixel data far longer than Rows × Columns × frames needs uncompressed is refused before a
    decoder sees it (a 64×64 header over 256 MB of data). Compressed data is never that long;
    uncompressed data stays on disk (deferred) until this check has passed."""
    for tag in _PIXEL_TAGS:
        elem = ds.get_item(tag, keep_deferred=True)
        if elem is None:
            continue
        value = getattr(elem, "value", None)
        length = len(value) if isinstance(value, (bytes, bytearray)) else int(getattr(elem, "length", 0) or 0)
        if length == 0xFFFFFFFF:  # encapsulated and still on disk: at most the rest of the file
            length = max(0, source_size - int(getattr(elem, "value_tell", 0) or 0))
        try:
            bits = int(ds.get("BitsAllocated") or 8) if tag == 0x7FE00010 else (32 if tag == 0x7FE00008 else 64)
        except (TypeError, ValueError):
            bits = 8
        expected = (rows * cols * frames * samples * max(bits, 1) + 7) // 8
        if length > 2 * expected + 65536:
            raise QuarantineError(
                f"DICOM pixel data is far larger than its header says ({length / 2**20:.0f} MB for a {cols}×{rows} "
                "image); the file is damaged or deliberately malformed")
        return


def size_of(source) -> int:
    try:
        return os.fstat(source.fileno()).st_size if hasattr(source, "fileno") else os.stat(source).st_size
    except OSError:
        return 0
