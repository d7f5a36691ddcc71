"""Clinicians, roles, PINs and who may authorise a change.

PINs are stored as scrypt hashes with a per-user salt. Every attempt is counted in the
database *before* the slow hash is computed, so concurrent guesses cannot all be checked
before the lock-out lands. Dentists sign and, with admins, authorise changes to
clinicians and to the guarded settings (`review/authority.py`); their PIN is at least
6 digits (or a passphrase), because a copied database can be searched offline.

Adding, changing or deactivating a clinician needs an admin's or dentist's PIN, except
the very first dentist or admin of a new install (nobody could authorise it). Every change
is audited naming who authorised it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..store import audit
from ..store import clinicians as clinician_store
from ..store.db import Database, utcnow

ROLES = ("dentist", "hygienist", "assistant", "admin")
SIGNING_ROLES = ("dentist",)
AUTHORITY_ROLES = ("dentist", "admin")  # may authorise clinician and guarded-setting changes
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)
PIN_DIGITS = 4  # hygienists and assistants: they neither sign nor authorise
STRONG_PIN_DIGITS = 6  # dentists and admins
PASSPHRASE_CHARS = 10  # or a passphrase (letters allowed) of at least this length
MAX_SECRET = 64
# scrypt cost: ~50 ms per check on a front-desk PC — cheap for a person, slow for guessing
_N, _R, _P = 2**14, 8, 1


class ClinicianError(Exception):
    pass


@dataclass(frozen=True)
class Authority:
    """Who authorises a change: an admin's or dentist's id and PIN."""
    clinician_id: int
    pin: str

    def __repr__(self) -> str:  # never print the PIN
        return f"Authority(clinician_id={self.clinician_id})"


def hash_pin(pin: str, salt: bytes) -> str:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32).hex()


def pin_rule(role: str) -> str:
    if role in AUTHORITY_ROLES:
        return (f"a {role}'s PIN is {STRONG_PIN_DIGITS} to 12 digits, or a passphrase of at least "
                f"{PASSPHRASE_CHARS} characters")
    return f"a PIN is {PIN_DIGITS} to 12 digits"


def pin_problem(pin: str, role: str) -> str:
    """Why this PIN is not allowed for this role ("" when it is)."""
    if pin.isdigit():
        low = STRONG_PIN_DIGITS if role in AUTHORITY_ROLES else PIN_DIGITS
        return "" if low <= len(pin) <= 12 else pin_rule(role)
    if role in AUTHORITY_ROLES and PASSPHRASE_CHARS <= len(pin) <= MAX_SECRET and pin.strip() == pin:
        return ""
    return pin_rule(role)


def validate_pin(pin: str, role: str = "hygienist") -> None:
    problem = pin_problem(pin, role)
    if problem:
        raise ClinicianError(problem)


def name_key(name: str) -> str:
    """Names are unique regardless of case and spacing ("Dr  ada LOPEZ" = "Dr Ada Lopez")."""
    return " ".join(name.split()).casefold()


def authority_exists(db: Database) -> bool:
    """Whether changes need an authorising PIN (false only before the first dentist or admin)."""
    return clinician_store.authority_exists(db.conn())


def authorize(db: Database, authority: Authority | None, action: str) -> dict | None:
    """The authorising admin/dentist, after their PIN (and lock-out) are checked.

    None when no active dentist or admin exists yet (a new install: nobody could authorise).
    A PIN shorter than today's minimum still signs, but authorises nothing until changed."""
    if authority is None:
        if clinician_store.authority_exists(db.conn()):
            raise ClinicianError(f"{action} needs a dentist's or admin's PIN")
        return None
    who = verify(db, authority.clinician_id, authority.pin)
    if who["role"] not in AUTHORITY_ROLES:
        raise ClinicianError(f"{who['name']} is a {who['role']}; only a dentist or an admin can authorise {action}")
    if pin_problem(authority.pin, who["role"]):
        raise ClinicianError(f"{who['name']}'s PIN is shorter than now required ({pin_rule(who['role'])}); "
                             "change it first (Settings → Clinicians, or: dental-bridge clinicians set-pin ID)")
    return who


def authorised_by(who: dict | None) -> str:
    return f"clinician:{who['id']} {who['name']}" if who else "first run (no dentist or admin existed yet)"


def _check_bootstrap(c, who: dict | None, role: str, action: str) -> None:
    # checked again inside the write transaction: two first-run adds cannot both skip authority
    if who is None and (clinician_store.authority_exists(c) or role not in AUTHORITY_ROLES):
        raise ClinicianError(f"{action} needs a dentist's or admin's PIN" if clinician_store.authority_exists(c) else
                             "the first clinician must be a dentist or an admin")


def _unique(c, name: str, except_id: int | None = None) -> None:
    key = name_key(name)
    for r in clinician_store.active_names(c):
        if r["id"] != except_id and name_key(r["name"]) == key:
            raise ClinicianError(f"a clinician named {r['name']} already exists")


def add_clinician(db: Database, name: str, role: str, pin: str, actor: str = "", *,
                  authority: Authority | None = None) -> int:
    if role not in ROLES:
        raise ClinicianError(f"role must be one of {', '.join(ROLES)}")
    name = " ".join(name.split())
    if not name:
        raise ClinicianError("a clinician needs a name")
    who = authorize(db, authority, "adding a clinician")  # the PIN first: a wrong one changes nothing
    validate_pin(pin, role)
    salt = secrets.token_bytes(16)
    pin_hash = hash_pin(pin, salt)
    with db.tx() as c:
        _check_bootstrap(c, who, role, "adding a clinician")
        _unique(c, name)
        new_id = clinician_store.add(c, name, role, pin_hash, salt.hex())
        audit.append(c, "clinician_added", f"clinician:{new_id}", role=role, by=actor,
                     authorised_by=authorised_by(who))
        return new_id


