"""DICOM and raster decoding to an 8-bit display/model image, with bounded resources.

Order for DICOM (PS3.3 / dicom-dental.md §4): Modality LUT, then VOI LUT or window,
then MONOCHROME1 inversion. Without a window the robust data range is used.
"""

from __future__ import annotations

import os
import struct
import tempfile
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..config import IntakeConfig
from .errors import QuarantineError
from .metadata import dicom_metadata

# Pillow's own decompression-bomb check stays on, at our limit (decode_raster sets it to the
# caller's max_pixels and turns its warning into a refusal); this default covers other uses.
Image.MAX_IMAGE_PIXELS = IntakeConfig().max_pixels

RASTER_EXTENSIONS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".jp2"}

# Transfer syntaxes the bundled decoders handle (pydicom native/RLE, Pillow, python-gdcm):
# a decode failure there means damaged data, anywhere else a missing decoder.
SUPPORTED_TRANSFER_SYNTAXES = {
    "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
}
# Decoders we do not bundle, named so the message can say what would be needed.
_MISSING_DECODER_HINTS = {
    "1.2.840.10008.1.2.4.51": "JPEG Extended (12-bit) needs the pylibjpeg-libjpeg decoder, which is not bundled (GPL)",
    "1.2.840.10008.1.2.4.201": "HTJ2K needs the pylibjpeg-openjpeg decoder",
    "1.2.840.10008.1.2.4.202": "HTJ2K needs the pylibjpeg-openjpeg decoder",
    "1.2.840.10008.1.2.4.203": "HTJ2K needs the pylibjpeg-openjpeg decoder",
}


@dataclass
class DecodedImage:
    pixels: np.ndarray  # 2-D uint8, bright = radiopaque
    fmt: str  # dicom | png | tiff | jpeg | ...
    bits_stored: int
    frames: int = 1
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


def is_dicom_bytes(head: bytes) -> bool:
    return len(head) >= 132 and head[128:132] == b"DICM"


HEAD_BYTES = 132  # preamble + "DICM"


def file_kind(head: bytes, suffix: str) -> str:
    """How intake will read a file, from its first HEAD_BYTES and its suffix: "dicom",
    "dicom_raw" (no 128-byte preamble: older dental exporters write these), "raster" or "other".
    The settings window's folder Test uses the same rule, so it predicts what intake does."""
    suffix = suffix.lower()
    if is_dicom_bytes(head):
        return "dicom"
    if suffix in RASTER_EXTENSIONS or _looks_raster(head):
        return "raster"
    if suffix in (".dcm", ".dicom", ".dic", "") or head[:2] in (b"\x08\x00", b"\x02\x00"):
        return "dicom_raw"
    return "other"


def decode_file(path: Path, *, max_pixels: int, display_name: str = "") -> DecodedImage:
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise QuarantineError("file is empty")
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    kind = file_kind(head, path.suffix)
    if kind == "dicom":
        return decode_dicom(path, max_pixels=max_pixels)
    if kind == "raster":
        return decode_raster(path, max_pixels=max_pixels)
    if kind == "dicom_raw":
        return decode_dicom(path, max_pixels=max_pixels, force=True)
    raise QuarantineError("not a DICOM or image file")


def _looks_raster(head: bytes) -> bool:
    return (
        head.startswith(b"\x89PNG")
        or head.startswith(b"\xff\xd8\xff")
        or head[:4] in (b"II*\x00", b"MM\x00*")
        or head.startswith(b"BM")
        or head.startswith(b"GIF8")
    )


# -- DICOM ------------------------------------------------------------------------------
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


def decode_dicom(path: Path, *, max_pixels: int, force: bool = False) -> DecodedImage:
    inflated = _inflate_deflated(path, max_dataset_bytes(max_pixels))
    try:
        decoded = _decode_dicom(inflated if inflated is not None else path, max_pixels=max_pixels, force=force)
    finally:
        if inflated is not None:
            inflated.close()
    if inflated is not None:
        decoded.meta["transfer_syntax"] = DEFLATED
    return decoded


def _inflate_deflated(path: Path, limit: int):
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


