"""DICOM and raster decoding to an 8-bit display/model image, with bounded resources.

Before a DICOM decoder runs, `dicom_checks` holds the file to what its header says; the
stored values become display levels in `levels` (LUTs, window, MONOCHROME1).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..config import IntakeConfig
from .dicom_checks import (DEFER_BYTES, DEFLATED, check_codestream, check_pixel_length, inflate_deflated,
                           max_dataset_bytes, parse_all_but_pixels, size_of)
from .decoder_child import ISOLATED_SYNTAXES, decode_isolated
from .errors import QuarantineError, short_reason
from .levels import dicom_to_uint8, luminance, stretch, to_uint8
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
# GDCM, pydicom's first choice, ends the whole process (an uncaught C++ exception) on some damaged
# JPEG, JPEG-LS and JPEG 2000 streams (found by tests/reliability/test_bad_input.py): those are decoded
# by the bundled decoders that raise an error instead, and JPEG Lossless, which only GDCM reads, by
# GDCM in a child process (`decoder_child.py`).
DECODING_PLUGIN = {"1.2.840.10008.1.2.4.50": "pillow", "1.2.840.10008.1.2.4.80": "pyjpegls",
                   "1.2.840.10008.1.2.4.81": "pyjpegls", "1.2.840.10008.1.2.4.90": "pillow",
                   "1.2.840.10008.1.2.4.91": "pillow"}
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
def decode_dicom(path: Path, *, max_pixels: int, force: bool = False) -> DecodedImage:
    inflated = inflate_deflated(path, max_dataset_bytes(max_pixels))
    try:
        decoded = _decode_dicom(inflated if inflated is not None else path, max_pixels=max_pixels, force=force)
    finally:
        if inflated is not None:
            inflated.close()
    if inflated is not None:
        decoded.meta["transfer_syntax"] = DEFLATED
    return decoded


def _in_process_plugin(tsuid: str) -> str | None:
    """The decoder to run in this process ('' for pydicom's own choice), or None: GDCM in a child
    process (JPEG Lossless, and the others when their own decoder is not installed)."""
    if tsuid in ISOLATED_SYNTAXES:
        return None
    plugin = DECODING_PLUGIN.get(tsuid, "")
    if not plugin:
        return ""
    from pydicom.pixels import get_decoder

    return plugin if plugin in get_decoder(tsuid).available_plugins else None


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
            parse_all_but_pixels(ds)
    except InvalidDicomError as exc:
        raise QuarantineError("not a DICOM or image file") from exc
    except MemoryError as exc:
        raise QuarantineError("DICOM file is too large for the memory of this PC") from exc
    except Exception as exc:  # pydicom meeting hostile bytes can raise anything: the file is damaged
        raise QuarantineError(f"DICOM file is truncated or damaged ({short_reason(exc)})") from exc
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
    check_pixel_length(ds, rows, cols, frames, samples, size_of(path))
    check_codestream(ds, tsuid, rows, cols, frames)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pydicom.pixels import pixel_array

            # one frame is enough for a 2-D detector; decoding a whole CBCT volume is not
            index = frames // 2 if frames > 1 else None
            plugin = _in_process_plugin(tsuid)
            arr = decode_isolated(path, index) if plugin is None else pixel_array(ds, index=index, decoding_plugin=plugin)
    except QuarantineError:
        raise
    except (RuntimeError, NotImplementedError) as exc:
        if tsuid in _MISSING_DECODER_HINTS:
            raise QuarantineError(_MISSING_DECODER_HINTS[tsuid]) from exc
        if tsuid and tsuid not in SUPPORTED_TRANSFER_SYNTAXES:
            name = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
            label = getattr(name, "name", "") or tsuid
            raise QuarantineError(f"no decoder installed for this compression ({label})") from exc
        raise QuarantineError(f"DICOM pixel data is damaged ({short_reason(exc)})") from exc
    except MemoryError as exc:
        raise QuarantineError("DICOM image is too large for the memory of this PC") from exc
    except Exception as exc:  # see above
        raise QuarantineError(f"DICOM pixel data is truncated or damaged ({short_reason(exc)})") from exc
    if arr.ndim == 3 and samples > 1:
        meta["color"] = _is_colourful(arr)
        arr = luminance(arr)
    elif arr.ndim != 2:
        raise QuarantineError(f"DICOM image has an unexpected shape {arr.shape}")
    try:
        bits = int(getattr(ds, "BitsStored", 8) or 8)
    except Exception:
        bits = 8
    pixels = dicom_to_uint8(arr, ds, color=samples > 1)
    meta["transfer_syntax"] = tsuid
    return DecodedImage(pixels=pixels, fmt="dicom", bits_stored=bits, frames=frames, meta=meta)


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
        raise QuarantineError(f"image file is damaged ({short_reason(exc)})") from exc
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
            raise QuarantineError(f"image file is truncated or damaged ({short_reason(exc)})") from exc
    if bits <= 8 and arr.dtype == np.uint8:
        pixels = arr
    else:
        pixels = to_uint8(arr, lambda values, sample: stretch(values.astype(np.float32),
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