def _active(c, clinician_id: int):
    row = clinician_store.active(c, clinician_id)
    if row is None:
        raise ClinicianError(f"clinician {clinician_id} does not exist")
    return row


def _keeps_an_authority(c, clinician_id: int) -> None:
    if not clinician_store.other_authorities(c, clinician_id):
        raise ClinicianError("this is the last dentist or admin: add another one first, or nobody could "
                             "authorise changes any more")


def set_role(db: Database, clinician_id: int, role: str, *, authority: Authority | None, actor: str = "") -> None:
    if role not in ROLES:
        raise ClinicianError(f"role must be one of {', '.join(ROLES)}")
    who = authorize(db, authority, "changing a role")
    with db.tx() as c:
        row = _active(c, clinician_id)
        _check_bootstrap(c, who, role, "changing a role")
        if row["role"] == role:
            return
        if row["role"] in AUTHORITY_ROLES and role not in AUTHORITY_ROLES:
            _keeps_an_authority(c, clinician_id)
        # a PIN good enough for a hygienist may be too short for a dentist: checked at next use
        clinician_store.set_role(c, clinician_id, role, pin_weak=role in AUTHORITY_ROLES)
        audit.append(c, "clinician_role_changed", f"clinician:{clinician_id}", before=row["role"], after=role,
                     by=actor, authorised_by=authorised_by(who))


def deactivate(db: Database, clinician_id: int, *, authority: Authority | None, actor: str = "") -> None:
    who = authorize(db, authority, "removing a clinician")
    with db.tx() as c:
        row = _active(c, clinician_id)
        if who is None:
            raise ClinicianError("removing a clinician needs a dentist's or admin's PIN")
        if row["role"] in AUTHORITY_ROLES:
            _keeps_an_authority(c, clinician_id)
        clinician_store.deactivate(c, clinician_id)
        audit.append(c, "clinician_removed", f"clinician:{clinician_id}", by=actor, authorised_by=authorised_by(who))


def set_pin(db: Database, clinician_id: int, new_pin: str, *, authority: Authority | None, actor: str = "") -> None:
    """A new PIN, authorised by the clinician's own current PIN or by a dentist or admin."""
    if authority is not None and authority.clinician_id == clinician_id:
        who = verify(db, clinician_id, authority.pin)  # one's own PIN, even a short old one
    else:
        who = authorize(db, authority, "changing someone's PIN")
    row = _active(db.conn(), clinician_id)
    validate_pin(new_pin, row["role"])
    salt = secrets.token_bytes(16)
    pin_hash = hash_pin(new_pin, salt)
    with db.tx() as c:
        if who is None:
            raise ClinicianError("changing a PIN needs the clinician's own PIN or a dentist's or admin's")
        clinician_store.set_pin(c, clinician_id, pin_hash, salt.hex())
        audit.append(c, "clinician_pin_changed", f"clinician:{clinician_id}", by=actor,
                     authorised_by=authorised_by(who))


def list_clinicians(db: Database) -> list[dict]:
    return [{"id": r["id"], "name": r["name"], "role": r["role"], "can_sign": r["role"] in SIGNING_ROLES,
             "can_authorise": r["role"] in AUTHORITY_ROLES,
             "locked": bool(r["locked_until"] and r["locked_until"] > utcnow()),
             "pin_too_short": bool(r["pin_weak"])}
            for r in clinician_store.list_active(db)]


def verify(db: Database, clinician_id: int, pin: str) -> dict:
    """The clinician row when the PIN is right; raises ClinicianError otherwise.

    The attempt is counted (and the lock-out set) in one write transaction before the PIN is
    hashed, so at most MAX_FAILURES guesses are ever checked per lock-out period however
    many arrive at once. A right PIN clears the count but not a lock-out set meanwhile."""
    now = utcnow()
    with db.tx() as c:
        row = clinician_store.active(c, clinician_id)
        if row is None:
            raise ClinicianError("unknown clinician")
        if row["locked_until"] and row["locked_until"] > now:
            raise ClinicianError(f"{row['name']} is locked out after {MAX_FAILURES} wrong PINs; "
                                 "try again in a few minutes")
        failures = row["failed_attempts"] + 1
        locked = None
        if failures >= MAX_FAILURES:
            locked = (datetime.now(timezone.utc) + LOCKOUT).isoformat(timespec="milliseconds")
            failures = 0
        clinician_store.record_failed_attempt(c, clinician_id, failures, locked)
    ok = hmac.compare_digest(hash_pin(pin, bytes.fromhex(row["pin_salt"])), row["pin_hash"])
    with db.tx() as c:
        if ok:
            weak = 1 if pin_problem(pin, row["role"]) else 0
            clinician_store.clear_failures(c, clinician_id, pin_weak=bool(weak))
            return dict(row) | {"pin_weak": weak}
        audit.append(c, "pin_failed", f"clinician:{clinician_id}", locked=bool(locked))
    raise ClinicianError("wrong PIN" + (f"; {row['name']} is now locked out for a few minutes" if locked else ""))
