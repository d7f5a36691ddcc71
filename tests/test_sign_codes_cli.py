"""`sign --confirm-codes` (issue 19 item 3): the CLI confirms treatment codes as the sign-off dialog does."""

from __future__ import annotations

import io
import json
import sys

from samples import write_dicom
from service_helpers import home_paths
from tray_app.cli import main
from tray_app.review.api import ReviewAPI
from tray_app.store.db import Database
from tray_app.store.reports import Report


def _prepared(export_dir, monkeypatch, capsys):
    write_dicom(export_dir / "a.dcm", seed=1)
    assert main(["ingest", str(export_dir)]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("246813\n"))
    assert main(["clinicians", "add", "Dr Ada", "--role", "dentist", "--pin-stdin"]) == 0
    db = Database(home_paths().database)
    caries = db.one("SELECT id FROM findings WHERE label='caries'")["id"]
    ReviewAPI(db).edit(caries, tooth_fdi=36, surfaces="MO")  # the stub model places nothing on a tooth
    capsys.readouterr()
    return db, caries


def _sign(monkeypatch, *extra) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO("246813\n"))
    return main(["sign", "1", "--clinician", "1", "--pin-stdin", "--accept", "all", "--json", *extra])


def test_confirm_codes_all_freezes_the_suggested_codes(home, export_dir, monkeypatch, capsys):
    db, caries = _prepared(export_dir, monkeypatch, capsys)
    assert _sign(monkeypatch, "--confirm-codes", "all") == 0
    assert json.loads(capsys.readouterr().out)["codes"] == {str(caries): "D2392"}
    report = Report.from_json(db.one("SELECT snapshot FROM reports WHERE study_id=1")["snapshot"])
    assert report.confirmed_codes == [{"finding_id": caries, "code": "D2392"}]


def test_confirm_codes_per_finding_and_refusals(home, export_dir, monkeypatch, capsys):
    db, caries = _prepared(export_dir, monkeypatch, capsys)
    restoration = db.one("SELECT id FROM findings WHERE label='restoration'")["id"]
    assert _sign(monkeypatch, "--confirm-codes", f"{restoration}=D2391") == 2  # existing work: no treatment code
    assert "not an accepted finding on a tooth that takes a treatment code" in capsys.readouterr().err
    assert _sign(monkeypatch, "--confirm-codes", f"{caries}=2393") == 2
    assert "not a CDT code" in capsys.readouterr().err
    assert db.one("SELECT 1 FROM reports") is None  # refused: nothing signed
    assert _sign(monkeypatch, "--confirm-codes", f"{caries}=d2393") == 0
    report = Report.from_json(db.one("SELECT snapshot FROM reports WHERE study_id=1")["snapshot"])
    assert report.confirmed_codes == [{"finding_id": caries, "code": "D2393"}]


def test_without_confirm_codes_no_code_is_frozen(home, export_dir, monkeypatch, capsys):
    db, _ = _prepared(export_dir, monkeypatch, capsys)
    assert _sign(monkeypatch) == 0
    stored = json.loads(db.one("SELECT snapshot FROM reports WHERE study_id=1")["snapshot"])
    assert "confirmed_codes" not in stored and json.loads(capsys.readouterr().out)["codes"] == {}
