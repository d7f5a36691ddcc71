import json
import os
import signal
import subprocess
import sys
import time

import pytest

from samples import write_dicom, write_png
from service_helpers import home_paths, wait_for, wait_started
from tray_app.cli import main


def test_ingest_json_and_queue_json(home, export_dir, capsys):
    write_png(export_dir / "A1_Doe_Jo_20261128_1.png", seed=1)
    write_png(export_dir / "c copy.png", seed=1)
    write_dicom(export_dir / "b.dcm", seed=2)
    (export_dir / "junk.dcm").write_bytes(b"junk" * 100)
    assert main(["ingest", str(export_dir), "--json"]) == 2  # something was quarantined
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    by_name = {os.path.basename(l["path"]): l for l in lines}
    lines = [by_name[n] for n in ("A1_Doe_Jo_20261128_1.png", "c copy.png", "b.dcm", "junk.dcm")]
    assert [l["status"] for l in lines] == ["analyzed", "duplicate", "analyzed", "quarantined"]
    assert set(lines[0]) == {"path", "status", "reason", "study_id", "image_id", "findings", "duplicate_of"}
    assert lines[0]["findings"] == 2 and lines[1]["duplicate_of"] == lines[0]["image_id"]
    assert lines[3]["reason"] == "not a DICOM or image file"

    assert main(["ingest", str(export_dir / "b.dcm"), "--json"]) == 0  # again: reported, not redone
    again = json.loads(capsys.readouterr().out)
    assert again["status"] == "analyzed" and again["image_id"] == lines[2]["image_id"]

    assert main(["queue", "--json"]) == 0
    q = json.loads(capsys.readouterr().out)
    assert len(q["studies"]) == 2
    s = next(s for s in q["studies"] if s["patient"]["id"] == "A1")
    assert s["patient"]["name"] == "Doe^Jo" and s["image_count"] == 1 and s["findings_count"] == 2
    f = s["images"][0]["findings"][0]
    assert f["label"] == "caries" and f["confidence"] == 0.9 and len(f["box"]) == 4 and f["model"] == "stub-model 1.0.0"

    assert main(["queue"]) == 0
    assert "Doe, Jo" in capsys.readouterr().out
    assert main(["audit", "verify"]) == 0


def test_config_commands(home, export_dir, capsys):
    assert main(["config", "add-source", str(export_dir), "--patient-id", "patnum",
                 "--template", "{patnum}_{date:%Y%m%d}_{seq}"]) == 0
    assert main(["config", "set", "intake.settle_seconds", "3"]) == 0
    assert main(["config", "set", "intake.bogus", "3"]) == 2
    assert main(["config", "add-source", str(export_dir)]) == 2  # already there
    capsys.readouterr()
    assert main(["config", "show", "--json"]) == 0
    cfg = json.loads(capsys.readouterr().out)["config"]
    assert cfg["sources"][0]["patient_id"] == "patnum" and cfg["intake"]["settle_seconds"] == 3.0
    assert main(["config", "remove-source", str(export_dir)]) == 0


def test_models_list_and_check(home, capsys):
    assert main(["models", "check", "--json"]) in (0, 1)
    rows = json.loads(capsys.readouterr().out)["models"]
    stub = next(r for r in rows if r.get("name") == "stub-model")
    assert stub["ok"] and stub["origin"] == "user" and stub["selected"] and stub["check"].startswith("ok")


