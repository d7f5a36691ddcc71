"""`export [--once] [--json] [--retry all|ID] [--status]`: the outbox from the command line.

- `export [--once] [--json] [--retry all|ID] [--status]`: `--once` sends every queued or failed
  export now (ignoring the back-off wait) and exits; `--retry` puts exports that need attention
  back in the queue (after the cause was fixed); `--status` lists the outbox; without options
  the export worker runs until Ctrl-C. `--json`: `{"results": [{"id", "study_id", "destination",
  "state", "reason", "attempts", "next_attempt_at", "remote_ids"}]}` or `{"outbox": [...]}`.
  Exit 0 when nothing needs attention, 1 otherwise.
"""

from __future__ import annotations

import sys
import threading

from ..export.outbox import Outbox, OutboxWorker
from .shared import load_config, load_paths, open_database, print_json


def cmd_export(args) -> int:
    paths = load_paths()
    config = load_config(paths)  # a settings problem: cli.main prints it and exits 2
    with open_database(paths) as db:
        outbox = Outbox(db, config.export, automation=config.governance.automated)
        if args.retry:
            n = outbox.retry(None if args.retry == "all" else int(args.retry), actor="cli")
            if not args.json:
                print(f"{n} export(s) queued again")
        if args.status:
            rows = outbox.status()
            if args.json:
                print_json({"outbox": rows})
            else:
                for r in rows:
                    print(f"{r['id']:>4}  study {r['study_id']:<5} {r['destination']:<11} {r['state']:<16}"
                          f"{r['attempts']:>3} attempt(s)  {r['reason']}")
            return 1 if any(r["state"] == "needs_attention" for r in rows) else 0
        if args.once or args.retry:
            results = outbox.drain_once(ignore_backoff=True)
            if args.json:
                print_json({"results": results})
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
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            worker.stop()
        return 0


def add_arguments(command: str, p) -> None:
    p.add_argument("--once", action="store_true", help="send what is queued now, then exit")
    p.add_argument("--retry", metavar="all|ID", help="queue exports that need attention again (after fixing the cause)")
    p.add_argument("--status", action="store_true", help="list the export queue")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_export)
