"""Review actions, undo, roles/PINs and sign-off against a real store."""

import io
import json
import sys

import pytest

from samples import write_dicom
from service_helpers import cli_sign_all, fast_config, home_paths
from tray_app.store import audit
from tray_app.app import Service
from tray_app.review import clinicians as clin
from tray_app.review.api import ReviewAPI, ReviewError, SignError


@pytest.fixture
def reviewed(home, export_dir):
    write_dicom(export_dir / "a.dcm", seed=1, teeth=[14, 15, 16, 44, 45, 46], study_uid="1.2.3")
    write_dicom(export_dir / "b.dcm", seed=2, teeth=[24, 25, 26, 34, 35, 36], study_uid="1.2.3")
    s = Service(fast_config(export_dir), home_paths())
    s.run_once()
    api = ReviewAPI(s.db, s.config)
    yield api
    s.db.close()


def test_accept_reject_edit_add_undo(reviewed):
    api = reviewed
    (study,) = api.queue()
    f1, f2 = [f["id"] for f in study["images"][0]["findings"]]
    api.accept(f1, actor="hyg")
    api.reject(f2, actor="hyg")
    api.edit(f1, tooth_fdi=46, surfaces="mo", note="check", actor="hyg")
    new = api.add(study["images"][1]["id"], "calculus", (10, 10, 20, 30), tooth_fdi=36, actor="hyg")
    s = api.study(study["id"])
    by_id = {f["id"]: f for im in s["images"] for f in im["findings"]}
    assert s["status"] == "in_review"
    assert by_id[f1]["status"] == "edited" and by_id[f1]["tooth_universal"] == "30" and by_id[f1]["surfaces"] == "MO"
    assert by_id[f2]["status"] == "rejected" and by_id[new]["status"] == "added"
    assert api.undo(study["id"]) and new not in {f["id"] for im in api.study(study["id"])["images"] for f in im["findings"]}
    assert api.undo(study["id"])  # the edit
    f = next(f for im in api.study(study["id"])["images"] for f in im["findings"] if f["id"] == f1)
    assert f["status"] == "accepted" and f["surfaces"] != "MO"
    with pytest.raises(ReviewError, match="surfaces"):
        api.edit(f1, surfaces="XYZ")
    assert audit.verify(api.db.conn()).ok
    events = [r["event"] for r in api.db.query("SELECT event FROM audit WHERE event LIKE 'review_%'")]
    assert events.count("review_undo") == 2 and "review_add" in events


def test_roles_pins_and_lockout(reviewed):
    api = reviewed
    (study,) = api.queue()
    doc = clin.add_clinician(api.db, "Dr Ada Molar", "dentist", "246813")
    hyg = clin.add_clinician(api.db, "Hal Hygienist", "hygienist", "1357",
                             authority=clin.Authority(doc, "246813"))
    with pytest.raises(clin.ClinicianError, match="6 to 12 digits"):
        clin.add_clinician(api.db, "X", "dentist", "12", authority=clin.Authority(doc, "246813"))
    with pytest.raises(SignError, match="only a dentist can sign"):
        api.sign(study["id"], hyg, "1357")
    for _ in range(4):
        with pytest.raises(SignError, match="wrong PIN"):
            api.sign(study["id"], doc, "0000")
    with pytest.raises(SignError, match="locked out"):
        api.sign(study["id"], doc, "0000")
    with pytest.raises(SignError, match="locked out"):
        api.sign(study["id"], doc, "246813")  # even the right PIN waits out the lock
    row = api.db.one("SELECT pin_hash, pin_salt FROM clinicians WHERE id=?", (doc,))
    assert "246813" not in row["pin_hash"] and len(row["pin_salt"]) == 32


def test_sign_freezes_the_study_and_snapshot(reviewed):
    api = reviewed
    (study,) = api.queue()
    doc = clin.add_clinician(api.db, "Dr Ada Molar", "dentist", "246813")
    fids = [f["id"] for im in study["images"] for f in im["findings"]]
    api.accept(fids[0])
    preview = api.preview_export(study["id"])
    assert preview["note"].startswith("AI-Assisted Preliminary Findings") and preview["findings"] == [fids[0]]
    result = api.sign(study["id"], doc, "246813")
    assert result["findings"] == 1 and result["signed_by"] == "Dr Ada Molar"
    s = api.study(study["id"])
    assert s["status"] == "signed" and s["signed"]["by"] == "Dr Ada Molar"
    report = api.db.one("SELECT * FROM reports WHERE study_id=?", (study["id"],))
    snap = json.loads(report["snapshot"])
    assert snap["label"] == "AI-Assisted Preliminary Findings" and [f["id"] for f in snap["findings"]] == [fids[0]]
    with pytest.raises(ReviewError, match="can no longer be changed"):
        api.accept(fids[1])
    with pytest.raises(SignError):
        api.sign(study["id"], doc, "246813")
    import sqlite3

    with pytest.raises(sqlite3.DatabaseError, match="cannot be changed"):
        with api.db.tx() as c:
            c.execute("UPDATE reports SET signer_name='someone else'")
    assert api.queue() == []  # signed studies leave the review queue


def test_cli_sign(home, export_dir, monkeypatch, capsys):
    from tray_app.cli import main

    write_dicom(export_dir / "a.dcm", seed=1)
    out = cli_sign_all(export_dir, monkeypatch, capsys)
    assert out["findings"] == 2 and out["signed_by"] == "Dr Ada"
    monkeypatch.setattr(sys, "stdin", io.StringIO("246813\n"))
    assert main(["sign", "1", "--clinician", "1", "--pin-stdin"]) == 2
    assert "can no longer be changed" in capsys.readouterr().err


def test_safety_warnings_before_sign_off(home, export_dir):
    # two images of one study that name different patients, no StudyInstanceUID shared with others
    write_dicom(export_dir / "a.dcm", seed=1, study_uid="9.9.9", patient_id="P1")
    write_dicom(export_dir / "b.dcm", seed=2, study_uid="9.9.9", patient_id="P1", PatientName="Roe^Rick")
    s = Service(fast_config(export_dir), home_paths())
    s.run_once()
    api = ReviewAPI(s.db, s.config)
    (study,) = api.queue()
    warnings = api.preview_export(study["id"])["warnings"]
    assert any("different patients" in w for w in warnings)
    assert any("type uncertain" in w for w in warnings)  # IO images with nothing else to go on
    s.config.export.destinations = ["folder"]
    s.config.export.folder.path = str(export_dir)
    assert not any("Open Dental" in w for w in api.safety_warnings(study["id"]))
    s.db.close()
