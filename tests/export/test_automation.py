"""Targeted automation (rollout phase 3): low-risk, confident findings exported unsigned,
marked "AI-generated, not yet verified", listed for review, superseded by the signature."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tray_app import automation
from tray_app.store import audit
from tray_app.config import Config, ConfigError, GovernanceConfig
from tray_app.export.outbox import Outbox
from tray_app.settings.export import ExportConfig, FolderConfig
from tray_app.review.report import automated_record

LATER = datetime.now(timezone.utc) + timedelta(hours=1)


def gov(**kw) -> GovernanceConfig:
    return GovernanceConfig(**{"rollout": "targeted_automation", "auto_labels": ["restoration"],
                               "auto_min_confidence": 0.5, **kw})


def folder(path) -> ExportConfig:
    path.mkdir(exist_ok=True)
    return ExportConfig(destinations=["folder"], folder=FolderConfig(path=str(path)))


@pytest.fixture
def workspace(workspace):
    """The shared export workspace with its images' types made certain (the stub DICOMs are
    bare 64×64 DX files; an uncertain type alone keeps a study from automation, tested below)."""
    with workspace.db.tx() as c:
        c.execute("UPDATE images SET kind_confidence=0.95")
        c.execute("UPDATE findings SET severity=0 WHERE label='restoration'")  # as the bundled manifest rates it
    return workspace


def decided(ws, key):
    return ws.db.one("SELECT * FROM automated_reports WHERE study_id=?", (ws.studies[key],))


def test_only_confident_low_risk_findings_go_out_marked_unverified(workspace, tmp_path, clock):
    ws = workspace
    results = automation.run_pass(ws.db, gov(), ["folder"], now=LATER)
    assert {r["outcome"] for r in results} == {"exported"} and len(results) == len(ws.studies)
    assert automation.run_pass(ws.db, gov(), ["folder"], now=LATER) == []  # decided once per study
    drop = tmp_path / "drop"
    done = Outbox(ws.db, folder(drop), clock=clock, automation=True).drain_once()
    assert {r["state"] for r in done} == {"done"}, [r["reason"] for r in done]

    sidecars = sorted(drop.glob("*_AI-Unverified.json"))
    assert len(sidecars) == len(ws.studies) and not list(drop.glob("*_AI-Findings*"))
    for path in sidecars:
        side = json.loads(path.read_text(encoding="utf-8"))
        assert side["label"] == "AI-generated, not yet verified" and side["verified"] is False
        assert side["signer"] is None and side["cdt"] == {"imaging": [], "treatment": []}
        assert {f["label"] for f in side["findings"]} == {"restoration"}  # the 0.9 caries never goes out
        assert all(f["confidence"] >= 0.5 and f["status"] == "proposed" for f in side["findings"])
        assert side["chart_note"].startswith("AI-generated, not yet verified")
        assert "No codes are suggested before review" in side["chart_note"]
    assert all(p.read_bytes().startswith(b"%PDF") for p in drop.glob("*_AI-Unverified.pdf"))

    # nothing was signed: every study is still waiting for a dentist, and listed as unverified
    assert ws.db.one("SELECT COUNT(*) FROM studies WHERE status='new'")[0] == len(ws.studies)
    listed = automation.unverified(ws.db)
    assert len(listed) == len(ws.studies) and all(u["export_states"] == ["done"] for u in listed)
    queue = ws.api().queue()
    assert all(s["automated"]["outcome"] == "exported" for s in queue)
    events = [e for e in audit.export_entries(ws.db.conn()) if e["event"] == "automation_exported"]
    assert len(events) == len(ws.studies) and all(e["data"]["labels"] == ["restoration"] for e in events)
    assert audit.verify(ws.db.conn()).ok


def test_signature_after_automation_verifies_and_lists_corrections(workspace, tmp_path, clock):
    ws = workspace
    automation.run_pass(ws.db, gov(), ["folder"], now=LATER)
    drop = tmp_path / "drop"
    Outbox(ws.db, folder(drop), clock=clock, automation=True).drain_once()
    sid = ws.studies["B"]
    api = ws.api(("folder",))
    sent = automated_record(ws.db, sid)["findings"]
    assert len(sent) == 2
    assert any("went to the chart automatically" in w for w in api.safety_warnings(sid))
    for fid in ws.findings("B"):
        (api.reject if fid == sent[0]["id"] else api.accept)(fid)
    preview = api.preview_export(sid)["note"]
    assert "verifies the AI-generated export" in preview and "Correction: restoration" in preview
    api.sign(sid, 1, "246813")
    report = json.loads(ws.db.one("SELECT snapshot FROM reports WHERE study_id=?", (sid,))["snapshot"])
    assert [c["id"] for c in report["supersedes"]["corrections"]] == [sent[0]["id"]]
    assert report["supersedes"]["automated_sha256"] == decided(ws, "B")["sha256"]

    [r] = Outbox(ws.db, folder(drop), clock=clock, automation=True).drain_once()
    assert r["state"] == "done"
    [signed] = drop.glob("C-77_*_AI-Findings.json")
    note = json.loads(signed.read_text(encoding="utf-8"))["chart_note"]
    assert "Correction: restoration" in note and "not confirmed" in note
    assert ws.db.one("SELECT status FROM studies WHERE id=?", (sid,))["status"] == "exported"
    assert sid not in {u["study_id"] for u in automation.unverified(ws.db)}


def test_waits_for_a_quiet_fully_analysed_study_and_never_guesses_identity(workspace):
    ws = workspace
    assert automation.run_pass(ws.db, gov(), ["folder"]) == []  # analysed seconds ago: not settled yet
    assert automation.run_pass(ws.db, gov(rollout="assistive"), ["folder"], now=LATER) == []
    a, b = ws.studies["A"], ws.studies["B"]
    with ws.db.tx() as c:
        c.execute("UPDATE images SET state='ready' WHERE id=(SELECT MIN(id) FROM images WHERE study_id=?)", (a,))
        c.execute("UPDATE images SET meta=json_set(meta, '$.patient_last', 'Other') "
                  "WHERE id=(SELECT MIN(id) FROM images WHERE study_id=?)", (b,))
    c_, d = ws.studies["C"], ws.studies["E"]
    with ws.db.tx() as c:
        c.execute("UPDATE studies SET birth_date='' WHERE id=?", (c_,))
        c.execute("UPDATE images SET kind_confidence=0.4 WHERE study_id=?", (d,))
        # a file found a moment ago, not yet read (no study): it might belong to any study
        c.execute("INSERT INTO images(path, state, discovered_at, updated_at) VALUES ('/new.dcm','discovered',?,?)",
                  (LATER.isoformat(), LATER.isoformat()))
    assert automation.run_pass(ws.db, gov(), ["folder"], now=LATER) == []
    with ws.db.tx() as c:
        c.execute("DELETE FROM images WHERE path='/new.dcm'")
    results = {r["study_id"]: r for r in automation.run_pass(ws.db, gov(), ["folder"], now=LATER)}
    assert a not in results  # an image is still being read
    assert results[b]["outcome"] == "skipped" and "different patients" in results[b]["reason"]
    assert results[c_]["outcome"] == "skipped" and "birth date" in results[c_]["reason"]
    assert results[d]["outcome"] == "skipped" and "uncertain" in results[d]["reason"]
    assert automation.run_pass(ws.db, gov(), ["folder"], now=LATER + timedelta(days=2)) == []  # too old now
    assert ws.db.one("SELECT COUNT(*) FROM outbox WHERE study_id=?", (b,))[0] == 0
    strict = automation.run_pass(ws.db, gov(auto_min_confidence=0.95), ["folder"], now=LATER)
    assert strict == []  # every other study was decided once already
    with pytest.raises(sqlite3.IntegrityError):
        with ws.db.tx() as c:
            c.execute("UPDATE automated_reports SET outcome='exported' WHERE study_id=?", (b,))


def test_nothing_qualifies_below_the_confidence_or_rated_a_diagnosis(workspace):
    ws = workspace
    with ws.db.tx() as c:  # a model whose manifest rates its restoration label severity 2 (e.g. defective)
        c.execute("UPDATE findings SET severity=2 WHERE label='restoration' AND study_id=?", (ws.studies["A"],))
    results = {r["study_id"]: r["outcome"] for r in automation.run_pass(ws.db, gov(), ["folder"], now=LATER)}
    assert results.pop(ws.studies["A"]) == "nothing" and set(results.values()) == {"exported"}
    ws2 = ws.db.query("SELECT COUNT(*) FROM outbox")[0][0]
    assert ws2 == len(ws.studies) - 1


def test_nothing_qualifies_below_the_confidence(workspace):
    results = automation.run_pass(workspace.db, gov(auto_min_confidence=0.95), ["folder"], now=LATER)
    assert results and {r["outcome"] for r in results} == {"nothing"}
    assert workspace.db.one("SELECT COUNT(*) FROM outbox")[0] == 0


def test_signed_first_supersedes_and_switching_off_cancels(workspace, tmp_path, clock):
    ws = workspace
    automation.run_pass(ws.db, gov(), ["folder"], now=LATER)
    ws.sign("A", destinations=("folder",))
    a = ws.studies["A"]
    # the signature superseded the unsent automatic row in its own transaction, and says nothing of it
    assert ws.db.one("SELECT state FROM outbox WHERE study_id=? AND report_kind='automated'", (a,))[0] == "superseded"
    report = json.loads(ws.db.one("SELECT snapshot FROM reports WHERE study_id=?", (a,))[0])
    assert "supersedes" not in report and "AI-generated export" not in report["drafts"]["chart_note"]
    drop = tmp_path / "drop"
    results = {(r["study_id"], r.get("state")) for r in
               Outbox(ws.db, folder(drop), clock=clock, automation=False).drain_once()}
    assert (a, "done") in results
    cancelled = [r for r in ws.db.query("SELECT * FROM outbox WHERE state='cancelled'")]
    assert len(cancelled) == len(ws.studies) - 1 and "turned off" in cancelled[0]["reason"]
    assert {p.name.split("_")[0] for p in drop.glob("*_AI-Unverified*")} == set()
    assert len(list(drop.glob("1001_*_AI-Findings.json"))) == 1


def test_settings_refuse_diagnoses_and_anatomy(home):
    cfg = Config()
    cfg.set_value("governance.rollout", "targeted_automation")
    cfg.set_value("governance.auto_labels", "restoration,implant")
    for bad, why in (("caries,restoration", "caries always needs"), ("tooth", "existing dental work"),
                     ("fracture", "fracture always needs"), ("calculus", "existing dental work"),
                     ("", "at least one")):
        with pytest.raises(ConfigError, match=why):
            cfg.set_value("governance.auto_labels", bad)
    with pytest.raises(ConfigError, match="between 0.5 and 1.0"):
        cfg.set_value("governance.auto_min_confidence", "0.2")
    assert cfg.governance.auto_labels == ["restoration", "implant"]


def test_cli_runs_a_pass_and_lists_unverified(home, export_dir, capsys):
    from samples import write_dicom
    from tray_app.cli import main

    write_dicom(export_dir / "a.dcm", patient_id="P1")
    assert main(["ingest", str(export_dir)]) == 0
    drop = export_dir.parent / "drop"
    drop.mkdir()
    assert main(["automation"]) == 0
    assert "targeted automation is off" in capsys.readouterr().out
    for key, value in (("governance.rollout", "targeted_automation"), ("governance.auto_labels", "restoration"),
                       ("governance.auto_min_confidence", "0.5")):
        assert main(["config", "set", key, value]) == 0
    from service_helpers import home_paths
    from tray_app.store.db import Database

    db = Database(home_paths().database)
    an_hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="milliseconds")
    db.conn().execute("UPDATE images SET updated_at=?, kind_confidence=0.95", (an_hour_ago,))
    db.conn().execute("UPDATE findings SET severity=0 WHERE label='restoration'")
    db.close()
    capsys.readouterr()
    assert main(["automation", "run"]) == 0
    assert "no export destination yet" in capsys.readouterr().out  # the decision waits for one
    for key, value in (("export.folder.path", str(drop)), ("export.destinations", "folder")):
        assert main(["config", "set", key, value]) == 0
    capsys.readouterr()
    assert main(["automation", "run", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [d["outcome"] for d in out["decided"]] == ["exported"] and out["decided"][0]["destinations"] == ["folder"]
    assert out["unverified"][0]["export_states"] == ["queued"]
    assert out["unverified"][0]["findings"][0]["label"] == "restoration"
    assert main(["automation"]) == 0
    assert "exported unverified" in capsys.readouterr().out


finding = st.fixed_dictionaries({
    "label": st.sampled_from(["caries", "restoration", "crown", "implant", "bone_loss", "tooth"]),
    "confidence": st.floats(0, 1), "source": st.sampled_from(["model", "clinician"]),
    "status": st.sampled_from(["proposed", "accepted", "rejected", "edited", "added", "withdrawn"]),
})


@settings(max_examples=300, deadline=None)
@given(st.lists(finding, max_size=30), st.lists(st.sampled_from(["restoration", "crown", "implant"]), min_size=1,
                                                 unique=True), st.floats(0.5, 1.0))
def test_selection_never_exceeds_the_configured_rule(findings, labels, conf):
    g = gov(auto_labels=labels, auto_min_confidence=conf)
    assert not g.validate()
    chosen = automation.qualifying(findings, g)
    assert all(f["label"] in labels and f["confidence"] >= conf and f["source"] == "model"
               and f["status"] == "proposed" for f in chosen)
    assert len(chosen) == sum(1 for f in findings if f["label"] in labels and f["confidence"] >= conf
                              and f["source"] == "model" and f["status"] == "proposed")


def test_migration_keeps_queued_exports_and_their_parts(tmp_path):
    from tray_app.store.db import Database, _migrations, _split_sql

    path = tmp_path / "v4.sqlite3"
    raw = sqlite3.connect(path)
    for number, sql in _migrations():
        if number <= 4:
            for statement in _split_sql(sql):
                raw.execute(statement)
            raw.execute(f"PRAGMA user_version = {number}")
    raw.execute("INSERT INTO studies(id, group_key, first_seen_at, last_image_at) VALUES (1, 'g', 'x', 'x')")
    raw.execute("INSERT INTO outbox(id, study_id, destination, state, created_at, updated_at) "
                "VALUES (7, 1, 'folder', 'sending', 't', 't')")
    raw.execute("INSERT INTO export_parts(outbox_id, part, marker, state, updated_at) VALUES (7, 'pdf', 'm', 'sending', 't')")
    raw.commit()
    raw.close()
    db = Database(path)
    assert db.one("PRAGMA user_version")[0] >= 5 and db.one("PRAGMA foreign_keys")[0] == 1
    row = db.one("SELECT * FROM outbox WHERE id=7")
    assert row["report_kind"] == "signed" and row["state"] == "sending"
    assert db.one("SELECT part FROM export_parts WHERE outbox_id=7")["part"] == "pdf"
    assert db.query("PRAGMA foreign_key_check") == []
    with pytest.raises(sqlite3.IntegrityError):  # references still enforced against the new table
        with db.tx() as c:
            c.execute("INSERT INTO export_parts(outbox_id, part, marker, updated_at) VALUES (99, 'x', 'm', 't')")
    db.close()


def test_sent_findings_left_unreviewed_are_not_claimed_as_verified(workspace, tmp_path, clock):
    ws = workspace
    automation.run_pass(ws.db, gov(), ["folder"], now=LATER)
    Outbox(ws.db, folder(tmp_path / "drop"), clock=clock, automation=True).drain_once()
    sid = ws.studies["B"]
    api = ws.api(("folder",))
    sent = {f["id"] for f in automated_record(ws.db, sid)["findings"]}
    for fid in ws.findings("B"):
        if fid not in sent:
            api.accept(fid)  # the dentist signs without looking at what went out
    api.sign(sid, 1, "246813")
    report = json.loads(ws.db.one("SELECT snapshot FROM reports WHERE study_id=?", (sid,))[0])
    assert {c["id"] for c in report["supersedes"]["corrections"]} == sent
    assert "All automatically exported findings were confirmed" not in report["drafts"]["chart_note"]
    assert report["drafts"]["chart_note"].count("was not confirmed") == len(sent)


def test_an_automatic_export_stops_writing_once_the_study_is_signed(workspace, tmp_path, clock, monkeypatch):
    from tray_app.export.folder import FolderExporter

    ws = workspace
    automation.run_pass(ws.db, gov(), ["folder"], now=LATER)
    sid = ws.studies["A"]
    real = FolderExporter.export
    signed = []

    def sign_midway(self, job):  # another process signs while this export is between two parts
        if job.row["report_kind"] == "automated" and job.study_id == sid and not signed:
            original_begin = job.begin

            def begin(name, target=""):
                if job.parts() and any(p.state == "done" for p in job.parts()) and not signed:
                    with ws.db.tx() as c:
                        c.execute("INSERT INTO reports(study_id, signed_by, signer_name, signed_at, snapshot, sha256) "
                                  "VALUES (?, 1, 'Dr X', 't', '{}', 'x')", (sid,))
                    signed.append(1)
                return original_begin(name, target)

            job.begin = begin
        return real(self, job)

    monkeypatch.setattr(FolderExporter, "export", sign_midway)
    results = Outbox(ws.db, folder(tmp_path / "drop"), clock=clock, automation=True).drain_once()
    [mine] = [r for r in results if r["study_id"] == sid]
    assert signed and mine["state"] == "superseded"
    parts = ws.db.query("SELECT p.state FROM export_parts p JOIN outbox o ON o.id=p.outbox_id WHERE o.study_id=? "
                        "AND o.report_kind='automated'", (sid,))
    assert [p[0] for p in parts].count("done") == 1 and "sending" not in [p[0] for p in parts]

