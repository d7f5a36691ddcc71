"""Issue 18: pairing, and everything the hub refuses, against a real hub process on loopback."""

from __future__ import annotations

import json

import httpx
import pytest

from tray_app.hub.client import HubClient, HubError, PinMismatch, stored_token

from .conftest import run_cli


def test_a_pairing_code_works_once_and_the_token_lands_in_the_keyring(hub, capsys):
    code = hub.pairing_code(capsys)
    with HubClient(hub.url, hub.fingerprint, token="") as op3:
        token = op3.pair(code, "Operatory 3")
        assert stored_token(hub.url) == token  # kept in the keyring, not a file
        assert op3.queue()
    with HubClient(hub.url, hub.fingerprint, token="") as op4:
        with pytest.raises(HubError) as refused:
            op4.pair(code, "Operatory 4")  # the same code again
        assert refused.value.status == 403 and "already used" in str(refused.value)
    # only the hash of the token is stored
    assert token not in json.dumps([dict(r) for r in hub.db.query("SELECT * FROM hub_clients")])
    clients = json.loads(run_cli(capsys, "hub", "clients", "--json"))["clients"]
    assert [c["name"] for c in clients] == ["Operatory 3"]
    assert [a["data"]["client"] for a in hub.audit("hub_paired")] == ["Operatory 3"]
    # a new client reads the token from the keyring
    with HubClient(hub.url, hub.fingerprint) as again:
        assert again.version()


def test_unpaired_and_revoked_clients_are_refused(hub, capsys):
    with HubClient(hub.url, hub.fingerprint, token="") as stranger:
        for call in (stranger.queue, lambda: stranger.study(1), lambda: stranger.accept(1), stranger.version):
            with pytest.raises(HubError) as refused:
                call()
            assert refused.value.status == 401
    with HubClient(hub.url, hub.fingerprint, token="made-up-token") as guesser:
        with pytest.raises(HubError) as refused:
            guesser.queue()
        assert refused.value.status == 401

    with HubClient(hub.url, hub.fingerprint, token="") as op3:
        op3.pair(hub.pairing_code(capsys), "Operatory 3")
        assert op3.queue()
        hub.run_authorised(capsys, "hub", "revoke", "Operatory 3")
        with pytest.raises(HubError) as refused:
            op3.queue()
        assert refused.value.status == 401
    assert [a["data"]["client"] for a in hub.audit("hub_revoked")] == ["Operatory 3"]


def test_a_wrong_certificate_pin_sends_nothing(hub, capsys):
    code = hub.pairing_code(capsys)
    wrong = ":".join(["AB"] * 32)
    with pytest.raises(PinMismatch):
        HubClient(hub.url, wrong, token="").pair(code, "Operatory 3")
    # the code was never sent: it still pairs the genuine hub
    with HubClient(hub.url, hub.fingerprint, token="") as op3:
        assert op3.pair(code, "Operatory 3")


def test_plain_http_is_refused(hub, capsys):
    # the client will not even try
    with pytest.raises(HubError, match="https://"):
        HubClient(f"http://127.0.0.1:{hub.port}", hub.fingerprint)
    # and the hub has no plain-HTTP listener: the request gets no HTTP answer at all
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"http://127.0.0.1:{hub.port}/api/v1/pair", json={"code": hub.pairing_code(capsys),
                                                                      "name": "Sneaky"}, timeout=5)
    assert not hub.db.query("SELECT * FROM hub_clients")


def _client_cli(hub, home, *argv):
    """`dental-bridge ARGV` as its own process in an operatory PC's home (sharing the test keyring)."""
    import subprocess
    import sys

    env = dict(hub.env, DENTAL_BRIDGE_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "tray_app", *argv], env=env, capture_output=True, text=True,
                          timeout=60)


def test_client_join_pairs_an_operatory_home_with_the_hub(hub, capsys, tmp_path):
    op5 = tmp_path / "operatory5"
    code = hub.pairing_code(capsys)
    wrong = _client_cli(hub, op5, "client", "join", hub.url, code, "--name", "Operatory 5",
                        "--fingerprint", "AB" * 32)
    assert wrong.returncode == 2 and "not the hub" in wrong.stderr
    joined = _client_cli(hub, op5, "client", "join", hub.url, code, "--name", "Operatory 5",
                         "--fingerprint", hub.fingerprint, "--json")
    assert joined.returncode == 0, joined.stderr
    waiting = len(json.loads(run_cli(capsys, "queue", "--json"))["studies"])
    status = _client_cli(hub, op5, "client", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) | {"problem": ""} == {
        "hub_url": hub.url, "fingerprint": hub.fingerprint, "paired": True, "reachable": True, "studies": waiting,
        "problem": ""}
    assert "token" not in (op5 / "config.toml").read_text()
    hub.run_authorised(capsys, "hub", "revoke", "Operatory 5")
    refused = _client_cli(hub, op5, "client", "status", "--json")
    assert refused.returncode == 1 and "not paired" in json.loads(refused.stdout)["problem"]
