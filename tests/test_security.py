"""Issue 22, who may do what: authority for clinicians and guarded settings, a wrong PIN
changes nothing, the lock-out cannot be raced, and the audit log keeps its tail."""

import io
import json
import sqlite3
import sys
import threading

import pytest

from samples import write_dicom
from service_helpers import home_paths
from tray_app import audit_seal
from tray_app.store import audit
from tray_app.cli import main
from tray_app.review import clinicians as clin
from tray_app.store import Database

DOC_PIN = "246813"


def _stdin(monkeypatch, *lines):
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{x}\n" for x in lines)))


def _names(db):
    return [r["name"] for r in db.query("SELECT name FROM clinicians WHERE active=1 ORDER BY id")]


def test_clinicians_and_guarded_settings_need_an_admin_or_dentist_pin(home, monkeypatch, capsys):
    # a brand-new install: the first dentist needs nobody's authority
    _stdin(monkeypatch, DOC_PIN)
    assert main(["clinicians", "add", "Dr Ada Lopez", "--role", "dentist", "--pin-stdin"]) == 0
    # from then on, anyone at the PC making themselves a dentist is refused ...
    _stdin(monkeypatch, "135791")
    assert main(["clinicians", "add", "Mallory", "--role", "dentist", "--pin-stdin"]) == 2
    assert "needs a dentist's or admin's PIN" in capsys.readouterr().err
    # ... also with a wrong authorising PIN (checked before anything else) ...
    _stdin(monkeypatch, "000000", "135791")
    assert main(["clinicians", "add", "Mallory", "--as-clinician", "1", "--pin-stdin"]) == 2
    assert "wrong PIN" in capsys.readouterr().err
    # ... and a copy of the real dentist's name is refused even with authority
    _stdin(monkeypatch, DOC_PIN, "135791")
    assert main(["clinicians", "add", "  dr ada   LOPEZ", "--as-clinician", "1", "--pin-stdin"]) == 2
    assert "already exists" in capsys.readouterr().err
    _stdin(monkeypatch, DOC_PIN, "1357")
    assert main(["clinicians", "add", "Hal Hygienist", "--role", "hygienist", "--as-clinician", "1",
                 "--pin-stdin"]) == 0
    # a hygienist cannot authorise, neither a role change nor a setting
    _stdin(monkeypatch, "1357")
    assert main(["clinicians", "set-role", "2", "--role", "dentist", "--as-clinician", "2", "--pin-stdin"]) == 2
    assert "only a dentist or an admin can authorise" in capsys.readouterr().err
    assert main(["config", "set", "governance.rollout", "targeted_automation"]) == 2
    assert main(["config", "set", "export.destinations", "folder"]) == 2
    _stdin(monkeypatch, "1357")
    assert main(["config", "set", "export.folder.path", "/tmp/x", "--as-clinician", "2", "--pin-stdin"]) == 2
    capsys.readouterr()
    assert main(["config", "set", "intake.settle_seconds", "3"]) == 0  # not guarded
    _stdin(monkeypatch, DOC_PIN)
    assert main(["config", "set", "governance.rollout", "targeted_automation", "--as-clinician", "1",
                 "--pin-stdin"]) == 0
    paths = home_paths()
    db = Database(paths.database)
    try:
        assert _names(db) == ["Dr Ada Lopez", "Hal Hygienist"]
        assert db.one("SELECT role FROM clinicians WHERE id=2")["role"] == "hygienist"
        entries = {(r["event"], r["subject"]): json.loads(r["data"]) for r in db.query("SELECT * FROM audit")}
        assert entries[("clinician_added", "clinician:1")]["authorised_by"].startswith("first run")
        assert entries[("clinician_added", "clinician:2")]["authorised_by"] == "clinician:1 Dr Ada Lopez"
        changed = [json.loads(r["data"]) for r in db.query("SELECT data FROM audit WHERE event='config_changed'")]
        assert [c.get("authorised_by") for c in changed] == [None, "clinician:1 Dr Ada Lopez"]
        assert audit.verify(db.conn()).ok
    finally:
        db.close()
    from tray_app.config import Config

    assert Config.load(paths.config_file).governance.rollout == "targeted_automation"


