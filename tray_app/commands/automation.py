"""`automation [list|run]`: targeted automation's exports that went out unverified."""

from __future__ import annotations

from .. import automation
from .shared import emit, load_config, load_paths, open_database


def cmd_automation(args) -> int:
    """Targeted automation: the studies that went out unverified, awaiting a dentist's signature."""
    paths = load_paths()
    config = load_config(paths)
    with open_database(paths) as db:
        decided = automation.run_pass(db, config.governance, list(config.export.destinations)) \
            if args.action == "run" else []
        result = {"rollout": config.governance.rollout, "destinations": list(config.export.destinations),
                  "decided": decided, "unverified": automation.unverified(db)}
    emit(args, result, _format_automation)
    return 0


def _format_automation(result: dict) -> str:
    lines = []
    if result["rollout"] != "targeted_automation":
        lines.append(f"targeted automation is off (rollout: {result['rollout']})")
    elif not result["destinations"]:
        lines.append("targeted automation has no export destination yet (Settings → Export, or "
                     "`dental-bridge config set export.destinations ...`); nothing is sent until one is set")
    for d in result["decided"]:
        lines.append(f"study {d['study_id']}: {d['outcome']}" + (f" — {d['reason']}" if d.get("reason") else ""))
    if not result["unverified"]:
        lines.append("no automatic export is waiting for a dentist's review")
    for u in result["unverified"]:
        found = ", ".join(f"{f['label'].replace('_', ' ')}" + (f" #{f['tooth_universal']}" if f["tooth_universal"]
                                                               else "") for f in u["findings"])
        lines.append(f"study {u['study_id']} ({u['patient']['id']}) exported unverified {u['exported_at'][:16]} "
                     f"[{', '.join(u['export_states']) or 'no destination'}]: {found}")
    return "\n".join(lines)


def add_arguments(command: str, p) -> None:
    p.add_argument("action", nargs="?", choices=["list", "run"], default="list")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_automation)
