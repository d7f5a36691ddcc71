"""DICOM objects that carry a report back to the PACS or viewer (pure builders, no network).

Per image of a report (those with findings, see `render.study_images`):

- a **Grayscale Softcopy Presentation State** (GSPS) that references the original image by its
  SOP Instance UID: one closed POLYLINE rectangle per finding and its label as a text object,
  in PIXEL units (0.0\\0.0 is the top-left corner of the top-left pixel, Columns\\Rows the
  bottom-right corner of the last one; everything is clipped to that), one graphic layer per
  finding label with the colour of the rendered image, and the report line ("AI-Assisted
  Preliminary Findings — signed by …") as a text object on top and in ContentDescription.
  Only images that came as DICOM, with a SOP Instance UID, one frame and one sample per pixel
  can get one.
- a **Secondary Capture** (RGB) of the annotated image `render.render_study_image` draws; it
  can be made for PNG/TIFF inputs too. Patient and study come from the original DICOM when
  there is one, else from the report's patient fields.

Both keep the original StudyInstanceUID, so viewers file them with the study. UIDs are
derived from (report sha256, image id, kind), and every date in them from the report's time,
so building the same report again gives the same instance byte for byte: a resend after an
unknown outcome stores the same SOP instance again (a PACS overwrites or ignores it) and
nothing is doubled.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from .render import (colour, demo_prefix, finding_text, is_automated, models_text, nice_label, report_time,
                     signed_line)

log = logging.getLogger(__name__)

MANUFACTURER = "Dental AI Bridge"
MODEL_NAME = "Dental AI Bridge"
GSPS_CLASS = "1.2.840.10008.5.1.4.1.1.11.1"  # Grayscale Softcopy Presentation State Storage
SC_CLASS = "1.2.840.10008.5.1.4.1.1.7"       # Secondary Capture Image Storage
SERIES_NUMBER = {"gsps": 9901, "sc": 9902}
UNVERIFIED_CREATOR = "AI (unverified)"
# the attributes highdicom reads from the referenced image without a default (Type 2: may be empty)
_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyID", "StudyDate",
          "StudyTime", "ReferringPhysicianName")


# -- identifiers ------------------------------------------------------------------------------
def instance_uid(report_sha256: str, image_id: int, kind: str) -> str:
    """The SOP Instance UID of one result object: the same for the same report, image and kind."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=["dental-ai-bridge", "instance", report_sha256, str(image_id), kind]))


def series_uid(report_sha256: str, kind: str) -> str:
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=["dental-ai-bridge", "series", report_sha256, kind]))


def local_study_uid(study: dict, snapshot: dict) -> str:
    """A StudyInstanceUID for a study of raster images only (it never had one): stable per study."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=["dental-ai-bridge", "study", str(snapshot.get("study_id") or study.get("id")),
                                          str(study.get("group_key") or ""), str(study.get("first_seen_at") or "")]))


# -- text -------------------------------------------------------------------------------------
_PUNCT = {"—": "-", "–": "-", "·": "-", "…": "...", "‘": "'", "’": "'", "“": '"', "”": '"', "\\": "/"}


def dicom_text(text: str) -> str:
    """Our texts for DICOM: typographic punctuation folded to ASCII (old viewers), no backslash
    (the value separator); other characters (names) are kept and decide the character set."""
    text = unicodedata.normalize("NFC", str(text or ""))
    return "".join(_PUNCT.get(ch, ch) for ch in text if ch >= " " or ch == "\n")


def fit(text: str, limit: int) -> str:
    """Cut to the VR's limit, counted in UTF-8 bytes (what strict checkers such as DCMTK count)."""
    text = dicom_text(text)
    if len(text.encode("utf-8")) <= limit:
        return text
    while text and len(text.encode("utf-8")) > limit - 3:
        text = text[:-1]
    return text.rstrip() + "..."


