"""Issue 18: who may let another PC reach patient data — `hub pair` and `hub revoke` need a
dentist's or admin's PIN, and the audit names who authorised them."""

from __future__ import annotations

import io
import json
import sys

import pytest

from service_helpers import home_paths
from tray_app.cli import main
from tray_app.hub import pairing
from tray_app.review.clinicians import add_clinician
from tray_app.store.db import Database

PIN = "246813"


@pytest.fixture
def db(home):
    d = Database(home_paths().database)
    yield d
    d.close()


def _run(capsys, monkeypatch, *argv, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _audit(db, event):
    return [json.loads(r["data"]) for r in db.query("SELECT data FROM audit WHERE event=? ORDER BY seq", (event,))]


def test_pairing_and_revoking_need_a_dentists_pin(db, capsys, monkeypatch):
    dentist = add_clinician(db, "Dr Ada", "dentist", PIN)

    code, out, err = _run(capsys, monkeypatch, "hub", "pair", "--json")
    assert code == 2 and "needs a dentist's or admin's PIN" in err and not out
    code, out, err = _run(capsys, monkeypatch, "hub", "pair", "--as-clinician", str(dentist), "--pin-stdin",
                          stdin="999999\n")
    assert code == 2 and not out
    assert not db.query("SELECT * FROM hub_pairing_codes")  # refused: no code was made

    code, out, _ = _run(capsys, monkeypatch, "hub", "pair", "--json", "--as-clinician", str(dentist),
                        "--pin-stdin", stdin=PIN + "\n")
    assert code == 0
    pairing.pair(db, json.loads(out)["code"], "Operatory 3")
    assert _audit(db, "hub_pairing_code")[-1]["authorised_by"] == f"clinician:{dentist} Dr Ada"

    code, _, err = _run(capsys, monkeypatch, "hub", "revoke", "Operatory 3")
    assert code == 2 and "PIN" in err
    assert [c["name"] for c in pairing.clients(db)] == ["Operatory 3"]  # still paired
    code, _, _ = _run(capsys, monkeypatch, "hub", "revoke", "Operatory 3", "--as-clinician", str(dentist),
                      "--pin-stdin", stdin=PIN + "\n")
    assert code == 0 and pairing.clients(db) == []
    assert _audit(db, "hub_revoked")[-1]["authorised_by"] == f"clinician:{dentist} Dr Ada"
