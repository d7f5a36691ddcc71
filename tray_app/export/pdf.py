"""The findings report as PDF (reportlab, imported when a PDF is made): the signed or automated
report with its findings table, codes, chart note and annotated images, or the plain-language
patient summary. Written in reportlab's invariant mode, so a retry produces the same bytes."""

from __future__ import annotations

import io
import sys

from PIL import Image

from ..store.reports import Patient, Report
from .render import (AUTO_DISCLAIMER, DISCLAIMER, demo_line, demo_prefix, font_file, local_time, models_text,
                     nice_label, report_label, signed_line)


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


def patient_line(patient: Patient) -> tuple[str, str, str]:
    return patient.last.strip(), patient.first.strip(), _date(patient.birth_date or "")


def _esc(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def report_pdf(report: Report, images: list[tuple[dict, Image.Image]], *, study: dict | None = None,
               marker: str = "", image_width_mm: float = 170.0, patient_friendly: bool = False,
               comparisons: list[dict] | None = None) -> bytes:
    """The findings report as PDF bytes (deterministic).

    `images`: (report image entry, annotated rendering) pairs. `patient_friendly` gives the
    plain-language variant built on drafts["patient_summary"]; `comparisons`
    (export/comparison_page.py) add its before/after page.
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

    patient = report.patient
    last, first, bd = patient_line(patient)
    study = study or {}
    signer = report.signer
    story = []
    if demo_line(report):
        demo = ParagraphStyle("demo", parent=banner, textColor=colors.white, backColor=colors.HexColor("#B3261E"))
        story += [Paragraph(_esc(demo_line(report)), demo), Spacer(1, 8)]
    title = "Your X-ray results" if patient_friendly else "Radiograph findings report"
    story.append(Paragraph(_esc(title), h1))
    story.append(Paragraph(_esc(signed_line(report)), banner))
    story.append(Spacer(1, 6))

    id_kind = {"patnum": "PatNum", "chartnumber": "Chart number"}.get(patient.id_kind, "Patient id")
    info = [
        ["Patient", f"{last}, {first}".strip(", "), "Birth date", bd],
        [id_kind, str(patient.id or ""), "Study date", _date(study.get("study_date", ""))],
        ["Signed by", f"{report.signer_name} ({signer.role if signer else ''})", "Signed at",
         local_time(report.time)] if not report.is_automated else
        ["Status", "not yet verified by a dentist", "Exported at", local_time(report.time)],
        ["Model", models_text(report), "Images", str(len(report.images))],
    ]
    if not patient_friendly and (report.set or {}).get("text"):
        info.append(["Series", report.set["text"], "", ""])
    t = Table([[Paragraph(_esc(str(c)), cell if i % 2 else ParagraphStyle("k", parent=cell, fontName=bold))
                for i, c in enumerate(row)] for row in info],
              colWidths=[28 * mm, 62 * mm, 26 * mm, 58 * mm], hAlign="LEFT")
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25,
                                                                     colors.HexColor("#CCCCCC"))]))
    story.append(t)

    findings = report.findings
    if patient_friendly:
        story.append(Paragraph("What your dentist found", h2))
        text = report.drafts.get("patient_summary") or "Your dentist will talk you through the results."
        for para in text.split("\n\n"):
            story.append(Paragraph(_esc(para.replace("\n", " ")), base))
            story.append(Spacer(1, 4))
        for comp in comparisons or []:
            story.append(Paragraph(_esc(f"Compared with your X-ray of {_date(comp['date'].replace('-', ''))}"), h2))
            pics = []
            for label, img in (("Before", comp["before"]), ("Now", comp["after"])):
                buf = io.BytesIO()
                img.convert("RGB").save(buf, "JPEG", quality=85)
                buf.seek(0)
                w, h = img.size
                pics.append([Paragraph(label, base), RLImage(buf, width=82 * mm, height=82 * mm * h / max(w, 1))])
            story.append(Table([[pics[0], pics[1]]], colWidths=[86 * mm, 86 * mm], hAlign="LEFT"))
            story += [Paragraph(_esc(line), base) for line in comp["lines"]]
    else:
        story.append(Paragraph(f"Findings ({len(findings)})", h2))
        if findings:
            kinds = {im["id"]: im.get("kind", "") for im in report.images}
            rows = [["#", "Finding", "Tooth", "Surfaces", "Confidence", "Image", "Status"]]
            for i, f in enumerate(findings, 1):
                rows.append([str(i), nice_label(f.get("label", ""), report), f"#{f['tooth_universal']}" if
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
        cdt = report.cdt
        codes = [c for c in (cdt.get("imaging") or []) + (cdt.get("treatment") or [])]
        if codes:
            story.append(Paragraph("Suggested codes (dentist to confirm)", h2))
            story.append(Paragraph(_esc("; ".join(f"{c.get('code')} — {c.get('reason', '')}" for c in codes)), base))
        note = report.drafts.get("chart_note") or ""
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
    story.append(Paragraph(_esc(AUTO_DISCLAIMER if report.is_automated else DISCLAIMER), small))

    footer = demo_prefix(report) + (f"{report_label(report)} · {marker}" if marker else report_label(report))

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
                            subject=demo_prefix(report) + report_label(report), creator="Dental AI Bridge", invariant=1)
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
