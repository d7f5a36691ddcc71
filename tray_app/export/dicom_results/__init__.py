"""DICOM objects that carry a report back to the PACS or viewer (pure builders, no network).

Per image of a report (those with findings, see `Report.images_to_render`):

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

from .common import (GSPS_CLASS, MANUFACTURER, MODEL_NAME, SC_CLASS, SERIES_NUMBER, UNVERIFIED_CREATOR, _when,
                     character_set, creator_name, device_serial, dicom_text, encode, fit, instance_uid,
                     local_study_uid, person_name, report_line, series_uid)
from .gsps import auto_window, build_gsps, clip_box, image_findings
from .source import Source, _gsps_problem, read_source, reference_dataset
from .sc import build_sc

__all__ = ["GSPS_CLASS", "MANUFACTURER", "MODEL_NAME", "SC_CLASS", "SERIES_NUMBER", "UNVERIFIED_CREATOR", "Source",
           "_gsps_problem", "_when", "auto_window", "build_gsps", "build_sc", "character_set", "clip_box",
           "creator_name", "device_serial", "dicom_text", "encode", "fit", "image_findings", "instance_uid",
           "local_study_uid", "person_name", "read_source", "reference_dataset", "report_line", "series_uid"]
