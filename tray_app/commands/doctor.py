"""`doctor [--json]`: `{"ok": bool, "checks": [{"name", "ok", "message", "warning"}]}`; exit 1 if a
check failed."""

from __future__ import annotations

from ..config import ConfigError
from ..doctor import Context, core, run, summary
from ..export import doctor as export_doctor
from ..export import next_steps_doctor
from ..hub import doctor as hub_doctor
from ..worklist import doctor as worklist_doctor
from .shared import load_config, load_paths, print_json

# every part's checks, in the order printed
CHECKS = (*core.CHECKS, *export_doctor.CHECKS, *worklist_doctor.CHECKS, *next_steps_doctor.CHECKS)
# an operatory PC in client mode watches, analyses and exports nothing: the hub does
CLIENT_CHECKS = (core.data_folder, core.disk_space, core.audit_log, core.keyring_store, *hub_doctor.CHECKS)


def cmd_doctor(args) -> int:
    try:
        paths = load_paths()
        config = load_config(paths)
    except ConfigError as exc:  # the one time a doctor is most needed: say it as a failed check
        if args.json:
            print_json({"ok": False, "checks": [{"name": "settings file", "ok": False, "message": str(exc)}]})
        else:
            print(f"FAIL  settings file: {exc}")
        return 1
    checks = run(CLIENT_CHECKS if config.client.hub_url else CHECKS, Context(config, paths))
    ok = summary(checks)
    if args.json:
        print_json({"ok": ok, "checks": [c.as_dict() for c in checks]})
    else:
        for c in checks:
            print(f"{'FAIL' if not c.ok else 'WARN' if c.warning else 'ok  '}  {c.name}: {c.message}")
    return 0 if ok else 1


def add_arguments(command: str, p) -> None:
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)