def _check_codestream(ds, tsuid: str, rows: int, cols: int, frames: int) -> None:
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
        raise QuarantineError(f"DICOM pixel data is damaged ({_short(exc)})") from exc
    size = codestream_size(bytes(frame[: 1 << 20]))
    if size is None:
        raise QuarantineError("DICOM pixel data is damaged (the compressed image states no size)")
    if size != (cols, rows):
        raise QuarantineError(
            f"the compressed image inside this DICOM file is {size[0]}×{size[1]} pixels but its header says "
            f"{cols}×{rows}; the file is damaged or deliberately malformed")


DEFER_BYTES = 1 << 20
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)  # Pixel Data, Float and Double Float Pixel Data


def _touch(ds, top: bool = True) -> None:
    """Parse every element except the top-level pixel data (read later, once its length is checked)."""
    for tag in list(ds.keys()):
        if top and tag in _PIXEL_TAGS:
            continue
        elem = ds[tag]
        if elem.VR == "SQ":
            for item in elem.value or ():
                _touch(item, top=False)


def _check_pixel_length(ds, rows: int, cols: int, frames: int, samples: int, source_size: int) -> None:
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


def _size_of(source) -> int:
    try:
        return os.fstat(source.fileno()).st_size if hasattr(source, "fileno") else os.stat(source).st_size
    except OSError:
        return 0