def person_name(name: str) -> str:
    """A display name ("Dr Jane Smith") as a DICOM PN: the whole name as the family-name part."""
    clean = dicom_text(name).replace("^", " ").replace("=", " ").strip()
    return f"{clean[:64]}^" if clean else ""


def creator_name(snapshot: dict) -> str:
    signer = snapshot.get("signer") or {}
    return person_name(signer.get("name") or "") if signer and not is_automated(snapshot) else \
        person_name(UNVERIFIED_CREATOR)


def report_line(snapshot: dict) -> str:
    """The first text of every object; a demonstration model's report says so first."""
    return dicom_text(demo_prefix(snapshot) + signed_line(snapshot))


def _when(snapshot: dict) -> datetime:
    """The report's time (local), used for every date and time in the objects: deterministic."""
    try:
        dt = datetime.fromisoformat(report_time(snapshot))
    except ValueError:
        return datetime.now().replace(microsecond=0)
    return dt.astimezone() if dt.tzinfo is not None else dt


def character_set(texts: list[str], original: Any = None) -> Any:
    """The original's SpecificCharacterSet when it can hold all our texts, else UTF-8 (ISO_IR 192)."""
    from pydicom.charset import python_encoding

    terms = [t for t in ([original] if isinstance(original, str) else list(original or [])) if t]
    if "ISO_IR 192" in terms:
        return original
    if not terms or terms == ["ISO_IR 6"]:
        ok = all(t.isascii() for t in texts)
    elif len(terms) == 1 and terms[0] in python_encoding:
        try:
            for t in texts:
                t.encode(python_encoding[terms[0]])
            ok = True
        except UnicodeEncodeError:
            ok = False
    else:  # ISO 2022 code extensions: only plain ASCII is certainly safe
        ok = all(t.isascii() for t in texts)
    if ok:
        return original or None
    return "ISO_IR 192"


# -- the original image ------------------------------------------------------------------------
@dataclass
class Source:
    """The original image of a report image: its DICOM header (no pixels) when it has one."""

    image_id: int
    dataset: Any = None            # pydicom Dataset of the original's header, or None
    problem: str = ""              # why there is no usable original DICOM ('' when there is)
    unreachable: bool = False      # the original's folder cannot be reached now (try again later)
    changed: bool = False          # a different file (or patient) lies there now: a person must look
    gsps_problem: str = ""         # why no presentation state can reference it ('' when one can)
    path: str = ""
    width: int = 0
    height: int = 0

    @property
    def can_gsps(self) -> bool:
        return self.dataset is not None and not self.gsps_problem


