"""A DICOM file is complete when its data set parses element by element to exactly the end of
the file with the pixel data among them (readiness, `completeness.py`).

Only element headers are read; values are skipped by their lengths, sequences and items of
undefined length (encapsulated pixel data included) are walked to their delimiters. Tags must
rise within each data set, so the zeros of a pre-allocated file never pass for elements.
A Deflated data set cannot be walked without inflating it: it is never "complete" here and
waits the settle time.
"""

from __future__ import annotations

import struct
from typing import BinaryIO


class Incomplete(Exception):
    """The structure runs past the end of the file or is not one this walk knows."""


DEFLATED = "1.2.840.10008.1.2.1.99"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PIXEL_TAGS = {0x7FE00008, 0x7FE00009, 0x7FE00010}  # float, double float, pixel data
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
MAX_ELEMENTS = 200_000
ZERO_TAIL = 32


def looks_dicom(head: bytes) -> bool:
    """A Part-10 file ("DICM" after the preamble) or a bare data set starting at group 0002/0008."""
    return (len(head) >= 132 and head[128:132] == b"DICM") or head[:2] in (b"\x02\x00", b"\x08\x00")


class _Walk:
    def __init__(self, f: BinaryIO, size: int, pos: int, *, explicit: bool = True, little: bool = True):
        self.f, self.size, self.pos = f, size, pos
        self.explicit, self.e = explicit, "<" if little else ">"
        self.elements = 0
        self.pixel_end, self.pixel_len = 0, 0

    def read(self, n: int) -> bytes:
        if self.pos + n > self.size:
            raise Incomplete("past the end")
        self.f.seek(self.pos)
        data = self.f.read(n)
        if len(data) != n:
            raise Incomplete("past the end")
        self.pos += n
        return data

    def header(self) -> tuple[int, bytes, int]:
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise Incomplete("too many elements")
        group, elem = struct.unpack(self.e + "HH", self.read(4))
        tag = group << 16 | elem
        if group == 0xFFFE or not self.explicit:  # items and delimiters never have a VR
            return tag, b"", struct.unpack(self.e + "I", self.read(4))[0]
        vr = self.read(2)
        if not (vr.isalpha() and vr.isupper()):
            raise Incomplete("not a value representation")
        if vr in _LONG_VRS:
            self.read(2)
            return tag, vr, struct.unpack(self.e + "I", self.read(4))[0]
        return tag, vr, struct.unpack(self.e + "H", self.read(2))[0]

    def skip(self, length: int) -> None:
        if self.pos + length > self.size:
            raise Incomplete("a value runs past the end")
        self.pos += length

    def dataset(self, end: int | None, *, top: bool = False) -> int:
        """Walk elements until `end` (a defined length) or an item delimiter (`end` None)."""
        last = -1
        while True:
            if end is not None and self.pos >= end:
                if self.pos != end:
                    raise Incomplete("an element crosses its item's end")
                return last
            tag, _vr, length = self.header()
            if tag == ITEM_END and end is None:
                return last
            if tag <= last or tag >> 16 == 0xFFFE:
                raise Incomplete("elements out of order")
            last = tag
            if length == UNDEFINED:
                self.items()
            else:
                if top and tag in PIXEL_TAGS:
                    self.pixel_end, self.pixel_len = self.pos + length, length
                self.skip(length)
            if top and tag in PIXEL_TAGS and length == UNDEFINED:
                self.pixel_end, self.pixel_len = self.pos, 0  # encapsulated: ends in a delimiter

    def items(self) -> None:
        while True:
            tag, _vr, length = self.header()
            if tag == SEQ_END:
                return
            if tag != ITEM:
                raise Incomplete("not an item")
            if length == UNDEFINED:
                self.dataset(None)
            else:
                self.skip(length)


def _meta_syntax(w: _Walk) -> str:
    """Read the file meta (group 0002, explicit VR little endian) and return its transfer syntax."""
    syntax = ""
    while True:
        at = w.pos
        if w.pos + 2 > w.size or struct.unpack("<H", w.read(2))[0] != 0x0002:
            w.pos = at  # the data set starts: it may have no VRs (implicit)
            return syntax
        w.pos = at
        tag, _vr, length = w.header()
        value = w.read(length)
        if tag == 0x00020010:
            syntax = value.rstrip(b"\0 ").decode("ascii", "replace")


def zero_tail(f: BinaryIO, end: int, length: int) -> bool:
    """The last bytes of a stretch of image data are all zero: a pre-allocated file may still be
    filling (a black corner only costs the settle time)."""
    n = min(ZERO_TAIL, length)
    if n <= 0:
        return False
    f.seek(end - n)
    return not any(f.read(n))


def dicom_complete(f: BinaryIO, size: int) -> bool:
    f.seek(0)
    head = f.read(132)
    pos = 132 if head[128:132] == b"DICM" else 0
    w = _Walk(f, size, pos)
    if pos == 0 and head[:2] == b"\x08\x00":  # a bare data set: implicit unless a VR follows the tag
        w.explicit = head[4:6].isalpha() and head[4:6].isupper()
        syntax = ""
    else:
        syntax = _meta_syntax(w)
    if syntax == DEFLATED:
        return False
    if syntax:
        w.explicit, w.e = syntax != IMPLICIT_LE, ">" if syntax == EXPLICIT_BE else "<"
    w.dataset(size, top=True)
    if not w.pixel_end:
        return False
    return not zero_tail(f, w.pixel_end, w.pixel_len)
