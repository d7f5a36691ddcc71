"""`hub status|pair|clients|revoke NAME`: the review hub the operatory PCs pair with (issue 18).

`status` shows the settings and the certificate fingerprint clients pin (made on first use);
`pair` a one-time code (10 minutes, single use); `clients` the paired PCs; `revoke` ends one's
access at once (its next request is refused). `pair` and `revoke` decide who reaches patient
data from another PC, so they need a dentist's or admin's PIN (`--as-clinician ID`), audited
with who authorised them.
"""

from __future__ import annotations

import sys

from ..hub import pairing
from ..hub.tls import ensure_certificate, fingerprint
from ..review.clinicians import ClinicianError, authorised_by, authorize
from .shared import add_authority_args, authority, emit, load_config, load_paths, open_database


def _fingerprint(paths) -> str:
    return fingerprint(ensure_certificate(paths.data_dir))


def _authorised(db, args, action: str) -> str | None:
    """Who authorised `action` (their PIN checked, with its lock-out); None, said why, when refused."""
    try:
        return authorised_by(authorize(db, authority(args), action))
    except ClinicianError as exc:
        print(f"error: {exc} (--as-clinician ID)", file=sys.stderr)
        return None


def cmd_status(args) -> int:
    paths = load_paths()
    hub = load_config(paths).hub
    with open_database(paths) as db:
        clients = len(pairing.clients(db))
    result = {"enabled": hub.enabled, "port": hub.port, "bind_address": hub.bind_address,
              "fingerprint": _fingerprint(paths), "clients": clients}
    emit(args, result, lambda r: (f"review hub {'on' if r['enabled'] else 'off'} (port {r['port']}, "
                                  f"address {r['bind_address']}); {r['clients']} paired PC(s)\n"
                                  f"certificate fingerprint (SHA-256): {r['fingerprint']}"))
    return 0


def cmd_pair(args) -> int:
    paths = load_paths()
    hub = load_config(paths).hub
    with open_database(paths) as db:
        who = _authorised(db, args, "pairing a review PC")
        if who is None:
            return 2
        code = pairing.new_code(db, authorised_by=who)
    if not hub.enabled:
        print("note: the review hub is off; turn it on in Settings (or dental-bridge config set hub.enabled true "
              "with a dentist's or admin's PIN) before pairing", file=sys.stderr)
    result = {"code": code, "minutes": pairing.PAIRING_MINUTES, "fingerprint": _fingerprint(paths)}
    emit(args, result, lambda r: (f"pairing code: {r['code']}  (valid {r['minutes']} minutes, once)\n"
                                  f"the hub's certificate fingerprint: {r['fingerprint']}"))
    return 0


def cmd_clients(args) -> int:
    with open_database() as db:
        clients = pairing.clients(db, include_revoked=args.all)
    if args.json:
        emit(args, {"clients": clients}, str)
    elif not clients:
        print("No PC is paired with this hub.")
    else:
        for c in clients:
            state = f"revoked {c['revoked_at']}" if c["revoked_at"] else f"last seen {c['last_seen_at'] or 'never'}"
            print(f"{c['name']:<24} paired {c['created_at']}  {state}")
    return 0


def cmd_revoke(args) -> int:
    with open_database() as db:
        who = _authorised(db, args, "revoking a review PC")
        if who is None:
            return 2
        if not pairing.revoke(db, args.name, actor="cli", authorised_by=who):
            print(f"error: no paired PC is named {args.name!r} (dental-bridge hub clients lists them)",
                  file=sys.stderr)
            return 2
    print(f"{args.name} can no longer reach the hub (pair it again to restore access)")
    return 0


def _dispatch(args) -> int:
    return {"status": cmd_status, "pair": cmd_pair, "clients": cmd_clients, "revoke": cmd_revoke}[args.hub_command](args)


def add_arguments(command: str, p) -> None:
    p.set_defaults(func=_dispatch)
    sub = p.add_subparsers(dest="hub_command", required=True)
    s = sub.add_parser("status", help="settings, paired PCs and the certificate fingerprint clients pin")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("pair", help="a one-time pairing code for a new operatory PC (a dentist's or admin's PIN)")
    s.add_argument("--json", action="store_true")
    add_authority_args(s)
    s = sub.add_parser("clients", help="the paired PCs")
    s.add_argument("--json", action="store_true")
    s.add_argument("--all", action="store_true", help="include revoked ones")
    s = sub.add_parser("revoke", help="end a paired PC's access (a dentist's or admin's PIN)")
    s.add_argument("name")
    add_authority_args(s)