def read_source(db, image_id: int, *, sha256: str = "", patient: dict | None = None) -> Source:
    """Reads the original DICOM header of an image (from images.path) and checks it is still
    the file that was analysed: same SOPInstanceUID and size, and the same bytes (sha256 of the
    signed snapshot, else of the database) — and, given the signed snapshot's `patient`, that it
    names that patient. Anything else sets `changed`: identity is never taken from a file that
    could have been swapped after signing (issue 22, item 12)."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    row = db.one("SELECT path, sop_uid, width, height, meta, sha256 FROM images WHERE id=?", (image_id,))
    if row is None:
        return Source(image_id, problem=f"image {image_id} is not in the database")
    meta = json.loads(row["meta"] or "{}")
    src = Source(image_id, path=row["path"], width=int(row["width"] or 0), height=int(row["height"] or 0))
    fmt = str(meta.get("format") or "").lower()
    if fmt != "dicom":
        src.problem = f"image {image_id} came as a {fmt.upper() or 'non-DICOM'} file, not as DICOM"
        return src
    if not row["sop_uid"]:
        src.problem = f"image {image_id} has no SOP Instance UID"
        return src
    path = Path(row["path"])
    if not path.parent.is_dir():
        src.problem = f"the folder of image {image_id}'s original DICOM file cannot be reached"
        src.unreachable = True
        return src
    try:
        from ..intake.staging import open_no_follow

        with open_no_follow(path) as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
            f.seek(0)
            ds = dcmread(f, stop_before_pixels=True, force=True)  # intake reads preamble-less files too
    except FileNotFoundError:
        src.problem = f"image {image_id}'s original DICOM file is no longer in its folder"
        return src
    except PermissionError:
        src.problem = f"image {image_id}'s original DICOM file is locked by another program"
        src.unreachable = True
        return src
    except Exception as exc:  # damaged, a link now, anything a hostile file raises: not usable
        src.problem = f"image {image_id}'s original DICOM file cannot be read any more ({type(exc).__name__})"
        return src
    src.changed = True
    if str(ds.get("SOPInstanceUID", "")) != row["sop_uid"]:
        src.problem = f"the file at image {image_id}'s place is now a different DICOM instance"
        return src
    if int(ds.get("Rows") or 0) != src.height or int(ds.get("Columns") or 0) != src.width:
        src.problem = f"image {image_id}'s original DICOM file no longer has the size that was analysed"
        return src
    if digest != (sha256 or row["sha256"] or digest):
        src.problem = (f"image {image_id}'s original DICOM file was replaced after it was analysed (its content "
                       "differs), so no results were sent: check the file in the export folder")
        return src
    other = _other_patient(ds, patient or {})
    if other:
        src.problem = (f"image {image_id}'s DICOM header names a different patient than the signed report "
                       f"({other} differs), so no results were sent: check which patient the images belong to")
        return src
    src.changed = False
    src.dataset = ds
    src.gsps_problem = _gsps_problem(ds, image_id)
    return src


def _other_patient(ds, patient: dict) -> str:
    """Which identity field of the header disagrees with the signed snapshot's patient ('' if none)."""
    from ..intake.metadata import split_person_name

    def norm(v) -> str:
        return " ".join(str(v or "").upper().split())

    header_id, signed_id = norm(ds.get("PatientID")), norm(patient.get("id"))
    if header_id and signed_id and header_id != signed_id:
        return "patient ID"
    last, first = split_person_name(str(ds.get("PatientName") or ""))
    signed_last, _, signed_first = str(patient.get("name") or "").partition("^")
    if (norm(last), norm(first)) != (norm(signed_last), norm(signed_first.split("^")[0])) and (last or first) \
            and (signed_last or signed_first):
        return "patient name"
    header_birth, signed_birth = norm(ds.get("PatientBirthDate")), norm(patient.get("birth_date")).replace("-", "")
    if header_birth and signed_birth and header_birth != signed_birth:
        return "birth date"
    return ""


def _gsps_problem(ds, image_id: int) -> str:
    if int(ds.get("SamplesPerPixel") or 1) != 1:
        return f"image {image_id} is a colour image; a grayscale presentation state cannot annotate it"
    if int(ds.get("NumberOfFrames") or 1) > 1 or "PerFrameFunctionalGroupsSequence" in ds:
        return f"image {image_id} is a multi-frame image; presentation states are made for single images only"
    if not ds.get("SeriesInstanceUID") or not ds.get("SOPClassUID"):
        return f"image {image_id}'s DICOM header has no series or SOP class UID to reference"
    return ""


def reference_dataset(src: Source, snapshot: dict) -> Any:
    """A copy of the original's header that highdicom can read: missing or malformed Type 2
    patient/study attributes become empty (they are optional in the original's IOD)."""
    from pydicom.dataset import Dataset

    ds = src.dataset
    ref = Dataset()
    for elem in ds:
        if elem.tag.group >= 0x0008 and elem.tag != 0x7FE00010:
            ref.add(elem)
    for kw in _TYPE2:
        if kw not in ref or ref[kw].value is None:
            setattr(ref, kw, None)
    if str(ref.PatientSex or "") not in ("M", "F", "O"):
        ref.PatientSex = None
    for kw in ("StudyDate", "PatientBirthDate"):
        v = str(ref.get(kw) or "")
        if v and not (len(v) == 8 and v.isdigit()):
            setattr(ref, kw, None)
    t = str(ref.get("StudyTime") or "")
    if t and not t.replace(".", "").isdigit():
        ref.StudyTime = None
    if not ref.get("StudyInstanceUID"):
        ref.StudyInstanceUID = snapshot.get("study_uid") or None
    return ref


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


