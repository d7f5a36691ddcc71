"""CLI commands for exports: `export`, `secrets set opendental`, `doctor`.

Wired into `dental-bridge` by `tray_app.cli` with `add_parsers(sub)`.

- `export [--once] [--json] [--retry all|ID] [--status]`: `--once` sends every queued or failed
  export now (ignoring the back-off wait) and exits; `--retry` puts exports that need attention
  back in the queue (after the cause was fixed); `--status` lists the outbox; without options
  the export worker runs until Ctrl-C. `--json`: `{"results": [{"id", "study_id", "destination",
  "state", "reason", "attempts", "next_attempt_at", "remote_ids"}]}` or `{"outbox": [...]}`.
  Exit 0 when nothing needs attention, 1 otherwise.
- `secrets set opendental [--stdin]`: stores the developer and customer keys in the OS keyring
  (prompts without echo; `--stdin` reads two lines).
- `doctor [--json]`: `{"ok": bool, "checks": [{"name", "ok", "message"}]}`; exit 1 if a check failed.
"""

from __future__ import annotations

import sys

from ..cli import _print_json


def _load():
    from ..config import Paths
    from ..guarded_settings import load

    paths = Paths.resolve().ensure()
    config, problem = load(paths)
    if problem:
        print(f"note: {problem}", file=sys.stderr)
    return paths, config, config.export


def cmd_export(args) -> int:
    from ..store.db import Database
    from .outbox import Outbox, OutboxWorker

    paths, config, export = _load()  # a settings problem: cli.main prints it and exits 2
    db = Database(paths.database)
    try:
        outbox = Outbox(db, export, automation=config.governance.automated)
        if args.retry:
            n = outbox.retry(None if args.retry == "all" else int(args.retry), actor="cli")
            if not args.json:
                print(f"{n} export(s) queued again")
        if args.status:
            rows = outbox.status()
            if args.json:
                _print_json({"outbox": rows})
            else:
                for r in rows:
                    print(f"{r['id']:>4}  study {r['study_id']:<5} {r['destination']:<11} {r['state']:<16}"
                          f"{r['attempts']:>3} attempt(s)  {r['reason']}")
            return 1 if any(r["state"] == "needs_attention" for r in rows) else 0
        if args.once or args.retry:
            results = outbox.drain_once(ignore_backoff=True)
            if args.json:
                _print_json({"results": results})
            else:
                if not results:
                    print("nothing to export")
                for r in results:
                    extra = f": {r['reason']}" if r["reason"] else ""
                    print(f"export {r['id']} (study {r['study_id']} → {r['destination']}): {r['state']}{extra}")
            return 1 if any(r["state"] == "needs_attention" for r in results) else 0
        worker = OutboxWorker(outbox)
        worker.start()
        print("exporting; stop with Ctrl-C", file=sys.stderr)
        try:
            import threading

            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            worker.stop()
        return 0
    finally:
        db.close()


def cmd_secrets(args) -> int:
    from .secrets import SecretsError, set_opendental_keys

    if args.stdin:
        dev = sys.stdin.readline().strip()
        cust = sys.stdin.readline().strip()
    else:
        import getpass

        dev = getpass.getpass("Open Dental developer key: ")
        cust = getpass.getpass("Open Dental customer key: ")
    try:
        set_opendental_keys(dev, cust)
    except SecretsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("Open Dental keys stored in the system keyring")
    return 0


def cmd_doctor(args) -> int:
    from ..config import ConfigError
    from ..store.db import Database
    from .doctor import run_checks, summary
    from .outbox import Outbox

    try:
        paths, _config, export = _load()
    except ConfigError as exc:  # the one time a doctor is most needed: say it as a failed check
        if args.json:
            _print_json({"ok": False, "checks": [{"name": "settings file", "ok": False, "message": str(exc)}]})
        else:
            print(f"FAIL  settings file: {exc}")
        return 1
    db = Database(paths.database)
    try:
        rows = Outbox(db, export).status()
    finally:
        db.close()
    from ..doctor import core_checks

    checks = core_checks(paths, _config) + run_checks(export, outbox_rows=rows)
    ok = summary(checks)
    if args.json:
        _print_json({"ok": ok, "checks": [c.as_dict() for c in checks]})
    else:
        for c in checks:
            print(f"{'FAIL' if not c.ok else 'WARN' if c.warning else 'ok  '}  {c.name}: {c.message}")
    return 0 if ok else 1


def add_parsers(sub) -> None:
    ex = sub.add_parser("export", help="send signed reports to the practice-management system")
    ex.add_argument("--once", action="store_true", help="send what is queued now, then exit")
    ex.add_argument("--retry", metavar="all|ID", help="queue exports that need attention again (after fixing the cause)")
    ex.add_argument("--status", action="store_true", help="list the export queue")
    ex.add_argument("--json", action="store_true")
    ex.set_defaults(func=cmd_export)

    se = sub.add_parser("secrets", help="store API keys in the system keyring")
    se_sub = se.add_subparsers(dest="action", required=True)
    od = se_sub.add_parser("set", help="set opendental: the Open Dental developer and customer keys")
    od.add_argument("what", choices=["opendental"])
    od.add_argument("--stdin", action="store_true", help="read the developer key, then the customer key, one per line")
    se.set_defaults(func=cmd_secrets)

    dr = sub.add_parser("doctor", help="check the set-up: folders, model, disk, keyring, PMS reachability and keys, drop folder")
    dr.add_argument("--json", action="store_true")
    dr.set_defaults(func=cmd_doctor)
