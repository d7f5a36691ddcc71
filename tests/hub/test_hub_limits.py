"""Issue 18: the hub's limits: pairing guesses, request size, a port already taken."""

from __future__ import annotations

import socket

import httpx

from tray_app.config import Config, Paths
from tray_app.hub import pairing
from tray_app.hub.client import pinned_context
from tray_app.hub.routes import API, PAIRING_FAILURES
from tray_app.settings.hub import HubConfig


def test_guessing_pairing_codes_pauses_pairing(hub, capsys):
    url = f"{hub.url}{API}/pair"
    with httpx.Client(verify=pinned_context(hub.url, hub.fingerprint)) as http:
        for _ in range(PAIRING_FAILURES):
            assert http.post(url, json={"code": "WRONG123", "name": "x"}).status_code == 403
        good = hub.pairing_code(capsys)
        assert http.post(url, json={"code": good, "name": "Operatory 1"}).status_code == 429
    assert not pairing.clients(hub.db)


def test_an_oversized_or_malformed_body_is_refused(hub):
    url = f"{hub.url}{API}/pair"
    with httpx.Client(verify=pinned_context(hub.url, hub.fingerprint)) as http:
        assert http.post(url, content=b"{" + b" " * (70 * 1024) + b"}").status_code == 400
        assert http.post(url, content=b"[1, 2]").status_code == 400


def test_a_taken_port_is_the_services_problem_not_its_end(home):
    from tray_app.app import Service

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = Config(hub=HubConfig(enabled=True, port=taken.getsockname()[1], bind_address="127.0.0.1"))
        service = Service(config, Paths.resolve())
        service.start()
        try:
            assert "review hub" in service.problem and str(config.hub.port) in service.problem
        finally:
            service.stop()
