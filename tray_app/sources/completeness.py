"""Knowing from a file's own structure that its writer has finished, so readiness need not
wait the whole settle time: a PNG ends at its IEND chunk, a JPEG at its EOI marker after a
walk of its segments, a TIFF when every strip or tile its directories name lies inside the
file, a DICOM file when its data set parses to the end of the file with the pixel data in it
(`dicom_complete.py`).

`proves_complete` answers True only for a file whose structure ends exactly at the end of
the file; anything else (unknown format, bytes after the end marker, a walk that runs past
the end, a hostile or odd structure) is False and the file waits the settle time as before.

What a structure cannot show: a writer that pre-allocates the whole file and fills it in
order leaves zeros at the end, which PNG, JPEG, encapsulated DICOM and a TIFF written
directory-last reject by themselves; for native DICOM pixels and TIFF strips the image data
must not end in zeros (a black corner only costs the settle time). A writer that overwrites
an older file in place without truncating it looks complete too early: readiness still
wants size and mtime held for a short time and, on Windows, no writer holding the file.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from .dicom_complete import Incomplete, dicom_complete, looks_dicom, zero_tail

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IEND_CRC = b"\xaeB`\x82"
MAX_PARTS = 200_000  # chunks, segments or directory entries walked: a hostile file costs little


def proves_complete(path: str) -> bool:
    """True when the file's structure shows it was written to the end (see the module doc)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(132)
            check = _checker(head)
            return check is not None and check(f, size)
    except (OSError, Incomplete, struct.error, ValueError, OverflowError):
        return False


def _checker(head: bytes):
    if head.startswith(PNG_SIGNATURE):
        return png_complete
    if head.startswith(b"\xff\xd8\xff"):
        return jpeg_complete
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return tiff_complete
    if looks_dicom(head):
        return dicom_complete
    return None


def _read(f: BinaryIO, pos: int, n: int) -> bytes:
    f.seek(pos)
    data = f.read(n)
    if len(data) != n:
        raise Incomplete(f"{n} bytes at {pos} run past the end")
    return data


def png_complete(f: BinaryIO, size: int) -> bool:
    pos = len(PNG_SIGNATURE)
    for i in range(MAX_PARTS):
        length, kind = struct.unpack(">I4s", _read(f, pos, 8))
        if not kind.isalpha() or (i == 0 and kind != b"IHDR"):
            return False  # zeros of a pre-allocated file, or not a chunk at all
        end = pos + 12 + length
        if end > size:
            return False
        if kind == b"IEND":
            return length == 0 and end == size and _read(f, pos + 8, 4) == _IEND_CRC
        pos = end
    return False


_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length


def jpeg_complete(f: BinaryIO, size: int) -> bool:
    """Segments walked by their lengths up to the first scan; then the file must end in EOI
    (FF D9 cannot occur inside entropy-coded data, where FF is always followed by 00 or RSTn)."""
    pos = 2
    for _ in range(MAX_PARTS):
        ff, marker = _read(f, pos, 2)
        if ff != 0xFF:
            return False
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (0xD8, 0xD9):
            return False  # a second SOI, or EOI before any scan
        (length,) = struct.unpack(">H", _read(f, pos + 2, 2))
        if length < 2 or pos + 2 + length > size:
            return False
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data and more scans
            return size >= pos + 2 + length + 2 and _read(f, size - 2, 2) == b"\xff\xd9"
        pos += 2 + length
    return False


_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_OFFSETS_COUNTS = ((273, 279), (324, 325))  # StripOffsets/StripByteCounts, TileOffsets/TileByteCounts


def tiff_complete(f: BinaryIO, size: int) -> bool:
    """Every directory in the chain lies in the file and names image data that does too."""
    e = "<" if _read(f, 0, 2) == b"II" else ">"
    (ifd,) = struct.unpack(e + "I", _read(f, 4, 4))
    seen: set[int] = set()
    last_end, last_len = 0, 0
    while ifd:
        if ifd in seen or len(seen) > 1000:
            return False
        seen.add(ifd)
        (count,) = struct.unpack(e + "H", _read(f, ifd, 2))
        if count == 0 or ifd + 2 + 12 * count + 4 > size:
            return False
        table = _read(f, ifd + 2, 12 * count + 4)
        values: dict[int, list[int]] = {}
        for i in range(count):
            tag, kind, n, raw = struct.unpack(e + "HHI4s", table[12 * i:12 * i + 12])
            width = _TIFF_TYPE_SIZES.get(kind, 0) * n
            if width > 4 and struct.unpack(e + "I", raw)[0] + width > size:
                return False  # a value stored outside the directory lies past the end
            if tag in (273, 279, 324, 325) and kind in (3, 4) and n <= MAX_PARTS:
                fmt = e + ("H" if kind == 3 else "I") * n
                data = raw[:width] if width <= 4 else _read(f, struct.unpack(e + "I", raw)[0], width)
                values[tag] = list(struct.unpack(fmt, data))
        pairs = [(values[o], values[c]) for o, c in _OFFSETS_COUNTS if o in values and c in values]
        if not pairs or len(pairs[0][0]) != len(pairs[0][1]) or not pairs[0][0]:
            return False  # a directory without image data: not a layout this check knows
        for off, n in zip(*pairs[0]):
            if off + n > size:
                return False
            if off + n >= last_end:
                last_end, last_len = off + n, n
        (ifd,) = struct.unpack(e + "I", table[-4:])
    return last_end > 0 and not zero_tail(f, last_end, last_len)
