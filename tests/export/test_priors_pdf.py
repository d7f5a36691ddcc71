"""The patient PDF's comparison page (issue 20): before and after pictures with the measured
change, naming only what the signed report keeps."""

from __future__ import annotations

from tray_app.export.comparison_page import comparison_pages
from tray_app.export.pdf import report_pdf
from tray_app.store import images as image_repo
from tray_app.store import priors as priors_repo
from tray_app.store import reports
from tray_app.store.reports import Report


def _images_in(pdf: bytes) -> int:
    return pdf.count(b"/Subtype /Image")


def test_patient_pdf_shows_before_and_after_with_the_measured_change(workspace):
    ws = workspace
    ws.sign("B", destinations=("folder",))
    study = ws.studies["B"]
    report = Report.from_json(reports.signed(ws.db, study)["snapshot"])
    kept = next(f for f in report.findings if f["label"] == "caries")        # the stub places it on no tooth
    now_id, prior_id = (r["id"] for r in image_repo.of_study(ws.db, study))
    prior = dict(image_repo.get(ws.db, prior_id)) | {"study_date": "20250304", "first_seen_at": "2025-03-04T09:00:00Z"}
    changes = [{"change": "new", "label": kept["label"], "tooth_fdi": kept["tooth_fdi"], "box": [1, 1, 5, 5]},
               {"change": "new", "label": "calculus", "tooth_fdi": 18, "box": [1, 1, 5, 5]},     # not in the report
               {"change": "gone", "label": kept["label"], "tooth_fdi": 17, "box": [1, 1, 5, 5]}]
    bone = [{"tooth_fdi": 36, "surface": "M", "mm": 3.4, "prior_mm": 2.1, "delta_mm": 1.3, "pct_root": None,
             "prior_pct_root": None, "delta_pct": None, "progressing": True},
            {"tooth_fdi": 37, "surface": "D", "mm": 1.4, "prior_mm": 1.3, "delta_mm": 0.1, "pct_root": None,
             "prior_pct_root": None, "delta_pct": None, "progressing": False}]
    priors_repo.save(ws.db, now_id, study, prior, view="PA", registered=True, matrix=[[1, 0, 0], [0, 1, 0]],
                     changes=changes, bone=bone)
    (page,) = comparison_pages(ws.db, study, report)
    assert page["date"] == "2025-03-04" and page["before"].size[0] == page["after"].size[0]
    assert len(page["lines"]) == 2
    assert page["lines"][0] == "One of your teeth: a possible cavity — new since your earlier X-ray."
    assert page["lines"][1] == "Tooth #19: the bone around it is 1.3 mm lower than on your earlier X-ray."
    plain = report_pdf(report, [], patient_friendly=True)
    with_page = report_pdf(report, [], patient_friendly=True, comparisons=[page])
    assert _images_in(with_page) == _images_in(plain) + 2


def test_no_page_when_the_comparison_names_nothing_the_patient_should_read(workspace):
    ws = workspace
    ws.sign("B", destinations=("folder",))
    study = ws.studies["B"]
    report = Report.from_json(reports.signed(ws.db, study)["snapshot"])
    now_id, prior_id = (r["id"] for r in image_repo.of_study(ws.db, study))
    priors_repo.save(ws.db, now_id, study, image_repo.get(ws.db, prior_id), registered=True,
                     matrix=[[1, 0, 0], [0, 1, 0]],
                     changes=[{"change": "new", "label": "calculus", "tooth_fdi": 18, "box": [1, 1, 5, 5]}])
    assert comparison_pages(ws.db, study, report) == []
