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
import sys
from datetime import datetime
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..analysis.catalog import DEMO_MODEL_NAMES, LabelStyle, default_style

LABEL = "AI-Assisted Preliminary Findings"
DISCLAIMER = ("AI-assisted preliminary findings, reviewed and signed by the dentist named above. They support, and do "
              "not replace, the dentist's clinical examination and diagnosis.")
AUTO_DISCLAIMER = ("AI-generated findings that no dentist has reviewed yet, exported automatically for low-risk "
                   "labels only. They are not a diagnosis; a dentist's signed report will follow.")

DEMO_LINE = "DEMONSTRATION MODEL — not for clinical use"


def demonstration_models(snapshot: dict) -> list[str]:
    """The report's models whose manifests say demonstration (recorded when the report was made;
    reports older than that record are recognised by the model's name)."""
    if "demonstration_models" in snapshot:
        return list(snapshot.get("demonstration_models") or [])
    return [m for m in snapshot.get("models") or [] if m.split(" ")[0] in DEMO_MODEL_NAMES]


def demo_line(snapshot: dict) -> str:
    """The first line of everything written from a demonstration model's report ("" otherwise)."""
    models = demonstration_models(snapshot)
    if not models:
        return ""
    return f"{DEMO_LINE} ({', '.join(models)}): not for diagnosis or treatment."


def demo_prefix(snapshot: dict) -> str:
    """What a one-line text (a document description, a DICOM label) starts with for such a report."""
    return f"{DEMO_LINE} — " if demonstration_models(snapshot) else ""


def label_style(label: str, snapshot: dict | None = None) -> LabelStyle:
    """The display name and colour the report recorded for a label (the same the review window
    showed); reports made before they were recorded take the installed manifests' ones."""
    recorded = ((snapshot or {}).get("label_styles") or {}).get(label)
    if recorded:
        fallback = default_style(label)
        return LabelStyle(recorded.get("display") or fallback.display, recorded.get("color") or fallback.color)
    from ..analysis.catalog import ModelCatalog

    return ModelCatalog.bundled().style(label, (snapshot or {}).get("models") or ())


def nice_label(label: str, snapshot: dict | None = None) -> str:
    return label_style(label, snapshot).display


def colour(label: str, snapshot: dict | None = None) -> tuple[int, int, int]:
    return label_style(label, snapshot).rgb


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


def finding_text(f: dict, snapshot: dict | None = None, *, with_confidence: bool = True) -> str:
    parts = [nice_label(f.get("label", ""), snapshot)]
    if f.get("tooth_universal"):
        parts.append(f"#{f['tooth_universal']}")
    if f.get("surfaces"):
        parts.append(str(f["surfaces"]))
    if with_confidence and f.get("source") != "clinician" and f.get("confidence") is not None:
        parts.append(f"{float(f['confidence']):.0%}")
    if f.get("source") == "clinician":
        parts.append("(added by clinician)")
    return " ".join(parts)


def is_automated(snapshot: dict) -> bool:
    return bool(snapshot.get("automated"))


def report_label(snapshot: dict) -> str:
    return snapshot.get("label") or LABEL  # the snapshot says what it is (signed or automated)


def report_time(snapshot: dict) -> str:
    """ISO time the report was made: the signature, or the automatic decision."""
    return snapshot.get("signed_at") or (snapshot.get("automated") or {}).get("at") or ""


def signed_by(snapshot: dict) -> str:
    if is_automated(snapshot):
        return f"sent automatically {local_time(report_time(snapshot))}"  # the label says it is unreviewed
    signer = (snapshot.get("signer") or {}).get("name", "")
    return f"signed by {signer}, {local_time(report_time(snapshot))}"


def signed_line(snapshot: dict) -> str:
    return f"{report_label(snapshot)} — {signed_by(snapshot)}"


def local_time(iso: str) -> str:
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if dt.tzinfo is not None:
        dt = dt.astimezone()
    return dt.strftime("%Y-%m-%d %H:%M")


def models_text(snapshot: dict) -> str:
    return ", ".join(snapshot.get("models") or []) or "no model findings"


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


