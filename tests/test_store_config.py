import sqlite3

import pytest

from tray_app.store import audit
from tray_app.config import Config, ConfigError, Paths, SourceConfig
from tray_app.store import Database
from tray_app.store import images as image_repo


def test_home_override_puts_everything_under_one_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(tmp_path / "h"))
    p = Paths.resolve().ensure()
    for d in (p.config_file, p.database, p.log_dir, p.cache_dir, p.user_models_dir):
        assert str(d).startswith(str(tmp_path / "h"))
    assert p.log_dir.is_dir() and p.cache_dir.is_dir()


def test_config_roundtrip_and_validation(tmp_path):
    cfg = Config(sources=[SourceConfig(path=r"\\server\xrays", kind="polling", patient_id="patnum")])
    cfg.set_value("intake.settle_seconds", "3.5")
    cfg.set_value("analysis.threads", "2")
    f = tmp_path / "c.toml"
    cfg.save(f)
    back = Config.load(f)
    assert back.sources[0].path == r"\\server\xrays" and back.sources[0].patient_id == "patnum"
    assert back.intake.settle_seconds == 3.5 and back.analysis.threads == 2
    with pytest.raises(ConfigError, match="unknown setting"):
        cfg.set_value("intake.nope", "1")
    with pytest.raises(ConfigError, match="expects a int"):
        cfg.set_value("analysis.threads", "many")
    with pytest.raises(ConfigError, match="settle_seconds"):
        cfg.set_value("intake.settle_seconds", "0")
    assert cfg.intake.settle_seconds == 3.5  # a rejected value leaves the old one
    f.write_text('[[sources]]\npath = "x"\nkind = "sometimes"\n')
    with pytest.raises(ConfigError, match="kind must be one of"):
        Config.load(f)
    f.write_text("not = [valid")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.load(f)


def test_database_is_wal_migrated_and_states_are_checked(tmp_path):
    db = Database(tmp_path / "x.db")
    assert db.one("PRAGMA journal_mode")[0] == "wal"
    assert db.one("PRAGMA user_version")[0] >= 1
    assert db.migrate() == db.one("PRAGMA user_version")[0]  # idempotent
    with pytest.raises(sqlite3.IntegrityError):
        with db.tx() as c:
            c.execute("INSERT INTO images(path, state, discovered_at, updated_at) VALUES ('p','bogus','t','t')")


def test_discovery_is_idempotent_per_version(tmp_path):
    db = Database(tmp_path / "x.db")
    a = image_repo.discover(db, "/e/a.dcm", None, 10, 1)
    assert a is not None
    assert image_repo.discover(db, "/e/a.dcm", None, 10, 1) is None  # same version
    assert image_repo.discover(db, "/e/a.dcm", None, 20, 2) is None  # still pending: one row per path
    assert image_repo.mark_ready(db, a, 20, 2)
    assert image_repo.discover(db, "/e/a.dcm", None, 20, 2) is None  # known version
    assert image_repo.discover(db, "/e/a.dcm", None, 30, 3) is not None  # a new version later is new


def test_audit_chain_detects_tampering(tmp_path):
    db = Database(tmp_path / "x.db")
    with db.tx() as c:
        for i in range(5):
            audit.append(c, "test", f"image:{i}", n=i)
    assert audit.verify(db.conn()).ok
    with db.tx() as c:
        c.execute("UPDATE audit SET data='{\"n\":99}' WHERE seq=3")
    res = audit.verify(db.conn())
    assert not res.ok and res.first_bad_seq == 3
    with db.tx() as c:
        c.execute("DELETE FROM audit WHERE seq=3")
    res = audit.verify(db.conn())
    assert not res.ok and res.first_bad_seq == 4


def test_connections_of_ended_threads_are_closed(tmp_path):
    """Short-lived threads (a re-armed watch, a resume scan) must not each leave an open
    connection behind: the service runs for weeks."""
    import threading

    db = Database(tmp_path / "db.sqlite")
    used = []

    def work():
        c = db.conn()
        c.execute("SELECT 1").fetchone()
        used.append(c)

    for _ in range(40):
        t = threading.Thread(target=work)
        t.start()
        t.join()
    assert db.conn().execute("SELECT 1").fetchone()[0] == 1
    assert db.connection_count() <= 2
    closed = 0
    for c in used[:-1]:
        try:
            c.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            closed += 1
    assert closed == len(used) - 1
    assert db.conn() is db.conn()  # one connection per live thread, reused
    db.close()