def _decode_dicom(path, *, max_pixels: int, force: bool = False) -> DecodedImage:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # large values (the pixel data) stay on disk until their length is checked
            ds = pydicom.dcmread(path, force=force, defer_size=DEFER_BYTES)
            # pydicom parses elements when first touched: touch them all here, so a damaged one
            # (say, an unknown VR) is reported as damage now, not as a crash further down
            _touch(ds)
    except InvalidDicomError as exc:
        raise QuarantineError("not a DICOM or image file") from exc
    except MemoryError as exc:
        raise QuarantineError("DICOM file is too large for the memory of this PC") from exc
    except Exception as exc:  # pydicom meeting hostile bytes can raise anything: the file is damaged
        raise QuarantineError(f"DICOM file is truncated or damaged ({_short(exc)})") from exc
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        if force and "SOPClassUID" not in ds:
            raise QuarantineError("not a DICOM or image file")
        raise QuarantineError("DICOM file holds no image (a report, presentation state or other object)")
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
        samples = int(getattr(ds, "SamplesPerPixel", 1) or 1)
    except (AttributeError, TypeError, ValueError) as exc:
        raise QuarantineError("DICOM image is missing its size (Rows/Columns)") from exc
    if rows <= 0 or cols <= 0:
        raise QuarantineError(f"DICOM image has an impossible size ({cols}×{rows})")
    total = rows * cols * frames
    if total > max_pixels:
        raise QuarantineError(
            f"image too large to analyse safely ({total / 1e6:.0f} megapixels; limit {max_pixels / 1e6:.0f})"
        )
    meta = dicom_metadata(ds)
    try:
        tsuid = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    except Exception:
        tsuid = ""
    _check_pixel_length(ds, rows, cols, frames, samples, _size_of(path))
    _check_codestream(ds, tsuid, rows, cols, frames)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if frames > 1:
                # one frame is enough for a 2-D detector; decoding a whole CBCT volume is not
                from pydicom.pixels import pixel_array

                arr = pixel_array(ds, index=frames // 2)
            else:
                arr = ds.pixel_array
    except (RuntimeError, NotImplementedError) as exc:
        if tsuid in _MISSING_DECODER_HINTS:
            raise QuarantineError(_MISSING_DECODER_HINTS[tsuid]) from exc
        if tsuid and tsuid not in SUPPORTED_TRANSFER_SYNTAXES:
            name = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
            label = getattr(name, "name", "") or tsuid
            raise QuarantineError(f"no decoder installed for this compression ({label})") from exc
        raise QuarantineError(f"DICOM pixel data is damaged ({_short(exc)})") from exc
    except MemoryError as exc:
        raise QuarantineError("DICOM image is too large for the memory of this PC") from exc
    except Exception as exc:  # see above
        raise QuarantineError(f"DICOM pixel data is truncated or damaged ({_short(exc)})") from exc
    if arr.ndim == 3 and samples > 1:
        meta["color"] = _is_colourful(arr)
        arr = _luminance(arr)
    elif arr.ndim != 2:
        raise QuarantineError(f"DICOM image has an unexpected shape {arr.shape}")
    try:
        bits = int(getattr(ds, "BitsStored", 8) or 8)
    except Exception:
        bits = 8
    pixels = _dicom_to_uint8(arr, ds, color=samples > 1)
    meta["transfer_syntax"] = tsuid
    return DecodedImage(pixels=pixels, fmt="dicom", bits_stored=bits, frames=frames, meta=meta)


def _dicom_to_uint8(arr: np.ndarray, ds, *, color: bool) -> np.ndarray:
    if color:
        return np.clip(arr, 0, 255, out=arr if arr.dtype.kind == "f" else None).astype(np.uint8)
    return to_uint8(arr, lambda values, sample: _dicom_levels(values, sample, ds))


def _dicom_levels(values: np.ndarray, sample: np.ndarray, ds) -> np.ndarray:
    """Stored values → 0..1 display levels: Modality LUT, then VOI LUT or window (else the robust
    range of `sample`, a thinned copy of the image), then MONOCHROME1 inversion."""
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        def modality(a: np.ndarray) -> np.ndarray:
            try:
                return np.asarray(apply_modality_lut(a, ds), dtype=np.float32)
            except Exception:  # a broken LUT must not lose the image: fall back to raw values
                return a.astype(np.float32)

        data = modality(values)
        if "VOILUTSequence" in ds:
            try:
                out = _stretch(np.asarray(apply_voi_lut(values, ds), dtype=np.float32), robust=False)
            except Exception:
                out = _stretch(data, ref=modality(sample))
        elif "WindowCenter" in ds and "WindowWidth" in ds:
            try:
                c, w = _first(ds.WindowCenter), _first(ds.WindowWidth)
                if w > 0:
                    data -= c - w / 2
                    data /= max(w, 1e-6)
                    out = np.clip(data, 0.0, 1.0, out=data)
                else:
                    out = _stretch(data, ref=modality(sample))
            except (TypeError, ValueError):
                out = _stretch(data, ref=modality(sample))
        else:
            out = _stretch(data, ref=modality(sample))
    if str(getattr(ds, "PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        out = np.subtract(1.0, out, out=out)
    return out


def to_uint8(arr: np.ndarray, levels: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """An image as 8-bit display levels; `levels(values, sample)` maps values to 0..1 floats
    (`sample` is a thinned copy of the image for data-driven ranges). 8/16-bit images go through
    a look-up table over their value range, so the only full-size array made is the uint8
    result: a 16-bit 10900×10900 TIFF peaked at 2.3 GiB of float64 copies before."""
    sample = arr[:: max(1, arr.shape[0] // 512), :: max(1, arr.shape[1] // 512)]
    if arr.dtype.kind in "ui" and arr.dtype.itemsize <= 2:
        unsigned = np.dtype(f"u{arr.dtype.itemsize}")
        values = np.arange(int(arr.min()), int(arr.max()) + 1).astype(arr.dtype)
        table = np.zeros(1 << (8 * arr.dtype.itemsize), np.uint8)
        table[values.view(unsigned)] = _levels_to_bytes(levels(values, sample))
        return table[arr.view(unsigned)]
    return _levels_to_bytes(levels(arr.astype(np.float32), sample))  # 32-bit or float data


def _levels_to_bytes(unit: np.ndarray) -> np.ndarray:
    unit = np.asarray(unit, dtype=np.float32)
    unit *= 255
    return np.rint(unit, out=unit).astype(np.uint8)


def _first(value) -> float:
    try:
        return float(value[0])
    except TypeError:
        return float(value)


def _stretch(data: np.ndarray, robust: bool = True, ref: np.ndarray | None = None) -> np.ndarray:
    """Scale float `data` in place to 0..1 using the range of `ref` (default: the data itself);
    robust percentiles ignore dead/hot pixels."""
    ref = data if ref is None else ref
    if robust and ref.size > 64:
        sample = ref[:: max(1, ref.shape[0] // 512), :: max(1, ref.shape[1] // 512)] if ref.ndim == 2 else ref
        lo, hi = (float(v) for v in np.percentile(sample, [0.1, 99.9]))
    else:
        lo, hi = float(ref.min()), float(ref.max())
    if hi <= lo:
        data[...] = 0
        return data
    data -= lo
    data /= hi - lo
    return np.clip(data, 0.0, 1.0, out=data)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    out = rgb[..., 0].astype(np.float32)
    out *= 0.299
    out += rgb[..., 1].astype(np.float32) * np.float32(0.587)
    out += rgb[..., 2].astype(np.float32) * np.float32(0.114)
    return out


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


# -- raster -----------------------------------------------------------------------------
def decode_raster(path: Path, *, max_pixels: int) -> DecodedImage:
    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow refuses beyond twice this, warns beyond it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise QuarantineError(f"image too large to analyse safely (over {max_pixels / 1e6:.0f} megapixels; "
                              f"limit {max_pixels / 1e6:.0f})") from exc
    except UnidentifiedImageError as exc:
        with open(path, "rb") as f:
            looks_like_image = _looks_raster(f.read(16))
        raise QuarantineError("image file is damaged (its header is unreadable)" if looks_like_image
                              else "not a DICOM or image file") from exc
    except MemoryError:
        raise
    except Exception as exc:  # a parser meeting hostile bytes can raise anything: the file is damaged
        raise QuarantineError(f"image file is damaged ({_short(exc)})") from exc
    with im:
        w, h = im.size
        if w <= 0 or h <= 0:
            raise QuarantineError(f"image has an impossible size ({w}×{h})")
        if w * h > max_pixels:
            raise QuarantineError(
                f"image too large to analyse safely ({w * h / 1e6:.0f} megapixels; limit {max_pixels / 1e6:.0f})"
            )
        fmt = (im.format or path.suffix.lstrip(".")).lower()
        try:
            frames = int(getattr(im, "n_frames", 1) or 1)
            im.seek(0)
            im.load()
            arr, bits = _raster_array(im)
            color = im.mode in ("RGB", "RGBA", "P", "CMYK", "YCbCr", "RGBX") and _is_colourful(
                np.asarray(im) if im.mode in ("RGB", "RGBA", "RGBX") else np.asarray(im.convert("RGB")))
        except QuarantineError:
            raise
        except MemoryError as exc:
            raise QuarantineError("image is too large for the memory of this PC") from exc
        except Exception as exc:  # see above
            raise QuarantineError(f"image file is truncated or damaged ({_short(exc)})") from exc
    if bits <= 8 and arr.dtype == np.uint8:
        pixels = arr
    else:
        pixels = to_uint8(arr, lambda values, sample: _stretch(values.astype(np.float32),
                                                               ref=sample.astype(np.float32)))
    return DecodedImage(pixels=pixels, fmt="jpeg" if fmt == "mpo" else fmt, bits_stored=bits, frames=frames,
                        meta={"color": bool(color)})


def _is_colourful(rgb: np.ndarray) -> bool:
    """A photo, not a greyscale radiograph saved as RGB (or one with a few coloured marks).
    Judged on a ~256×256 sample, taken before any conversion (this runs once per image)."""
    sample = np.clip(rgb[:: max(1, rgb.shape[0] // 256), :: max(1, rgb.shape[1] // 256), :3], 0, 255).astype(np.int16)
    chroma = np.abs(sample[..., 0] - sample[..., 1]) + np.abs(sample[..., 1] - sample[..., 2])
    return float(np.mean(chroma > 24)) > 0.2


def _raster_array(im: Image.Image) -> tuple[np.ndarray, int]:
    mode = im.mode
    if mode == "L":
        return np.asarray(im), 8
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(im).astype(np.uint16, copy=False), 16
    if mode in ("I", "F"):
        arr = np.asarray(im)
        return arr, 32 if mode == "I" else 32
    if mode in ("1", "P", "LA", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        return np.asarray(im.convert("L")), 8
    raise ValueError(f"unsupported pixel mode {mode}")