def annotated_image(pixels: np.ndarray, findings: list[dict], snapshot: dict, *, original_size=None,
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
        c = colour(f.get("label", ""), snapshot)
        x1, y1, x2, y2 = (float(f[k_]) for k_ in ("x1", "y1", "x2", "y2"))
        box = (x1 * sx * k, y1 * sy * k, x2 * sx * k, y2 * sy * k)
        draw.rectangle(box, outline=c, width=line)
        text = finding_text(f, snapshot)
        tw = draw.textlength(text, font=body)
        tx = min(max(0, box[0]), max(0, w - tw - 6))
        ty = box[1] - unit - 8 if box[1] - unit - 8 >= 0 else min(box[3] + 2, h - unit - 6)
        draw.rectangle((tx, ty, tx + tw + 6, ty + unit + 6), fill=(0, 0, 0))
        draw.text((tx + 3, ty + 2), text, fill=c, font=body)

    pad = unit // 2
    banner_lines = [x for x in (demo_line(snapshot), signed_line(snapshot)) if x] + [
        f"Model: {models_text(snapshot)} · preliminary: the dentist's examination decides"]
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
        name = nice_label(label, snapshot)
        d.rectangle((x, y + 2, x + unit - 2, y + unit), outline=colour(label, snapshot), width=line, fill=None)
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


# -- PDF ------------------------------------------------------------------------------------------
def _pdf_fonts() -> tuple[str, str]:
    """A Unicode TrueType font when one is installed (patient names beyond Latin-1), else Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular, bold = font_file(False), font_file(True)
    if not regular:
        return "Helvetica", "Helvetica-Bold"
    try:
        if "DAB-Regular" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("DAB-Regular", regular))
            pdfmetrics.registerFont(TTFont("DAB-Bold", bold or regular))
        return "DAB-Regular", "DAB-Bold"
    except Exception:  # a broken font file must not stop an export
        return "Helvetica", "Helvetica-Bold"


def patient_line(patient: dict) -> tuple[str, str, str]:
    last, _, first = (patient.get("name") or "").partition("^")
    first = first.split("^")[0]
    bd = patient.get("birth_date") or ""
    bd = f"{bd[:4]}-{bd[4:6]}-{bd[6:8]}" if len(bd) == 8 and bd.isdigit() else bd or "not recorded"
    return last.strip(), first.strip(), bd


def _esc(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def report_pdf(snapshot: dict, images: list[tuple[dict, Image.Image]], *, study: dict | None = None,
               marker: str = "", image_width_mm: float = 170.0, patient_friendly: bool = False) -> bytes:
    """The findings report as PDF bytes (deterministic).

    `images`: (snapshot image entry, annotated rendering) pairs. `patient_friendly` gives the
    plain-language variant built on drafts["patient_summary"].
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image as RLImage
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _pdf_fonts()
    page = letter if _us_locale() else A4
    base = ParagraphStyle("base", fontName=regular, fontSize=9.5, leading=12.5)
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=10, textColor=colors.HexColor("#444444"))
    h1 = ParagraphStyle("h1", parent=base, fontName=bold, fontSize=15, leading=19, spaceAfter=9)
    h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4)
    banner = ParagraphStyle("banner", parent=base, fontName=bold, fontSize=10, backColor=colors.HexColor("#FFD600"),
                            borderPadding=(4, 6, 4, 6), leading=13)
    cell = ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5)

    last, first, bd = patient_line(snapshot.get("patient") or {})
    patient = snapshot.get("patient") or {}
    study = study or {}
    signer = snapshot.get("signer") or {}
    story = []
    if demo_line(snapshot):
        demo = ParagraphStyle("demo", parent=banner, textColor=colors.white, backColor=colors.HexColor("#B3261E"))
        story += [Paragraph(_esc(demo_line(snapshot)), demo), Spacer(1, 8)]
    title = "Your X-ray results" if patient_friendly else "Radiograph findings report"
    story.append(Paragraph(_esc(title), h1))
    story.append(Paragraph(_esc(signed_line(snapshot)), banner))
    story.append(Spacer(1, 6))

    id_kind = {"patnum": "PatNum", "chartnumber": "Chart number"}.get(patient.get("id_kind", ""), "Patient id")
    info = [
        ["Patient", f"{last}, {first}".strip(", "), "Birth date", bd],
        [id_kind, str(patient.get("id", "")), "Study date", _date(study.get("study_date", ""))],
        ["Signed by", f"{signer.get('name', '')} ({signer.get('role', '')})", "Signed at",
         local_time(report_time(snapshot))] if not is_automated(snapshot) else
        ["Status", "not yet verified by a dentist", "Exported at", local_time(report_time(snapshot))],
        ["Model", models_text(snapshot), "Images", str(len(snapshot.get("images") or []))],
    ]
    if not patient_friendly and (snapshot.get("set") or {}).get("text"):
        info.append(["Series", snapshot["set"]["text"], "", ""])
    t = Table([[Paragraph(_esc(str(c)), cell if i % 2 else ParagraphStyle("k", parent=cell, fontName=bold))
                for i, c in enumerate(row)] for row in info],
              colWidths=[28 * mm, 62 * mm, 26 * mm, 58 * mm], hAlign="LEFT")
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25,
                                                                     colors.HexColor("#CCCCCC"))]))
    story.append(t)

    findings = snapshot.get("findings") or []
    if patient_friendly:
        story.append(Paragraph("What your dentist found", h2))
        text = (snapshot.get("drafts") or {}).get("patient_summary") or "Your dentist will talk you through the results."
        for para in text.split("\n\n"):
            story.append(Paragraph(_esc(para.replace("\n", " ")), base))
            story.append(Spacer(1, 4))
    else:
        story.append(Paragraph(f"Findings ({len(findings)})", h2))
        if findings:
            kinds = {im["id"]: im.get("kind", "") for im in snapshot.get("images") or []}
            rows = [["#", "Finding", "Tooth", "Surfaces", "Confidence", "Image", "Status"]]
            for i, f in enumerate(findings, 1):
                rows.append([str(i), nice_label(f.get("label", ""), snapshot), f"#{f['tooth_universal']}" if
                             f.get("tooth_universal") else "—", f.get("surfaces") or "",
                             "clinician" if f.get("source") == "clinician" else f"{float(f.get('confidence', 0)):.0%}",
                             f"{f.get('image_id')} {kinds.get(f.get('image_id'), '')}".strip(), f.get("status", "")])
            ft = Table([[Paragraph(_esc(str(c)), cell) for c in r] for r in rows],
                       colWidths=[8 * mm, 40 * mm, 18 * mm, 18 * mm, 22 * mm, 36 * mm, 28 * mm], repeatRows=1,
                       hAlign="LEFT")
            ft.setStyle(TableStyle([
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF4")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#BBBBBB")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]))
            story.append(ft)
        else:
            story.append(Paragraph("No findings were accepted for this study.", base))
        cdt = snapshot.get("cdt") or {}
        codes = [c for c in (cdt.get("imaging") or []) + (cdt.get("treatment") or [])]
        if codes:
            story.append(Paragraph("Suggested codes (dentist to confirm)", h2))
            story.append(Paragraph(_esc("; ".join(f"{c.get('code')} — {c.get('reason', '')}" for c in codes)), base))
        note = (snapshot.get("drafts") or {}).get("chart_note") or ""
        if note:
            story.append(Paragraph("Chart note", h2))
            story.append(Paragraph(_esc(note.strip()).replace("\n", "<br/>"), small))

    for entry, img in images:
        story.append(Spacer(1, 6))
        w, h = img.size
        width = image_width_mm * mm
        height = width * h / max(w, 1)
        max_h = (page[1] - 60 * mm)
        if height > max_h:
            width, height = width * max_h / height, max_h
        buf = io.BytesIO()
        img.convert("RGB").save(buf, "JPEG", quality=85)
        buf.seek(0)
        story.append(KeepTogether([Paragraph(_esc(f"Image {entry.get('id')}: {entry.get('kind', '')}"), h2),
                                   RLImage(buf, width=width, height=height)]))

    story.append(Spacer(1, 10))
    story.append(Paragraph(_esc(AUTO_DISCLAIMER if is_automated(snapshot) else DISCLAIMER), small))

    footer = demo_prefix(snapshot) + (f"{report_label(snapshot)} · {marker}" if marker else report_label(snapshot))

    def _footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(regular, 7)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(doc.leftMargin, 10 * mm, footer)
        canvas.drawRightString(page[0] - doc.rightMargin, 10 * mm, f"page {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=page, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=title, author="Dental AI Bridge",
                            subject=demo_prefix(snapshot) + report_label(snapshot), creator="Dental AI Bridge", invariant=1)
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return out.getvalue()


