"""Issue 18: an operatory PC in client mode — the service builds nothing that watches, analyses
or exports; `doctor` checks the hub; the tray shows the hub's queue, from a real hub process on
loopback, and says so plainly when the hub is down."""

from __future__ import annotations

import json

import pytest

from tray_app.app import Service
from tray_app.config import Config, Paths, SourceConfig
from tray_app.hub.client import HubClient
from tray_app.settings.client import ClientConfig
from tray_app.settings.dicom import ScpConfig
from tray_app.settings.hub import HubConfig

from .conftest import free_port, run_cli

UNUSED_FP = ":".join(["AB"] * 32)


def client_config(url: str, fingerprint: str, *, watched=None) -> Config:
    config = Config(client=ClientConfig(hub_url=url, hub_fingerprint=fingerprint))
    if watched is not None:  # settings a watching PC would act on: a client must ignore them
        config.sources = [SourceConfig(path=str(watched))]
        config.dicom = ScpConfig(enabled=True, port=free_port())
        config.hub = HubConfig(enabled=True, port=free_port(), bind_address="127.0.0.1")
    return config


def test_a_client_mode_service_builds_no_watcher_model_outbox_or_receiver(tmp_path):
    watched = tmp_path / "share"
    watched.mkdir()
    paths = Paths.under(tmp_path / "home").ensure()
    service = Service(client_config("https://127.0.0.1:9", UNUSED_FP, watched=watched), paths)
    try:
        assert service.client_mode
        for part in ("watcher", "readiness", "worker", "processor", "outbox", "exporter", "scp", "hub"):
            assert getattr(service, part) is None, part
        service.start()
        service.set_paused(True)
        service.run_once()
        assert service.model is None and service.sources == []
        assert not service.db.query("SELECT * FROM sources")  # the watch folder was never registered
    finally:
        service.stop()


def test_doctor_in_client_mode_checks_the_hub(hub, capsys, home, monkeypatch):
    with HubClient(hub.url, hub.fingerprint, token="") as c:
        c.pair(hub.pairing_code(capsys), "Operatory 2")
    config = client_config(hub.url, hub.fingerprint)
    config.save(hub.paths.config_file)  # this test's home is the hub's: doctor reads [client] from it

    from tray_app.cli import main

    capsys.readouterr()
    assert main(["doctor", "--json"]) in (0, 1)
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["review hub"]["ok"], checks["review hub"]
    assert "watch folders" not in checks and "model" not in checks  # a client has neither

    client_config(hub.url, UNUSED_FP).save(hub.paths.config_file)
    main(["doctor", "--json"])
    check = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}["review hub"]
    assert not check["ok"] and "not the hub this PC was paired with" in check["message"]


@pytest.fixture
def client_shell(qtbot, tmp_path):
    from tray_app.ui.app_shell import AppShell

    shells = []

    def make(url: str, fingerprint: str):
        paths = Paths.under(tmp_path / "operatory").ensure()
        config = client_config(url, fingerprint)
        s = AppShell(None, paths, config, quit_app=lambda: None, poll_ms=0)
        s.start(start_service=False, first_run=True)
        shells.append(s)
        return s

    yield make
    for s in shells:
        s.shutdown()


def test_the_client_tray_shows_the_hubs_queue_and_urgent_studies(hub, capsys, qtbot, client_shell):
    with HubClient(hub.url, hub.fingerprint, token="") as c:
        c.pair(hub.pairing_code(capsys), "Operatory 3")
        waiting = c.queue()
    shell = client_shell(hub.url, hub.fingerprint)
    assert shell.wizard is None  # a paired client has no first run left to do
    qtbot.waitUntil(lambda: shell.state is not None, timeout=15000)
    assert shell.state.to_review == len(waiting) == 2
    assert "to review on the hub" in shell.tray.title
    items = [i.text for i in shell.tray.icon.menu.items if i is not shell.tray.pystray.Menu.SEPARATOR]
    assert "Export now" not in items and not any("watching" in t for t in items)

    with hub.db.tx() as c:  # the hub's triage flags the study urgent
        c.execute("UPDATE studies SET urgent=1")
    shell.poll()
    qtbot.waitUntil(lambda: shell.state.state == "urgent", timeout=15000)
    assert ("Urgent finding" in [t for t, _ in shell.tray.notifications])
    assert "Doe" not in shell.tray.title


def test_the_client_tray_says_the_hub_is_not_reachable(qtbot, client_shell):
    shell = client_shell(f"https://127.0.0.1:{free_port()}", UNUSED_FP)
    qtbot.waitUntil(lambda: shell.state is not None, timeout=15000)
    assert shell.state.state == "waiting_for_share"
    assert shell.tray.title.startswith("Dental AI Bridge — Hub not reachable — ")
