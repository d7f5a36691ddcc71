import csv
import io
import json
import sys
from datetime import datetime, timedelta, timezone

from samples import write_dicom, write_png
from service_helpers import fast_config, home_paths
from tray_app.app import Service
from tray_app.cli import main
from tray_app.config import Config
from tray_app.retention import purge
from tray_app.review.api import ReviewAPI, SignError
from tray_app.review.clinicians import add_clinician


def test_silent_pilot_records_but_never_shows_or_signs(home, export_dir, capsys, monkeypatch):
    write_dicom(export_dir / "a.dcm", patient_id="P1")
    cfg = fast_config(export_dir)
    s = Service(cfg, home_paths())
    s.run_once()
    cfg.governance.rollout = "silent_pilot"
    api = ReviewAPI(s.db, cfg)
    (study,) = api.queue()
    assert study["findings_count"] == 0 and all(not im["findings"] for im in study["images"])
    assert s.db.one("SELECT COUNT(*) FROM findings")[0] == 2  # recorded for the pilot report
    doc = add_clinician(s.db, "Dr A", "dentist", "246813")
    try:
        api.sign(study["id"], doc, "246813")
        raise AssertionError("signed during a silent pilot")
    except SignError as exc:
        assert "silent pilot" in str(exc)
    s.db.close()
    monkeypatch.setattr(sys, "stdin", io.StringIO("246813\n"))
    assert main(["config", "set", "governance.rollout", "silent_pilot", "--as-clinician", str(doc), "--pin-stdin"]) == 0
    capsys.readouterr()
    assert main(["queue"]) == 0
    assert "silent pilot" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO("246813\n"))
    assert main(["config", "set", "governance.rollout", "bogus", "--as-clinician", str(doc), "--pin-stdin"]) == 2


def test_audit_export_by_patient_and_date(home, export_dir, tmp_path, capsys):
    write_dicom(export_dir / "a.dcm", patient_id="P1", seed=1)
    write_dicom(export_dir / "b.dcm", patient_id="P2", seed=2)
    assert main(["ingest", str(export_dir)]) == 0
    out = tmp_path / "audit.csv"
    assert main(["audit", "export", str(out), "--patient", "P1"]) == 0
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert rows and {r["event"] for r in rows} >= {"decoded", "inference"}
    assert all(r["subject"] in ("image:1", "study:1") or r["subject"].startswith("finding:") for r in rows)
    today = datetime.now(timezone.utc).date()
    assert main(["audit", "export", str(tmp_path / "a.json"), "--from", str(today + timedelta(days=1))]) == 0
    assert json.loads((tmp_path / "a.json").read_text())["entries"] == []
    assert main(["audit", "export", str(tmp_path / "b.json"), "--to", str(today)]) == 0
    entries = json.loads((tmp_path / "b.json").read_text())["entries"]
    assert len(entries) > 5 and entries[1]["prev_hash"] == entries[0]["hash"]


def test_retention_purges_cached_pixels_of_old_studies_unless_an_export_waits(home, export_dir):
    write_png(export_dir / "A1_Doe_Jo_20261128_1.png", seed=1)
    write_png(export_dir / "B2_Roe_Al_20261128_1.png", seed=2)
    write_png(export_dir / "C3_Poe_Ed_20261128_1.png", seed=3)
    s = Service(Config(sources=fast_config(export_dir).sources), home_paths())
    s.run_once()
    s.db.conn().execute("UPDATE studies SET status='exported' WHERE patient_id='A1'")
    # C3 was signed, but its export still fails: it keeps its pixels until that is resolved
    s.db.conn().execute("INSERT INTO outbox(study_id, destination, state, created_at, updated_at) "
                        "SELECT id, 'folder', 'failed', '2026-01-01', '2026-01-01' FROM studies WHERE patient_id='C3'")
    paths = home_paths()
    future = datetime.now(timezone.utc) + timedelta(days=31)
    assert purge(s.db, paths.cache_dir, 30, dry_run=True, now=future)["images"] == 2
    result = purge(s.db, paths.cache_dir, 30, now=future)
    assert result["images"] == 2
    kept = s.db.query("SELECT i.cache_path, st.patient_id FROM images i JOIN studies st ON st.id=i.study_id")
    by_patient = {r["patient_id"]: r["cache_path"] for r in kept}
    assert by_patient["A1"] == "" and by_patient["B2"] == "" and by_patient["C3"]
    assert len(list((paths.cache_dir / "images").glob("*.npy"))) == 1
    assert purge(s.db, paths.cache_dir, 30)["images"] == 0  # nothing is old enough today
    s.db.close()