def test_run_headless_stops_cleanly_on_sigterm(home, export_dir):
    assert main(["config", "add-source", str(export_dir)]) == 0
    env = dict(os.environ, DENTAL_BRIDGE_HOME=str(home))
    env.pop("DISPLAY", None)
    proc = subprocess.Popen([sys.executable, "-m", "tray_app", "run"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        write_png(export_dir / "x.png")
        from tray_app.store import Database

        db = Database(home_paths().database)
        wait_for(lambda: db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 1, 60,
                 message="the headless service to analyse a file")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert b"No display found: running headless" in err


def test_import_contract_keeps_qt_out_of_the_core():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lint = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    res = subprocess.run([lint], cwd=root, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_review_screenshot_renders_the_window(home, export_dir, tmp_path):
    import numpy as np
    from PIL import Image

    write_png(export_dir / "A1_Doe_Jo_20261128_1.png", seed=1)
    assert main(["ingest", str(export_dir)]) == 0
    out = tmp_path / "shot.png"
    env = dict(os.environ, DENTAL_BRIDGE_HOME=str(home))
    res = subprocess.run([sys.executable, "-m", "tray_app", "review", "--study", "1", "--screenshot", str(out),
                          "--size", "1366x768"], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    with Image.open(out) as im:
        assert im.size == (1366, 768)
        assert len(np.unique(np.asarray(im.convert("L").resize((64, 36))))) > 20  # a real, non-blank render


def test_a_running_service_picks_up_config_changes_and_survives_a_broken_file(home, export_dir):
    """`config add-source` while `run --headless` runs: the new folder is watched without a
    restart by hand; a settings file broken by hand keeps the previous settings in force."""
    env = dict(os.environ, DENTAL_BRIDGE_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "tray_app", "run", "--headless"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        paths = home_paths()
        log_file = paths.log_dir / "dental-bridge.log"
        wait_started(log_file, 0, proc)
        assert main(["config", "add-source", str(export_dir)]) == 0
        from tray_app.store import Database

        db = Database(paths.database)
        analysed = lambda n: db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == n  # noqa: E731
        write_png(export_dir / "after-add.png", seed=1)
        wait_for(lambda: analysed(1), 60, message="the folder added while running to be watched")

        good = paths.config_file.read_text()
        paths.config_file.write_text(good + "\n[intake\n", encoding="utf-8")
        wait_for(lambda: "the previous settings stay in force" in log_file.read_text(), 30,
                 message="the broken file to be reported")
        write_png(export_dir / "while-broken.png", seed=2)
        wait_for(lambda: analysed(2), 60, message="the previous settings to keep working")
        db.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_headless_keeps_a_service_when_changed_settings_cannot_start_one(home, tmp_path):
    import threading

    from tray_app.commands.run import run_service
    from tray_app.config import Config
    from tray_app.settings_file import SettingsFile

    paths = home_paths()
    config = Config()
    config.save(paths.config_file)
    running = []

    class Svc:
        def __init__(self, cfg):
            self.cfg = cfg

        def start(self):
            running.append(self)

        def stop(self):
            running.remove(self)

    def rebuild(cfg):
        if cfg.sources:
            raise OSError("the DICOM port is taken")
        return Svc(cfg)

    settings = SettingsFile(paths.config_file, config)
    stop = threading.Event()
    t = threading.Thread(target=run_service, args=(Svc(config),),
                         kwargs=dict(once=False, stop=stop, settings=settings, rebuild=rebuild))
    t.start()
    try:
        assert main(["config", "add-source", str(tmp_path)]) == 0
        wait_for(lambda: "could not be applied" in settings.error, 10, message="the refusal")
        assert t.is_alive() and len(running) == 1 and running[0].cfg.sources == []
    finally:
        stop.set()
        t.join(10)
    assert running == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_windowed_app_stops_cleanly_on_ctrl_c_and_sigterm(home, export_dir, sig):
    """Qt's event loop keeps Python from seeing signals: Ctrl-C in the terminal that started
    `dental-bridge demo` did nothing, and SIGTERM ended the app without stopping the service."""
    assert main(["config", "add-source", str(export_dir)]) == 0
    env = dict(os.environ, DENTAL_BRIDGE_HOME=str(home), DISPLAY=":0", QT_QPA_PLATFORM="offscreen",
               PYSTRAY_BACKEND="dummy")
    log_file = home_paths().log_dir / "dental-bridge.log"
    proc = subprocess.Popen([sys.executable, "-m", "tray_app", "run"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_started(log_file, 0, proc)
        wait_for(lambda: "tray icon shown" in log_file.read_text(), 30, message="the tray icon")
        proc.send_signal(sig)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    text = log_file.read_text()
    assert f"signal {signal.Signals(sig).name}: quitting" in text and "service stopped" in text