def _date(yyyymmdd: str) -> str:
    s = yyyymmdd or ""
    return f"{s[:4]}-{s[4:6]}-{s[6:8]}" if len(s) == 8 and s.isdigit() else (s or "not recorded")


def _us_locale() -> bool:
    # US practices print on Letter; elsewhere A4
    import locale

    try:
        loc = (locale.getlocale()[0] or "").lower()
    except ValueError:
        loc = ""
    return loc.startswith(("en_us", "english_united states", "en-us", "es_us")) or (not loc and sys.platform == "win32")


def study_images(db, snapshot: dict) -> list[dict]:
    """The snapshot's images to render: those with findings, else all of them."""
    with_findings = {f.get("image_id") for f in snapshot.get("findings") or []}
    chosen = [im for im in snapshot.get("images") or [] if im["id"] in with_findings]
    return chosen or list(snapshot.get("images") or [])


def render_study_image(db, snapshot: dict, image: dict, *, scale: float = 1.0) -> Image.Image:
    from ..review.api import image_pixels

    row = db.one("SELECT width, height FROM images WHERE id=?", (image["id"],))
    pixels = image_pixels(db, image["id"])
    findings = [f for f in snapshot.get("findings") or [] if f.get("image_id") == image["id"]]
    size = (row["width"], row["height"]) if row and row["width"] else None
    return annotated_image(pixels, findings, snapshot, original_size=size, scale=scale)