def image_findings(snapshot: dict, image_id: int) -> list[dict]:
    return [f for f in snapshot.get("findings") or [] if f.get("image_id") == image_id]


def build_gsps(snapshot: dict, image: dict, src: Source, *, report_sha256: str, instance_number: int = 1):
    """The presentation state for one image of the report (highdicom GSPS)."""
    import highdicom as hd
    from highdicom.color import CIELabColor
    from highdicom.pr import (GraphicAnnotation, GraphicGroup, GraphicLayer, GraphicObject,
                              GrayscaleSoftcopyPresentationState, SoftcopyVOILUTTransformation, TextObject)

    if not src.can_gsps:
        raise ValueError(src.problem or src.gsps_problem)
    ref = reference_dataset(src, snapshot)
    columns, rows = int(ref.Columns), int(ref.Rows)
    when = _when(snapshot)
    findings = image_findings(snapshot, image["id"])
    text_h = float(max(8, min(40, round(min(rows, columns) * 0.035))))

    taken: set[str] = set()
    layers: dict[str, Any] = {}
    groups, by_layer = [], {}
    for f in findings:
        label = f.get("label", "")
        if label not in layers:
            layers[label] = GraphicLayer(_layer_name(label, taken), order=len(layers) + 1,
                                         description=fit(nice_label(label, snapshot), 64),
                                         display_color=CIELabColor.from_rgb(*colour(label, snapshot)))
    report_layer = GraphicLayer(_layer_name("AI_REPORT", taken), order=len(layers) + 1,
                                description="Report label", display_color=CIELabColor.from_rgb(255, 214, 0))
    texts = [report_line(snapshot)]
    for n, f in enumerate(findings, 1):
        label = f.get("label", "")
        text = fit(finding_text(f, snapshot), 1024)
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
    banner = [report_line(snapshot), dicom_text(f"Model: {models_text(snapshot)}")]
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
    creator = creator_name(snapshot)
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
        content_label="AI_UNVERIFIED" if is_automated(snapshot) else "AI_FINDINGS",
        content_description=fit(report_line(snapshot), 64),
        graphic_annotations=annotations or None,
        graphic_layers=[*layers.values(), report_layer],
        graphic_groups=groups or None,
        content_creator_name=creator or None,
        voi_lut_transformations=voi,
        presentation_lut_transformation=presentation,
        series_description=fit(dicom_text(demo_prefix(snapshot) + (snapshot.get("label") or "AI findings")), 64),
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


