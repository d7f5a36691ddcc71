"""The Grayscale Softcopy Presentation State of one report image (highdicom)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ...store.reports import Report
from ..render import colour, finding_text, models_text, nice_label
from ...review.report import demo_prefix
from .common import (MANUFACTURER, MODEL_NAME, SERIES_NUMBER, _deterministic, _version, _when,
                     character_set, creator_name, device_serial, dicom_text, fit, instance_uid, report_line,
                     series_uid)
from .source import Source, reference_dataset

log = logging.getLogger(__name__)

# -- graphics ----------------------------------------------------------------------------------
def clip_box(f: dict, columns: int, rows: int) -> tuple[float, float, float, float]:
    """A finding's box (x1, y1, x2, y2) in PIXEL units, ordered and clipped to [0, Columns]x[0, Rows]."""
    x1, x2 = sorted((float(f["x1"]), float(f["x2"])))
    y1, y2 = sorted((float(f["y1"]), float(f["y2"])))

    def cx(v: float) -> float:
        return round(min(max(v, 0.0), float(columns)), 2)

    def cy(v: float) -> float:
        return round(min(max(v, 0.0), float(rows)), 2)

    return cx(x1), cy(y1), cx(x2), cy(y2)


def _text_box(anchor_x: float, top: float, bottom: float, text: str, columns: int, rows: int,
              height: float) -> tuple[float, float, float, float] | None:
    """Where a label goes: above the box when there is room, else below, else inside; in bounds."""
    width = min(float(columns), max(height, len(text) * height * 0.6))
    if top - height - 1 >= 0:
        y = top - height - 1
    elif bottom + height + 1 <= rows:
        y = bottom + 1
    else:
        y = max(0.0, min(top, rows - height))
    x = max(0.0, min(anchor_x, columns - width))
    box = (round(x, 2), round(y, 2), round(min(float(columns), x + width), 2), round(min(float(rows), y + height), 2))
    return box if box[0] < box[2] and box[1] < box[3] else None


def _layer_name(label: str, taken: set[str]) -> str:
    base = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in (label or "finding").upper())
    base = "_".join(p for p in base.split("_") if p)
    if not base or not base[0].isalpha():
        base = "F_" + base
    base = base[:16].rstrip("_")
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base[:16 - len(str(n)) - 1].rstrip('_')}_{n}"
    taken.add(name)
    return name


def image_findings(report: Report, image_id: int) -> list[dict]:
    return report.image_findings(image_id)