def test_first_clinician_must_be_able_to_authorise_and_the_last_one_cannot_be_demoted(tmp_path):
    db = Database(tmp_path / "x.db")
    with pytest.raises(clin.ClinicianError, match="first clinician must be a dentist or an admin"):
        clin.add_clinician(db, "Hal", "hygienist", "1357")
    admin = clin.add_clinician(db, "Office Admin", "admin", "a long passphrase")
    with pytest.raises(clin.ClinicianError, match="last dentist or admin"):
        clin.set_role(db, admin, "assistant", authority=clin.Authority(admin, "a long passphrase"))
    doc = clin.add_clinician(db, "Dr B", "dentist", DOC_PIN, authority=clin.Authority(admin, "a long passphrase"))
    clin.set_role(db, admin, "assistant", authority=clin.Authority(doc, DOC_PIN))
    assert db.one("SELECT role FROM clinicians WHERE id=?", (admin,))["role"] == "assistant"
    db.close()


def test_signing_roles_need_six_digits_and_old_short_pins_still_sign_with_a_warning(home, export_dir):
    from service_helpers import fast_config
    from tray_app.app import Service
    from tray_app.review.api import ReviewAPI

    with pytest.raises(clin.ClinicianError, match="6 to 12 digits"):
        clin.add_clinician(Database(home_paths().ensure().database), "Dr Four", "dentist", "2468")
    write_dicom(export_dir / "a.dcm", seed=1)
    s = Service(fast_config(export_dir), home_paths())
    s.run_once()
    # a dentist added by an older version with a 4-digit PIN (the old minimum)
    salt = bytes(16)
    with s.db.tx() as c:
        c.execute("INSERT INTO clinicians(name, role, pin_hash, pin_salt, created_at, pin_weak) "
                  "VALUES ('Dr Old','dentist',?,?,'2026-01-01',1)", (clin.hash_pin("2468", salt), salt.hex()))
    (row,) = clin.list_clinicians(s.db)
    assert row["pin_too_short"]
    api = ReviewAPI(s.db, s.config)
    (study,) = api.queue()
    result = api.sign(study["id"], row["id"], "2468")  # clinical work goes on after the update ...
    assert "shorter than now required" in result["warning"]
    # ... but the short PIN authorises nothing until it is changed
    with pytest.raises(clin.ClinicianError, match="change it first"):
        clin.add_clinician(s.db, "Hal", "hygienist", "1357", authority=clin.Authority(row["id"], "2468"))
    clin.set_pin(s.db, row["id"], "864213", authority=clin.Authority(row["id"], "2468"))
    assert not clin.list_clinicians(s.db)[0]["pin_too_short"]
    clin.add_clinician(s.db, "Hal", "hygienist", "1357", authority=clin.Authority(row["id"], "864213"))
    s.db.close()


def test_a_wrong_pin_changes_no_finding(home, export_dir, monkeypatch, capsys):
    write_dicom(export_dir / "a.dcm", seed=1)
    assert main(["ingest", str(export_dir)]) == 0
    _stdin(monkeypatch, DOC_PIN)
    assert main(["clinicians", "add", "Dr Ada", "--pin-stdin"]) == 0
    db = Database(home_paths().database)
    f1, f2 = [r["id"] for r in db.query("SELECT id FROM findings ORDER BY id")]
    before = db.query("SELECT id, status FROM findings ORDER BY id")
    audit_before = db.one("SELECT COUNT(*) FROM audit WHERE event LIKE 'review_%'")[0]
    _stdin(monkeypatch, "999999")
    assert main(["sign", "1", "--clinician", "1", "--pin-stdin", "--reject", str(f1), "--accept", str(f2)]) == 2
    assert "wrong PIN" in capsys.readouterr().err
    assert [tuple(r) for r in db.query("SELECT id, status FROM findings ORDER BY id")] == [tuple(r) for r in before]
    assert db.one("SELECT COUNT(*) FROM reviews")[0] == 0
    assert db.one("SELECT COUNT(*) FROM audit WHERE event LIKE 'review_%'")[0] == audit_before
    # the right PIN: actions, report and queued exports in one go
    _stdin(monkeypatch, DOC_PIN)
    assert main(["sign", "1", "--clinician", "1", "--pin-stdin", "--reject", str(f1), "--accept", str(f2)]) == 0
    assert {r["id"]: r["status"] for r in db.query("SELECT id, status FROM findings")} == {f1: "rejected",
                                                                                          f2: "accepted"}
    actors = {r["actor"] for r in db.query("SELECT actor FROM reviews")}
    assert actors == {"clinician:1"}
    db.close()