def build_sc(snapshot: dict, image: dict, rendered, src: Source | None, *, report_sha256: str, study: dict,
             instance_number: int = 1):
    """The Secondary Capture (RGB) of the annotated rendering of one image."""
    from highdicom.sc import SCImage
    from pydicom.dataset import Dataset

    pixels = np.asarray(rendered.convert("RGB"), dtype=np.uint8)
    when = _when(snapshot)
    ref = reference_dataset(src, snapshot) if src is not None and src.dataset is not None else None
    if ref is not None:
        fields = dict(patient_id=ref.PatientID, patient_name=ref.PatientName or None,
                      patient_birth_date=ref.PatientBirthDate or None, patient_sex=ref.PatientSex or None,
                      accession_number=ref.AccessionNumber, study_id=ref.StudyID, study_date=ref.StudyDate or None,
                      study_time=ref.StudyTime or None, referring_physician_name=ref.ReferringPhysicianName or None)
        study_uid = str(ref.StudyInstanceUID or "") or snapshot.get("study_uid") or local_study_uid(study, snapshot)
        original_charset = ref.get("SpecificCharacterSet")
    else:
        patient = snapshot.get("patient") or {}
        last, _, first = (patient.get("name") or "").partition("^")
        name = "^".join(p for p in (dicom_text(last).strip(), dicom_text(first.split("^")[0]).strip()))
        birth = str(patient.get("birth_date") or "").replace("-", "")
        sdate = str((study or {}).get("study_date") or "")
        fields = dict(patient_id=str(patient.get("id") or ""), patient_name=name if name.strip("^") else None,
                      patient_birth_date=birth if len(birth) == 8 and birth.isdigit() else None,
                      patient_sex=None, accession_number=None, study_id=None,
                      study_date=sdate if len(sdate) == 8 and sdate.isdigit() else None, study_time=None,
                      referring_physician_name=None)
        study_uid = snapshot.get("study_uid") or local_study_uid(study or {}, snapshot)
        original_charset = None
    texts = [report_line(snapshot), str(fields["patient_name"] or ""), str(fields["patient_id"] or ""),
             creator_name(snapshot)]
    # names go in as they are after construction: highdicom refuses a PN without "^" ("Doe"), and a
    # PACS matches the patient on the exact value of the original
    names = {"PatientName": fields.pop("patient_name"),
             "ReferringPhysicianName": fields.pop("referring_physician_name")}
    sc = SCImage(
        pixel_array=pixels, photometric_interpretation="RGB", bits_allocated=8, coordinate_system="PATIENT",
        study_instance_uid=study_uid, series_instance_uid=series_uid(report_sha256, "sc"),
        series_number=SERIES_NUMBER["sc"], sop_instance_uid=instance_uid(report_sha256, image["id"], "sc"),
        instance_number=instance_number, manufacturer=MANUFACTURER,
        patient_orientation=("L", "F"),  # replaced below: highdicom needs a value, ours is the original's or empty
        manufacturer_model_name=MODEL_NAME, software_versions=_version(),
        series_description=fit(dicom_text(demo_prefix(snapshot) + (snapshot.get("label") or "AI findings")), 64),
        content_date=when.date(), content_time=when.time(), series_date=when.date(), series_time=when.time(),
        specific_character_set=character_set(texts, original_charset),
        **fields,
    )
    for kw, value in names.items():
        setattr(sc, kw, value or None)
    if ref is not None:
        sc.copy_patient_and_study_information(ref)  # the original's values exactly, as the GSPS has them
    orientation = ref.get("PatientOrientation") if ref is not None else None
    sc.PatientOrientation = orientation if orientation else None
    sc.DateOfSecondaryCapture = when.strftime("%Y%m%d")
    sc.TimeOfSecondaryCapture = when.strftime("%H%M%S")
    sc.BurnedInAnnotation = "NO"  # the burned-in text names findings and the signer, not the patient
    sc.ImageComments = fit(f"{report_line(snapshot)}. Model: {models_text(snapshot)}", 10240)
    sc.DerivationDescription = fit("Annotated copy of the original radiograph made by Dental AI Bridge: boxes and "
                                   "labels are the report's findings", 1024)
    if ref is not None:
        item = Dataset()
        item.ReferencedSOPClassUID = ref.SOPClassUID
        item.ReferencedSOPInstanceUID = ref.SOPInstanceUID
        sc.SourceImageSequence = [item]
    _deterministic(sc, when)
    return sc


def _deterministic(ds, when: datetime) -> None:
    """highdicom stamps creation times with "now"; ours are the report's, so a rebuild is identical."""
    ds.InstanceCreationDate = when.strftime("%Y%m%d")
    ds.InstanceCreationTime = when.strftime("%H%M%S")
    for item in ds.get("ContributingEquipmentSequence") or []:
        if "ContributionDateTime" in item:
            item.ContributionDateTime = when.strftime("%Y%m%d%H%M%S")


def device_serial() -> str:
    """Enhanced General Equipment wants a serial number: one per computer, without its name."""
    import hashlib
    import socket

    return "DAB-" + hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:10].upper()


def _version() -> str:
    from .. import __version__

    return str(__version__)


def encode(ds) -> bytes:
    """The object as a DICOM file (PS3.10), e.g. to keep a copy or read it back."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()
