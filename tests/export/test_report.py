"""The typed report (issue 17): one `Report` built once for sign-off and automation, read by
every exporter; every stored snapshot still loads, and the stored text — so the report's
sha256 — is byte for byte what it always was."""

from __future__ import annotations

import json

from tray_app.export.render import label_style, signed_line
from tray_app.review.report import build, demo_line, demonstration_models
from tray_app.store import reports
from tray_app.store.reports import Report

# a snapshot as the first signing code wrote it (before demonstration_models/label_styles were recorded)
OLD = {"label": "AI-Assisted Preliminary Findings", "study_id": 3,
       "patient": {"id": "1001", "id_kind": "patnum", "name": "Doe^Jane^Q", "birth_date": "19800101"},
       "study_uid": "1.2.3", "set": {"text": "2BW: 2 of 2", "complete": True}, "tags": ["bitewing"],
       "images": [{"id": 7, "kind": "bitewing", "sha256": "ab"}],
       "findings": [{"id": 1, "image_id": 7, "label": "caries", "x1": 1, "y1": 2, "x2": 3, "y2": 4,
                     "confidence": 0.9, "model_name": "dental-demo", "model_version": "1.0.0"}],
       "cdt": {"imaging": [], "treatment": []}, "drafts": {"chart_note": "note"},
       "models": ["dental-demo 1.0.0"], "signer": {"id": 1, "name": "Dr X", "role": "dentist"},
       "signed_at": "2026-01-02T03:04:05.000+00:00"}


def test_a_signed_report_is_stored_as_the_typed_report_writes_it(workspace):
    workspace.sign("A", destinations=())
    row = workspace.db.one("SELECT snapshot, sha256 FROM reports WHERE study_id=?", (workspace.studies["A"],))
    report = Report.from_json(row["snapshot"])
    assert report.to_json() == row["snapshot"] and reports.digest(report.to_json()) == row["sha256"]
    assert report.signer.name == "Dr X" and report.patient.id == "1001" and report.patient.last == "Doe"
    assert not report.is_automated and report.time == report.signed_at
    assert set(json.loads(row["snapshot"])) == {
        "study_id", "patient", "study_uid", "set", "tags", "images", "findings", "models", "label", "cdt",
        "drafts", "signer", "signed_at", "demonstration_models", "label_styles"}


def test_an_old_snapshot_loads_and_writes_back_to_the_same_bytes():
    text = json.dumps(OLD, sort_keys=True, ensure_ascii=False)
    report = Report.from_json(text)
    assert report.to_json() == text  # so its checksum still matches
    assert report.demonstration_models is None and demonstration_models(report) == ["dental-demo 1.0.0"]
    assert demo_line(report).startswith("DEMONSTRATION MODEL")
    assert report.patient.first == "Jane" and report.image(7)["kind"] == "bitewing"
    assert label_style("caries", report).display  # no recorded styles: the installed manifests' ones
    assert signed_line(report).startswith("AI-Assisted Preliminary Findings — signed by Dr X")
    newer = json.dumps(OLD | {"a_later_field": [1]}, sort_keys=True, ensure_ascii=False)
    assert Report.from_json(newer).to_json() == newer  # a field of a later version is kept as it is


def test_the_automated_report_is_built_by_the_same_builder(workspace):
    db, sid = workspace.db, workspace.studies["A"]
    findings = [dict(r) for r in db.query("SELECT * FROM findings WHERE study_id=?", (sid,))]
    report = build(db, sid, findings, label="AI-generated, not yet verified", cdt={}, drafts={},
                   automated={"at": "2026-01-02T03:04:05.000+00:00", "verified": False})
    stored = json.loads(report.to_json())
    assert stored["signer"] is None and stored["signed_at"] is None and "supersedes" not in stored
    assert report.is_automated and report.time == "2026-01-02T03:04:05.000+00:00"
    assert Report.from_json(report.to_json()) == report
