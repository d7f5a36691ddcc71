"""What a signed report looks like outside the app: annotated radiographs and PDF reports.

Everything rendered here is labelled "AI-Assisted Preliminary Findings" with the signer,
the signing time and the model (or, for a targeted-automation export, "AI-generated, not yet
verified" with the time it went out), and is made only from the immutable report snapshot and the
image's own 8-bit display pixels. A report from a demonstration model says so before anything
else (`demo_line`, `demo_prefix`), and label names and colours are the ones the report recorded
from the models' manifests (`analysis/catalog.py`). Rendering is deterministic (the PDF is written with
reportlab's invariant mode), so a retry produces the same bytes.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..analysis.catalog import LabelStyle, ModelCatalog, default_style
from ..review.api import image_pixels
from ..review.report import LABEL, demo_line, demo_prefix, demonstration_models, local_time
from ..store import images
from ..store.reports import Report

__all__ = ["LABEL", "demo_line", "demo_prefix", "demonstration_models", "local_time"]  # the report's words, re-used

DISCLAIMER = ("AI-assisted preliminary findings, reviewed and signed by the dentist named above. They support, and do "
              "not replace, the dentist's clinical examination and diagnosis.")
AUTO_DISCLAIMER = ("AI-generated findings that no dentist has reviewed yet, exported automatically for low-risk "
                   "labels only. They are not a diagnosis; a dentist's signed report will follow.")


def label_style(label: str, report: Report | None = None) -> LabelStyle:
    """The display name and colour the report recorded for a label (the same the review window
    showed); reports made before they were recorded take the installed manifests' ones."""
    recorded = ((report.label_styles if report else None) or {}).get(label)
    if recorded:
        fallback = default_style(label)
        return LabelStyle(recorded.get("display") or fallback.display, recorded.get("color") or fallback.color)
    return ModelCatalog.bundled().style(label, report.models if report else ())


def nice_label(label: str, report: Report | None = None) -> str:
    return label_style(label, report).display


def colour(label: str, report: Report | None = None) -> tuple[int, int, int]:
    return label_style(label, report).rgb


_FONT_CANDIDATES = [
    "DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    r"C:\Windows\Fonts\segoeui.ttf", r"C:\Windows\Fonts\arial.ttf", "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
]
_BOLD_CANDIDATES = [
    "DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    r"C:\Windows\Fonts\segoeuib.ttf", r"C:\Windows\Fonts\arialbd.ttf", "/Library/Fonts/Arial Bold.ttf",
]


@lru_cache(maxsize=None)
def font_file(bold: bool = False) -> str | None:
    for cand in (_BOLD_CANDIDATES if bold else _FONT_CANDIDATES):
        try:
            ImageFont.truetype(cand, 10)
            return cand
        except OSError:
            continue
    return None


@lru_cache(maxsize=64)
def _font(size: int, bold: bool = False):
    f = font_file(bold) or font_file(False)
    if f:
        return ImageFont.truetype(f, size)
    return ImageFont.load_default(size=size)


def finding_text(f: dict, report: Report | None = None, *, with_confidence: bool = True) -> str:
    parts = [nice_label(f.get("label", ""), report)]
    if f.get("tooth_universal"):
        parts.append(f"#{f['tooth_universal']}")
    if f.get("surfaces"):
        parts.append(str(f["surfaces"]))
    if with_confidence and f.get("source") != "clinician" and f.get("confidence") is not None:
        parts.append(f"{float(f['confidence']):.0%}")
    if f.get("source") == "clinician":
        parts.append("(added by clinician)")
    return " ".join(parts)


def report_label(report: Report) -> str:
    return report.label or LABEL  # the report says what it is (signed or automated)


def signed_by(report: Report) -> str:
    if report.is_automated:
        return f"sent automatically {local_time(report.time)}"  # the label says it is unreviewed
    return f"signed by {report.signer_name}, {local_time(report.time)}"


def signed_line(report: Report) -> str:
    return f"{report_label(report)} — {signed_by(report)}"


def models_text(report: Report) -> str:
    return ", ".join(report.models) or "no model findings"


