"""A real hub: `dental-bridge run --headless` with `[hub] enabled` on loopback, in a temp home
holding one analysed DICOM study (patient "Doe^Jane") and a dentist (Dr Ada, PIN 246813)."""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass

import pytest

from file_keyring import share_with_subprocess
from samples import write_dicom
from service_helpers import fast_config, home_paths, starts_logged, wait_started
from tray_app.config import Paths
from tray_app.settings.hub import HubConfig
from tray_app.store.db import Database

PIN = "246813"
PATIENT_WORDS = ("Doe", "Jane")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(capsys, *argv) -> str:
    """Run a `dental-bridge` command in this process (against DENTAL_BRIDGE_HOME); its stdout."""
    from tray_app.cli import main

    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr().out
    assert code == 0, out
    return out


@dataclass
class Hub:
    url: str
    port: int
    fingerprint: str
    paths: Paths
    db: Database
    proc: subprocess.Popen
    dentist: int
    env: dict

    def pairing_code(self, capsys) -> str:
        return json.loads(self.run_authorised(capsys, "hub", "pair", "--json"))["code"]

    def run_authorised(self, capsys, *argv) -> str:
        """A command Dr Ada authorises with her PIN (hub pair, hub revoke)."""
        stdin, sys.stdin = sys.stdin, io.StringIO(PIN + "\n")
        try:
            return run_cli(capsys, *argv, "--as-clinician", str(self.dentist), "--pin-stdin")
        finally:
            sys.stdin = stdin

    def log_text(self) -> str:
        return (self.paths.log_dir / "dental-bridge.log").read_text(errors="replace")

    def kill(self) -> None:
        """kill -9 the hub mid-session."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def restart(self) -> None:
        """Start the hub again on the same home."""
        self.proc = _start(self.paths, self.env)

    def audit(self, event: str) -> list[dict]:
        return [dict(r) | {"data": json.loads(r["data"])}
                for r in self.db.query("SELECT * FROM audit WHERE event=? ORDER BY seq", (event,))]


def _start(paths: Paths, env: dict) -> subprocess.Popen:
    log_file = paths.log_dir / "dental-bridge.log"
    before = starts_logged(log_file)
    proc = subprocess.Popen([sys.executable, "-m", "tray_app", "run", "--headless"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_started(log_file, before, proc)
    except BaseException:
        proc.kill()
        proc.communicate(timeout=30)
        raise
    return proc


@pytest.fixture
def hub(home, export_dir, tmp_path, monkeypatch, capsys):
    paths = home_paths()
    port = free_port()
    config = fast_config(export_dir)
    config.hub = HubConfig(enabled=True, port=port, bind_address="127.0.0.1")
    config.save(paths.config_file)
    # the test process and the hub share one keyring file (the audit key lives there; the
    # client keeps its token there too)
    env = share_with_subprocess(home, tmp_path / "keyring.json", monkeypatch)

    from tray_app.cli import main
    from tray_app.review.clinicians import add_clinician

    write_dicom(export_dir / "bw1.dcm", seed=1)
    write_dicom(export_dir / "bw2.dcm", seed=2)
    assert main(["ingest", str(export_dir)]) == 0
    db = Database(paths.database)
    dentist = add_clinician(db, "Dr Ada", "dentist", PIN)
    status = json.loads(run_cli(capsys, "hub", "status", "--json"))

    log_file = paths.log_dir / "dental-bridge.log"
    the_hub = Hub(f"https://127.0.0.1:{port}", port, status["fingerprint"], paths, db, _start(paths, env), dentist,
                  env)
    try:
        assert "review hub listening" in log_file.read_text(errors="replace")
        yield the_hub
    finally:
        proc = the_hub.proc  # the one running now (a test may have restarted it)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        db.close()
    stderr = err.decode(errors="replace")
    assert proc.returncode == 0, stderr[-2000:]
    # nothing that names the patient in the hub's log or its console output
    for text in (stderr, (paths.log_dir / "dental-bridge.log").read_text(errors="replace")):
        assert not any(word in text for word in PATIENT_WORDS)