def test_actions_roll_back_when_the_signature_cannot_be_written(home, export_dir):
    from service_helpers import fast_config
    from tray_app.app import Service
    from tray_app.review.api import ReviewAPI, SignError

    write_dicom(export_dir / "a.dcm", seed=1, study_uid="1.2.3.1")
    write_dicom(export_dir / "b.dcm", seed=2, study_uid="1.2.3.2")
    s = Service(fast_config(export_dir), home_paths())
    s.run_once()
    doc = clin.add_clinician(s.db, "Dr A", "dentist", DOC_PIN)
    api = ReviewAPI(s.db, s.config)
    one, two = api.queue()
    mine = [f["id"] for im in one["images"] for f in im["findings"]]
    other = [f["id"] for im in two["images"] for f in im["findings"]]
    with pytest.raises(SignError, match="not in study"):
        api.sign(one["id"], doc, DOC_PIN, accept=[mine[0], other[0]])
    assert {r["status"] for r in s.db.query("SELECT status FROM findings")} == {"proposed"}
    assert s.db.one("SELECT COUNT(*) FROM reports")[0] == 0
    assert audit.verify(s.db.conn()).ok
    s.db.close()


def test_concurrent_guesses_are_counted_before_the_pin_is_hashed(tmp_path, monkeypatch):
    path = tmp_path / "x.db"
    db = Database(path)
    doc = clin.add_clinician(db, "Dr A", "dentist", DOC_PIN)
    hashed = []
    real = clin.hash_pin
    monkeypatch.setattr(clin, "hash_pin", lambda pin, salt: (hashed.append(pin), real(pin, salt))[1])
    start = threading.Barrier(30)
    results = []

    def attempt(pin):
        mine = Database(path)
        start.wait()
        try:
            clin.verify(mine, doc, pin)
            results.append("ok")
        except clin.ClinicianError as exc:
            results.append(str(exc))
        finally:
            mine.close()

    pins = ["000000"] * 29 + [DOC_PIN]
    threads = [threading.Thread(target=attempt, args=(p,)) for p in pins]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 30
    # at most one lock-out budget per side of the one success is ever hashed
    assert len(hashed) <= 2 * clin.MAX_FAILURES, len(hashed)
    assert sum("locked out" in r for r in results) >= 30 - 2 * clin.MAX_FAILURES
    assert clin.list_clinicians(db)[0]["locked"]
    failed = db.one("SELECT COUNT(*) FROM audit WHERE event='pin_failed'")[0]
    assert failed == sum(1 for p in hashed if p != DOC_PIN)
    db.close()


def _entries(db, n):
    with db.tx() as c:
        for i in range(n):
            audit.append(c, "test", f"image:{i}", n=i)


def test_a_removed_tail_is_noticed(tmp_path):
    db = Database(tmp_path / "x.db")
    _entries(db, 6)
    assert audit.verify(db.conn()).ok and audit.verify(db.conn()).keyed
    db.conn().execute("DELETE FROM audit WHERE seq > 4")
    res = audit.verify(db.conn())
    assert not res.ok and "last 2 entries were removed" in res.problem
    db.close()


def test_a_chain_recomputed_without_the_key_is_noticed(tmp_path):
    db = Database(tmp_path / "x.db")
    _entries(db, 4)
    # someone with a SQLite tool changes an entry and recomputes every hash the unkeyed way
    c = db.conn()
    c.execute("UPDATE audit SET data='{\"n\":99}' WHERE seq=2")
    prev = audit.GENESIS
    for seq, at, event, subject, data in c.execute("SELECT seq, at, event, subject, data FROM audit ORDER BY seq")\
            .fetchall():
        h = audit._digest(prev, at, event, subject, data)
        c.execute("UPDATE audit SET prev_hash=?, hash=? WHERE seq=?", (prev, h, seq))
        prev = h
    res = audit.verify(c)
    assert not res.ok and res.first_bad_seq == 1 and "recomputed without the key" in res.problem
    db.close()


