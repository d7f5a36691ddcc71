"""`clinicians list | add | set-role | set-pin | remove`: who reviews and signs, and their PINs."""

from __future__ import annotations

import sys

from ..review import clinicians as clin
from .shared import add_authority_args, authority, open_database, print_json, read_pin


def cmd_clinicians(args) -> int:
    with open_database() as db:
        try:
            return _clinicians(args, db)
        except clin.ClinicianError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2


def _clinicians(args, db) -> int:
    if args.action == "list":
        rows = clin.list_clinicians(db)
        if args.json:
            print_json({"clinicians": rows})
        else:
            for r in rows:
                print(f"{r['id']:>3}  {r['name']:<28} {r['role']:<10}{'  can sign' if r['can_sign'] else ''}"
                      f"{'  LOCKED' if r['locked'] else ''}{'  PIN too short: change it' if r['pin_too_short'] else ''}")
        return 0
    if args.action == "add":
        if not args.name:
            print("error: clinicians add needs a NAME", file=sys.stderr)
            return 2
        by = authority(args)
        cid = clin.add_clinician(db, args.name, args.role or "dentist", read_pin(args, "New clinician's PIN: "),
                                 actor="cli", authority=by)
        print(f"added clinician {cid}: {' '.join(args.name.split())} ({args.role or 'dentist'})")
        return 0
    target = _clinician_id(args.name)
    if args.action == "set-role":
        if not args.role:
            print("error: clinicians set-role ID needs --role", file=sys.stderr)
            return 2
        clin.set_role(db, target, args.role, authority=authority(args), actor="cli")
        print(f"clinician {target} is now a {args.role}")
    elif args.action == "set-pin":
        by = authority(args)
        if by is None:  # one's own PIN change: the current PIN authorises it
            by = clin.Authority(target, read_pin(args, "Current PIN: "))
        clin.set_pin(db, target, read_pin(args, "New PIN: "), authority=by, actor="cli")
        print(f"PIN of clinician {target} changed")
    elif args.action == "remove":
        clin.deactivate(db, target, authority=authority(args), actor="cli")
        print(f"clinician {target} removed (their signatures stay on record)")
    return 0


def _clinician_id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise clin.ClinicianError("give the clinician's id (see: dental-bridge clinicians list)") from None


def add_arguments(command: str, p) -> None:
    p.add_argument("action", choices=["list", "add", "set-role", "set-pin", "remove"])
    p.add_argument("name", nargs="?", help="add: the NAME; set-role, set-pin, remove: the clinician's ID")
    p.add_argument("--role", choices=["dentist", "hygienist", "assistant", "admin"],
                   help="add: the role (default dentist); set-role: the new role")
    add_authority_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_clinicians)