def _to_rgb(pixels: np.ndarray) -> Image.Image:
    arr = np.asarray(pixels)
    if arr.ndim == 3 and arr.shape[0] > 1 and arr.shape[-1] not in (3, 4):
        arr = arr[0]  # multi-frame: the first frame
    if arr.dtype != np.uint8:
        lo, hi = float(arr.min()), float(arr.max())
        arr = ((arr - lo) / (hi - lo or 1) * 255).clip(0, 255).astype(np.uint8)
    if arr.ndim == 2:
        return Image.fromarray(arr, "L").convert("RGB")
    return Image.fromarray(arr[..., :3], "RGB")


def annotated_image(pixels: np.ndarray, findings: list[dict], report: Report, *, original_size=None,
                    scale: float = 1.0) -> Image.Image:
    """The radiograph with boxes and labels, a banner on top and a legend below.

    `original_size` (w, h) is the size the boxes refer to when the pixels differ from it;
    `scale` < 1 makes a smaller rendering (upload limits).
    """
    img = _to_rgb(pixels)
    w0, h0 = img.size
    sx = w0 / original_size[0] if original_size and original_size[0] else 1.0
    sy = h0 / original_size[1] if original_size and original_size[1] else 1.0
    # small sensors make tiny images: enlarge them so text stays readable
    up = max(1.0, 900 / max(w0, 1)) if max(w0, h0) < 900 else 1.0
    k = up * scale
    if k != 1.0:
        img = img.resize((max(1, round(w0 * k)), max(1, round(h0 * k))), Image.Resampling.LANCZOS)
    w, h = img.size
    unit = max(12, min(28, w // 55))
    body = _font(unit)
    bold = _font(unit, bold=True)
    draw = ImageDraw.Draw(img)
    line = max(2, unit // 6)
    for f in findings:
        c = colour(f.get("label", ""), report)
        x1, y1, x2, y2 = (float(f[k_]) for k_ in ("x1", "y1", "x2", "y2"))
        box = (x1 * sx * k, y1 * sy * k, x2 * sx * k, y2 * sy * k)
        draw.rectangle(box, outline=c, width=line)
        text = finding_text(f, report)
        tw = draw.textlength(text, font=body)
        tx = min(max(0, box[0]), max(0, w - tw - 6))
        ty = box[1] - unit - 8 if box[1] - unit - 8 >= 0 else min(box[3] + 2, h - unit - 6)
        draw.rectangle((tx, ty, tx + tw + 6, ty + unit + 6), fill=(0, 0, 0))
        draw.text((tx + 3, ty + 2), text, fill=c, font=body)

    pad = unit // 2
    banner_lines = [x for x in (demo_line(report), signed_line(report)) if x] + [
        f"Model: {models_text(report)} · preliminary: the dentist's examination decides"]
    legend_labels = sorted({f.get("label", "") for f in findings})
    banner_h = pad * 2 + len(banner_lines) * (unit + pad)
    legend_h = pad * 2 + unit + pad if legend_labels else pad
    out = Image.new("RGB", (w, banner_h + h + legend_h), (16, 24, 32))
    out.paste(img, (0, banner_h))
    d = ImageDraw.Draw(out)
    d.rectangle((0, 0, w, banner_h - 1), fill=(255, 214, 0))
    y = pad
    for i, text in enumerate(banner_lines):
        d.text((pad, y), _fit(d, text, w - 2 * pad, bold if i == 0 else body), fill=(0, 0, 0),
               font=bold if i == 0 else body)
        y += unit + pad
    x, y = pad, banner_h + h + pad
    for label in legend_labels:
        name = nice_label(label, report)
        d.rectangle((x, y + 2, x + unit - 2, y + unit), outline=colour(label, report), width=line, fill=None)
        d.text((x + unit + 4, y), name, fill=(235, 235, 235), font=body)
        x += unit + 4 + int(d.textlength(name, font=body)) + unit
        if x > w - 4 * unit:
            break
    return out


def _fit(draw: ImageDraw.ImageDraw, text: str, width: float, font) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def encode_image(img: Image.Image, fmt: str = "jpg", quality: int = 90) -> bytes:
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, "PNG", optimize=False)
    else:
        img.convert("RGB").save(buf, "JPEG", quality=quality, optimize=True, subsampling=0 if quality >= 90 else 2)
    return buf.getvalue()


def render_study_image(db, report: Report, image: dict, *, scale: float = 1.0) -> Image.Image:
    row = images.get(db, image["id"])
    pixels = image_pixels(db, image["id"])
    size = (row["width"], row["height"]) if row and row["width"] else None
    return annotated_image(pixels, report.image_findings(image["id"]), report, original_size=size, scale=scale)