def test_an_older_database_keeps_its_log_and_is_keyed_from_then_on(tmp_path, capsys, monkeypatch):
    path = tmp_path / "old.db"
    # an audit log written by an older version: plain sha256, no key anywhere
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE audit (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, event TEXT NOT NULL, subject TEXT "
                 "NOT NULL DEFAULT '', data TEXT NOT NULL DEFAULT '{}', prev_hash TEXT NOT NULL, hash TEXT NOT NULL)")
    prev = audit.GENESIS
    for i in range(3):
        at, data = f"2026-01-0{i + 1}T00:00:00.000+00:00", json.dumps({"n": i})
        h = audit._digest(prev, at, "old", f"image:{i}", data)
        conn.execute("INSERT INTO audit(at, event, subject, data, prev_hash, hash) VALUES (?,?,?,?,?,?)",
                     (at, "old", f"image:{i}", data, prev, h))
        prev = h
    conn.commit()
    conn.close()
    db = Database(tmp_path / "fresh.db")  # the real migrations, then the old log put in place
    db.close()
    fresh = sqlite3.connect(tmp_path / "fresh.db")
    fresh.execute("ATTACH DATABASE ? AS old", (str(path),))
    fresh.execute("INSERT INTO audit SELECT * FROM old.audit")
    fresh.commit()
    fresh.close()
    db = Database(tmp_path / "fresh.db")
    res = audit.verify(db.conn())
    assert res.ok and not res.keyed and res.entries == 3
    _entries(db, 2)  # the first new entry keys the log; the old entries stay as they were
    res = audit.verify(db.conn())
    assert res.ok and res.keyed and res.entries == 5 and res.anchor == 5
    assert audit_seal.load(tmp_path / "fresh.db").legacy == 3
    # recomputing the old part without the key breaks the link the first keyed entry holds
    c = db.conn()
    c.execute("UPDATE audit SET data='{\"n\":7}', hash=? WHERE seq=3",
              (audit._digest(*c.execute("SELECT prev_hash, at, event, subject FROM audit WHERE seq=3").fetchone(),
                             '{"n":7}'),))
    res = audit.verify(c)
    assert not res.ok and res.first_bad_seq == 4
    db.close()


def test_audit_verify_reports_a_removed_tail_and_where_the_key_is(home, capsys):
    paths = home_paths().ensure()
    db = Database(paths.database)
    _entries(db, 3)
    db.close()
    assert main(["audit", "verify"]) == 0
    assert "keyed, anchored at entry 3 in the OS keyring" in capsys.readouterr().out
    db = Database(paths.database)
    db.conn().execute("DELETE FROM audit WHERE seq=3")
    db.close()
    assert main(["audit", "verify"]) == 1
    assert "the last 1 entries were removed" in capsys.readouterr().out


def test_guarded_settings_edited_by_hand_do_not_take_effect(home, monkeypatch, capsys):
    from tray_app.config import Config
    from tray_app.settings_file import SettingsFile

    paths = home_paths().ensure()
    _stdin(monkeypatch, DOC_PIN)
    assert main(["clinicians", "add", "Dr Ada", "--pin-stdin"]) == 0
    assert main(["config", "set", "intake.settle_seconds", "3"]) == 0  # records the guarded values as they are
    running = Config.load(paths.config_file)
    watcher = SettingsFile(paths.config_file, running, paths.database)
    # someone at the PC edits config.toml: unsigned automatic export, to their own folder
    edited = Config.load(paths.config_file)
    edited.governance.rollout = "targeted_automation"
    edited.export.destinations = ["folder"]
    edited.export.folder.path = "/tmp/elsewhere"
    edited.save(paths.config_file)
    assert watcher.changed() is None and "without a dentist's or admin's PIN" in watcher.error
    capsys.readouterr()
    assert main(["queue"]) == 0  # the next command (or start) holds them back and says so
    assert "without a dentist's or admin's PIN" in capsys.readouterr().err
    from tray_app.guarded_settings import load

    config, problem = load(paths)
    assert problem and config.governance.rollout == "assistive" and config.export.destinations == []
    assert config.intake.settle_seconds == 3  # everything else in the file applies
    # the same change with the dentist's PIN goes through, also for the running app
    Config.load(paths.config_file)  # (the hand-edited file is still there)
    _stdin(monkeypatch, DOC_PIN)
    assert main(["config", "set", "export.folder.path", "/tmp/elsewhere", "--as-clinician", "1", "--pin-stdin"]) == 0
    _stdin(monkeypatch, DOC_PIN)
    assert main(["config", "set", "export.destinations", "folder", "--as-clinician", "1", "--pin-stdin"]) == 0
    config, problem = load(paths)
    assert not problem and config.export.destinations == ["folder"] and config.governance.rollout == "assistive"
    new = watcher.changed()
    assert new is not None and new.export.destinations == ["folder"] and not watcher.error