def test_retention_purges_the_dicom_inbox_copies_of_studies_never_exported(home):
    from tray_app.sources.dicom_scp import inbox_dir

    paths = home_paths().ensure()
    inbox = inbox_dir(paths.data_dir)
    inbox.mkdir(parents=True)
    write_dicom(inbox / "a.dcm", seed=1, patient_id="A1", study_uid="1.2.9.1")  # exported
    write_dicom(inbox / "b.dcm", seed=2, patient_id="B2", study_uid="1.2.9.2")  # silent pilot / never signed
    write_dicom(inbox / "c.dcm", seed=3, patient_id="C3", study_uid="1.2.9.3")  # its export still waits
    (inbox / "bad.dcm").write_bytes(b"not a dicom file")  # quarantined
    (inbox / "...").write_bytes(b"DICM")  # a name intake never reads
    s = Service(Config(sources=fast_config(inbox).sources), paths)
    s.run_once()
    assert s.db.one("SELECT COUNT(*) FROM images WHERE state='quarantined'")[0] == 1
    s.db.conn().execute("UPDATE studies SET status='exported' WHERE patient_id='A1'")
    s.db.conn().execute("INSERT INTO outbox(study_id, destination, state, created_at, updated_at) "
                        "SELECT id, 'folder', 'needs_attention', '2026-01-01', '2026-01-01' FROM studies "
                        "WHERE patient_id='C3'")
    future = datetime.now(timezone.utc) + timedelta(days=31)
    result = purge(s.db, paths.cache_dir, 30, inbox_dir=inbox, now=future)
    assert result["inbox_files"] == 4
    assert sorted(p.name for p in inbox.iterdir()) == ["c.dcm"]
    (entry,) = s.db.query("SELECT data FROM audit WHERE event='retention_purge'")
    data = json.loads(entry["data"])
    assert data["inbox_files"] == 4 and data["studies_by_status"] == {"exported": 1, "new": 1}
    s.db.close()


def test_pilot_report_from_reviews_and_chart_csv(home, export_dir, tmp_path, capsys):
    write_dicom(export_dir / "a.dcm", patient_id="P1", teeth=[14, 15, 16, 44, 45, 46])
    cfg = fast_config(export_dir)
    s = Service(cfg, home_paths())
    s.run_once()
    api = ReviewAPI(s.db, cfg)
    (study,) = api.queue()
    caries, resto = sorted(study["images"][0]["findings"], key=lambda f: f["label"])
    api.accept(caries["id"])
    api.reject(resto["id"])
    api.add(study["images"][0]["id"], "calculus", (1, 1, 5, 5))
    s.db.close()
    assert main(["pilot", "report", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["labels"]["caries"]["tp"] == 1 and r["labels"]["restoration"]["fp"] == 1
    assert r["labels"]["calculus"]["fn"] == 1 and r["total"]["sensitivity"] == 0.5 and r["total"]["ppv"] == 0.5
    # the stub model's boxes are not on detected teeth, so compare a chart CSV on placed findings only
    chart = tmp_path / "chart.csv"
    chart.write_text("patient_id,tooth,label\nP1,#30,caries\n", encoding="utf-8")
    assert main(["pilot", "report", "--chart", str(chart)]) == 0
    text = capsys.readouterr().out
    assert "caries" in text and "could not be compared" in text
    chart.write_text("who,what\n", encoding="utf-8")
    assert main(["pilot", "report", "--chart", str(chart)]) == 2


def test_logs_carry_no_patient_identifiers_and_data_is_private(home, export_dir):
    import os
    import stat

    write_dicom(export_dir / "x.dcm", patient_id="CHART4242")  # PatientName Doe^Jane, born 19800101
    write_png(export_dir / "C9191_Smithson_Anna_20261128_1.png", seed=3)
    (export_dir / "broken.dcm").write_bytes(b"junk")
    assert main(["config", "add-source", str(export_dir)]) == 0
    assert main(["ingest", str(export_dir)]) == 2
    s = Service(Config.load(home_paths().config_file), home_paths())
    s.run_once()
    s.db.close()
    text = "".join(p.read_text(errors="replace") for p in home_paths().log_dir.glob("*.log*"))
    assert text  # something was logged
    for secret in ("CHART4242", "Doe", "Jane", "19800101", "C9191", "Smithson", "Anna"):
        assert secret not in text, secret
    if os.name == "posix":
        for d in (home_paths().data_dir, home_paths().cache_dir, home_paths().log_dir):
            assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    cache_names = [p.name for p in (home_paths().cache_dir / "images").iterdir()]
    assert cache_names and all(n.split(".")[0].isdigit() for n in cache_names)


def test_model_in_use_is_audited_once_per_change(home, export_dir):
    s = Service(fast_config(export_dir), home_paths())
    s.load_model()
    s.load_model()
    rows = s.db.query("SELECT data FROM audit WHERE event='model_in_use'")
    assert len(rows) == 1 and json.loads(rows[0][0])["name"] == "stub-model"
    s.db.close()
