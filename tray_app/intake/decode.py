"""DICOM and raster decoding to an 8-bit display/model image, with bounded resources.

Order for DICOM (PS3.3 / dicom-dental.md §4): Modality LUT, then VOI LUT or window,
then MONOCHROME1 inversion. Without a window the robust data range is used.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import QuarantineError
from .metadata import dicom_metadata

# Pillow's own bomb check raises with its own words; we bound pixels ourselves instead.
Image.MAX_IMAGE_PIXELS = None

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
def decode_dicom(path: Path, *, max_pixels: int, force: bool = False) -> DecodedImage:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=force)
            # pydicom parses elements when first touched: touch them all here, so a damaged one
            # (say, an unknown VR) is reported as damage now, not as a crash further down
            ds.walk(lambda _ds, _elem: None)
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
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    if color:
        return np.clip(arr, 0, 255).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            data = apply_modality_lut(arr, ds).astype(np.float64)
        except Exception:  # a broken LUT must not lose the image: fall back to raw values
            data = arr.astype(np.float64)
        if "VOILUTSequence" in ds:
            try:
                out = _stretch(apply_voi_lut(arr, ds).astype(np.float64), robust=False)
            except Exception:
                out = _stretch(data)
        elif "WindowCenter" in ds and "WindowWidth" in ds:
            try:
                c, w = _first(ds.WindowCenter), _first(ds.WindowWidth)
                out = np.clip((data - (c - w / 2)) / max(w, 1e-6), 0.0, 1.0) if w > 0 else _stretch(data)
            except (TypeError, ValueError):
                out = _stretch(data)
        else:
            out = _stretch(data)
    if str(getattr(ds, "PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        out = 1.0 - out
    return np.round(out * 255).astype(np.uint8)


def _first(value) -> float:
    try:
        return float(value[0])
    except TypeError:
        return float(value)


def _stretch(data: np.ndarray, robust: bool = True) -> np.ndarray:
    """Scale to 0..1 using the data's own range (robust percentiles ignore dead/hot pixels)."""
    if robust and data.size > 64:
        sample = data[:: max(1, data.shape[0] // 512), :: max(1, data.shape[1] // 512)]
        lo, hi = np.percentile(sample, [0.1, 99.9])
    else:
        lo, hi = float(data.min()), float(data.max())
    if hi <= lo:
        return np.zeros_like(data, dtype=np.float64)
    return np.clip((data - lo) / (hi - lo), 0.0, 1.0)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb[..., :3].astype(np.float64)
    return rgb @ np.array([0.299, 0.587, 0.114])


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


# -- raster -----------------------------------------------------------------------------
def decode_raster(path: Path, *, max_pixels: int) -> DecodedImage:
    try:
        im = Image.open(path)
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
        pixels = np.round(_stretch(arr.astype(np.float64)) * 255).astype(np.uint8)
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
        arr = np.asarray(im).astype(np.uint16)
        return arr, 16
    if mode in ("I", "F"):
        arr = np.asarray(im)
        return arr, 32 if mode == "I" else 32
    if mode in ("1", "P", "LA", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        return np.asarray(im.convert("L")), 8
    raise ValueError(f"unsupported pixel mode {mode}")
