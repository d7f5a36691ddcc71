"""Clinicians, roles and PINs. PINs are stored as scrypt hashes with a per-user salt;
repeated failures lock the clinician out for a while. Every change is audited."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

from .. import audit
from ..store.db import Database, utcnow

ROLES = ("dentist", "hygienist", "assistant", "admin")
SIGNING_ROLES = ("dentist",)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)
# scrypt cost: ~50 ms per check on a front-desk PC — cheap for a person, slow for guessing
_N, _R, _P = 2**14, 8, 1


class ClinicianError(Exception):
    pass


def hash_pin(pin: str, salt: bytes) -> str:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32).hex()


def validate_pin(pin: str) -> None:
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ClinicianError("a PIN is 4 to 12 digits")


def add_clinician(db: Database, name: str, role: str, pin: str, actor: str = "") -> int:
    if role not in ROLES:
        raise ClinicianError(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise ClinicianError("a clinician needs a name")
    validate_pin(pin)
    salt = secrets.token_bytes(16)
    with db.tx() as c:
        cur = c.execute("INSERT INTO clinicians(name, role, pin_hash, pin_salt, created_at) VALUES (?,?,?,?,?)",
                        (name.strip(), role, hash_pin(pin, salt), salt.hex(), utcnow()))
        audit.append(c, "clinician_added", f"clinician:{cur.lastrowid}", role=role, by=actor)
        return cur.lastrowid


def list_clinicians(db: Database) -> list[dict]:
    return [{"id": r["id"], "name": r["name"], "role": r["role"], "can_sign": r["role"] in SIGNING_ROLES,
             "locked": bool(r["locked_until"] and r["locked_until"] > utcnow())}
            for r in db.query("SELECT * FROM clinicians WHERE active=1 ORDER BY name")]


def verify(db: Database, clinician_id: int, pin: str) -> dict:
    """The clinician row when the PIN is right; raises ClinicianError otherwise (and counts it)."""
    row = db.one("SELECT * FROM clinicians WHERE id=? AND active=1", (clinician_id,))
    if row is None:
        raise ClinicianError("unknown clinician")
    now = utcnow()
    if row["locked_until"] and row["locked_until"] > now:
        raise ClinicianError(f"{row['name']} is locked out after {MAX_FAILURES} wrong PINs; try again in a few minutes")
    ok = hmac.compare_digest(hash_pin(pin, bytes.fromhex(row["pin_salt"])), row["pin_hash"])
    with db.tx() as c:
        if ok:
            c.execute("UPDATE clinicians SET failed_attempts=0, locked_until=NULL WHERE id=?", (clinician_id,))
            return dict(row)
        failures = row["failed_attempts"] + 1
        locked = None
        if failures >= MAX_FAILURES:
            locked = (datetime.now(timezone.utc) + LOCKOUT).isoformat(timespec="milliseconds")
            failures = 0
        c.execute("UPDATE clinicians SET failed_attempts=?, locked_until=? WHERE id=?", (failures, locked, clinician_id))
        audit.append(c, "pin_failed", f"clinician:{clinician_id}", locked=bool(locked))
    raise ClinicianError("wrong PIN" + (f"; {row['name']} is now locked out for a few minutes" if locked else ""))
