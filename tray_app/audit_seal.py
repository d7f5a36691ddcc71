"""Where the audit log's MAC key and its anchor live, outside the database.

One record per database file, in the OS keyring (Windows Credential Manager; service
"DentalAIBridge/audit", account "db-" + a hash of the database's path):

    {"key": hex, "db": database id, "legacy": seq, "seq": seq, "hash": hash}

`key` keys the chain's MAC, so someone who edits the database file cannot recompute the chain;
`legacy` is the last entry written before the log was keyed (older versions used plain
sha256); `seq`/`hash` are the anchor: the newest committed entry, so removing the tail is
noticed. `db` tells a database that replaced this one at the same path (the demo starting
over) from the database the record was made for.

Without a usable keyring (a Linux machine without a secret service; never on Windows) the
record is a file next to the database; `audit verify` says so, because that file sits where
the database does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SERVICE = "DentalAIBridge/audit"
_lock = threading.Lock()


@dataclass
class Seal:
    key: str
    db: str
    legacy: int
    seq: int
    hash: str
    where: str = "keyring"  # keyring | file

    @property
    def key_bytes(self) -> bytes:
        return bytes.fromhex(self.key)

    def dump(self) -> str:
        d = asdict(self)
        d.pop("where")
        return json.dumps(d, sort_keys=True)


def account(db_path: str | Path) -> str:
    norm = os.path.normcase(str(Path(db_path).resolve()))
    return "db-" + hashlib.sha256(norm.encode("utf-8")).hexdigest()[:24]


def seal_file(db_path: str | Path) -> Path:
    p = Path(db_path)
    return p.with_name(p.name + ".audit-seal.json")


def _keyring():
    """The keyring module when a real backend is there, else None."""
    import keyring
    from keyring.backends import fail

    from .keyring_backend import ensure_backend

    ensure_backend()
    return None if isinstance(keyring.get_keyring(), fail.Keyring) else keyring


def _parse(text: str | None, where: str) -> Seal | None:
    if not text:
        return None
    try:
        d = json.loads(text)
        return Seal(key=str(d["key"]), db=str(d["db"]), legacy=int(d["legacy"]), seq=int(d["seq"]),
                    hash=str(d["hash"]), where=where)
    except (ValueError, KeyError, TypeError):
        log.warning("the audit key record in the %s is unreadable", where)
        return None


def load(db_path: str | Path) -> Seal | None:
    kr = _keyring()
    if kr is not None:
        try:
            found = _parse(kr.get_password(SERVICE, account(db_path)), "keyring")
        except Exception:  # noqa: BLE001 - a keyring that cannot be read now: the file, if any
            found = None
        if found is not None:
            return found
    f = seal_file(db_path)
    try:
        return _parse(f.read_text(encoding="utf-8"), "file") if f.is_file() else None
    except OSError:
        return None


def _store(db_path: str | Path, seal: Seal) -> Seal:
    kr = _keyring() if seal.where == "keyring" else None
    if kr is not None:
        try:
            kr.set_password(SERVICE, account(db_path), seal.dump())
            return seal
        except Exception as exc:  # noqa: BLE001
            log.warning("the keyring refused the audit key record (%s); keeping it in a file", type(exc).__name__)
    seal.where = "file"
    f = seal_file(db_path)
    tmp = f.with_name(f.name + ".tmp")
    tmp.write_text(seal.dump(), encoding="utf-8")
    os.replace(tmp, f)
    return seal


def create(db_path: str | Path, db_id: str, legacy: int, last_hash: str) -> Seal:
    """A new key for this database; entries up to `legacy` stay verified by plain sha256."""
    seal = Seal(key=secrets.token_hex(32), db=db_id, legacy=legacy, seq=legacy, hash=last_hash,
                where="keyring" if _keyring() is not None else "file")
    return _store(db_path, seal)


def advance(db_path: str | Path, seal: Seal, seq: int, h: str) -> None:
    """Move the anchor forward to a committed entry (never back: other processes write too)."""
    with _lock:
        current = load(db_path)
        if current is not None and (current.db != seal.db or current.seq >= seq):
            return
        base = current or seal
        _store(db_path, Seal(key=base.key, db=base.db, legacy=base.legacy, seq=seq, hash=h, where=base.where))