def build_gsps(report: Report, image: dict, src: Source, *, report_sha256: str, instance_number: int = 1):
    """The presentation state for one image of the report (highdicom GSPS)."""
    import highdicom as hd
    from highdicom.color import CIELabColor
    from highdicom.pr import (GraphicAnnotation, GraphicGroup, GraphicLayer, GraphicObject,
                              GrayscaleSoftcopyPresentationState, SoftcopyVOILUTTransformation, TextObject)

    if not src.can_gsps:
        raise ValueError(src.problem or src.gsps_problem)
    ref = reference_dataset(src, report)
    columns, rows = int(ref.Columns), int(ref.Rows)
    when = _when(report)
    findings = image_findings(report, image["id"])
    text_h = float(max(8, min(40, round(min(rows, columns) * 0.035))))

    taken: set[str] = set()
    layers: dict[str, Any] = {}
    groups, by_layer = [], {}
    for f in findings:
        label = f.get("label", "")
        if label not in layers:
            layers[label] = GraphicLayer(_layer_name(label, taken), order=len(layers) + 1,
                                         description=fit(nice_label(label, report), 64),
                                         display_color=CIELabColor.from_rgb(*colour(label, report)))
    report_layer = GraphicLayer(_layer_name("AI_REPORT", taken), order=len(layers) + 1,
                                description="Report label", display_color=CIELabColor.from_rgb(255, 214, 0))
    texts = [report_line(report)]
    for n, f in enumerate(findings, 1):
        label = f.get("label", "")
        text = fit(finding_text(f, report), 1024)
        texts.append(text)
        group = GraphicGroup(n, fit(text, 64), description=fit(f"finding {f.get('id')}", 1024))
        groups.append(group)
        x1, y1, x2, y2 = clip_box(f, columns, rows)
        points = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]], dtype=float)
        tracking = (f"finding {f.get('id')}", instance_uid(report_sha256, image["id"], f"finding{f.get('id')}"))
        graphic = GraphicObject("POLYLINE", points, "PIXEL", tracking_id=tracking[0], tracking_uid=tracking[1],
                                graphic_group=group)
        box = _text_box(x1, y1, y2, text, columns, rows, text_h)
        label_obj = TextObject(text, "PIXEL", bounding_box=box, anchor_point=(x1, y1), anchor_point_visible=False,
                               text_justification="LEFT", tracking_id=tracking[0], tracking_uid=tracking[1],
                               graphic_group=group)
        g, t = by_layer.setdefault(label, ([], []))
        g.append(graphic)
        t.append(label_obj)
    annotations = [GraphicAnnotation([ref], layers[label], graphic_objects=g, text_objects=t)
                   for label, (g, t) in by_layer.items()]
    banner = [report_line(report), dicom_text(f"Model: {models_text(report)}")]
    banner_objs = []
    for i, line in enumerate(banner):
        box = (0.0, round(i * text_h * 1.3, 2), float(columns), round(min(float(rows), (i + 1) * text_h * 1.3), 2))
        if box[1] < box[3]:
            banner_objs.append(TextObject(fit(line, 1024), "PIXEL", bounding_box=box, text_justification="LEFT"))
    texts.append(banner[1])
    if banner_objs:
        annotations.append(GraphicAnnotation([ref], report_layer, text_objects=banner_objs))

    voi = None
    if "WindowCenter" not in ref and "VOILUTSequence" not in ref:
        center, width = auto_window(src)
        # lists: highdicom 0.28 splits a plain-string explanation into characters
        voi = [SoftcopyVOILUTTransformation(window_center=[center], window_width=[width],
                                            window_explanation=["DAB AUTO"])]
    presentation = None
    if str(ref.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        # the presentation state's LUT replaces the photometric inversion: keep the image as its modality shows it
        presentation = hd.PresentationLUTTransformation(presentation_lut_shape=hd.PresentationLUTShapeValues.INVERSE)
    creator = creator_name(report)
    texts.append(creator)
    gsps = GrayscaleSoftcopyPresentationState(
        referenced_images=[ref],
        series_instance_uid=series_uid(report_sha256, "gsps"),
        series_number=SERIES_NUMBER["gsps"],
        sop_instance_uid=instance_uid(report_sha256, image["id"], "gsps"),
        instance_number=instance_number,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MODEL_NAME,
        software_versions=_version(),
        device_serial_number=device_serial(),
        content_label="AI_UNVERIFIED" if report.is_automated else "AI_FINDINGS",
        content_description=fit(report_line(report), 64),
        graphic_annotations=annotations or None,
        graphic_layers=[*layers.values(), report_layer],
        graphic_groups=groups or None,
        content_creator_name=creator or None,
        voi_lut_transformations=voi,
        presentation_lut_transformation=presentation,
        series_description=fit(dicom_text(demo_prefix(report) + (report.label or "AI findings")), 64),
        series_date=when.date(), series_time=when.time(),  # GSPS has no Content Date: PresentationCreation*
        specific_character_set=character_set(texts, ref.get("SpecificCharacterSet")),
    )
    gsps.PresentationCreationDate = when.strftime("%Y%m%d")
    gsps.PresentationCreationTime = when.strftime("%H%M%S")
    _deterministic(gsps, when)
    return gsps


def auto_window(src: Source) -> tuple[float, float]:
    """A display window for an original without one: the 0.5–99.5 % range of its (rescaled) pixel
    values, else the full range of its stored bits."""
    from pydicom import dcmread
    from pydicom.pixels import apply_modality_lut

    ds = src.dataset
    bits = int(ds.get("BitsStored") or 8)
    slope, intercept = float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0)
    lo, hi = intercept, (2 ** bits - 1) * slope + intercept
    try:
        full = dcmread(src.path, force=True)
        values = apply_modality_lut(full.pixel_array, full).astype(np.float64)
        lo, hi = (float(v) for v in np.percentile(values, [0.5, 99.5]))
    except Exception as exc:  # a decoder missing for this transfer syntax: the stored range still shows it
        log.info("image %d: no pixel statistics for the display window (%s)", src.image_id, type(exc).__name__)
    width = max(1.0, hi - lo)
    return round(lo + width / 2, 2), round(width, 2)

