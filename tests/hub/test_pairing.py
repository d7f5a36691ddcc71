"""Issue 18: pairing codes and tokens in the store (the rules, without a server)."""

from __future__ import annotations

import pytest

from tray_app.hub import pairing
from tray_app.store.db import Database


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "db.sqlite3")
    yield d
    d.close()


def test_an_expired_code_is_refused(db, monkeypatch):
    monkeypatch.setattr(pairing, "PAIRING_MINUTES", -1)
    code = pairing.new_code(db)
    with pytest.raises(pairing.PairingError, match="expired"):
        pairing.pair(db, code, "Operatory 1")


def test_a_code_is_typed_loosely_but_stored_hashed(db):
    code = pairing.new_code(db)
    assert code not in str([dict(r) for r in db.query("SELECT * FROM hub_pairing_codes")])
    token = pairing.pair(db, code.lower().replace("-", " "), "  Operatory   1 ")
    assert pairing.authenticate(db, token)["name"] == "Operatory 1"
    assert pairing.authenticate(db, token + "x") is None and pairing.authenticate(db, "") is None


def test_one_active_client_per_name_and_a_revoked_name_pairs_again(db):
    first = pairing.pair(db, pairing.new_code(db), "Operatory 1")
    with pytest.raises(pairing.PairingError, match="already paired"):
        pairing.pair(db, pairing.new_code(db), "Operatory 1")
    assert pairing.revoke(db, "Operatory 1") and not pairing.revoke(db, "Operatory 1")
    assert pairing.authenticate(db, first) is None
    second = pairing.pair(db, pairing.new_code(db), "Operatory 1")
    assert pairing.authenticate(db, second)["name"] == "Operatory 1"
    with pytest.raises(pairing.PairingError, match="name"):
        pairing.pair(db, pairing.new_code(db), "")
