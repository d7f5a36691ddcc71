"""Pairing: a one-time code shown on the hub, exchanged by a client for its own token.

Codes are short (typed by a person), live PAIRING_MINUTES and work once; tokens are long and
random and live until revoked. Both are stored as SHA-256 hashes only (store/hub.py). Pairing,
revocation and every remote action are audited with the client's name.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

from ..store import audit
from ..store import hub as hub_store
from ..store.db import Database, utcnow

PAIRING_MINUTES = 10
# no 0/O, 1/I/L: read off a screen and typed on another PC
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8  # ~39 bits: guessing within the code's 10 minutes is hopeless over the network
MAX_NAME = 64


class PairingError(Exception):
    """Pairing refused, phrased for the person at the operatory PC."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _normal_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_code(db: Database, authorised_by: str = "") -> str:
    """A fresh one-time code (shown as XXXX-XXXX); `authorised_by`: the dentist or admin whose
    PIN allowed it (commands/hub.py, the tray), recorded in the audit entry."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = datetime.now(timezone.utc)
    with db.tx() as c:
        hub_store.add_code(c, _hash(raw), utcnow(), (now + timedelta(minutes=PAIRING_MINUTES)).isoformat(
            timespec="milliseconds"))
        audit.append(c, "hub_pairing_code", "hub", minutes=PAIRING_MINUTES, authorised_by=authorised_by)
    return f"{raw[:4]}-{raw[4:]}"


def clean_name(name: str) -> str:
    name = " ".join(str(name or "").split())
    if not name or len(name) > MAX_NAME or any(not ch.isprintable() for ch in name):
        raise PairingError(f"give this PC a name of 1 to {MAX_NAME} characters (for example \"Operatory 3\")")
    return name


def pair(db: Database, code: str, name: str) -> str:
    """The new client's token; raises PairingError for a wrong, used or expired code."""
    name = clean_name(name)
    token = secrets.token_urlsafe(32)
    with db.tx() as c:
        if not hub_store.use_code(c, _hash(_normal_code(code)), utcnow()):
            raise PairingError("this pairing code is wrong, already used or expired: show a new one on the hub "
                               "(dental-bridge hub pair)")
        if hub_store.active_client_named(c, name) is not None:
            raise PairingError(f"a PC named {name!r} is already paired: choose another name, or revoke it on the "
                               f"hub first (dental-bridge hub revoke)")
        hub_store.add_client(c, name, _hash(token), utcnow())
        audit.append(c, "hub_paired", f"hub_client:{name}", client=name)
    return token


def authenticate(db: Database, token: str) -> dict | None:
    """The active client holding this token, or None."""
    if not token:
        return None
    row = hub_store.client_by_token(db, _hash(token))
    # the lookup is by hash; compare again in constant time for good measure
    if row is None or not hmac.compare_digest(row["token_hash"], _hash(token)):
        return None
    return dict(row)


def clients(db: Database, *, include_revoked: bool = False) -> list[dict]:
    return [dict(r) for r in hub_store.list_clients(db, include_revoked=include_revoked)]


def revoke(db: Database, name: str, actor: str = "", authorised_by: str = "") -> bool:
    with db.tx() as c:
        done = hub_store.revoke(c, name, utcnow())
        if done:
            audit.append(c, "hub_revoked", f"hub_client:{name}", client=name, actor=actor,
                         authorised_by=authorised_by)
    return done
