"""`ingest` (process files now) and `queue` (the studies awaiting review)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..labels import ANATOMY_LABELS
from ..review.api import ReviewError
from ..app import Service
from ..intake.ingest import ingest_paths
from ..logging_setup import setup_logging
from .shared import load_config, load_paths, open_database, practice_or_demo, print_json, review_api


def cmd_ingest(args) -> int:
    paths = load_paths()
    setup_logging(paths.log_dir, to_stderr=False)
    service = Service(load_config(paths), paths)
    service.load_model()
    if service.model is None and not args.json:
        print(f"note: {service.model_problem}; images are recorded and will be analysed once a model is installed",
              file=sys.stderr)
    worst = 0
    try:
        for outcome in ingest_paths(service, [Path(p) for p in args.paths]):
            if args.json:
                print_json(outcome.as_json())
            else:
                extra = f" ({outcome.reason})" if outcome.reason else ""
                counted = f", {outcome.findings} finding(s)" if outcome.status == "analyzed" else ""
                print(f"{outcome.status:<12} {outcome.path}{extra}{counted}")
            if outcome.status == "quarantined":
                worst = max(worst, 2)
            elif outcome.status == "missing":
                worst = max(worst, 1)
    finally:
        service.db.close()
    return worst


def cmd_queue(args) -> int:
    paths, _ = practice_or_demo(load_paths(), "listing")
    with open_database(paths) as db:
        try:
            api = review_api(db, paths)
            studies = api.queue(include_done=args.all)
        except ReviewError as exc:  # a client home whose hub refuses or does not answer
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print_json({"studies": studies})
        return 0
    if not studies:
        print("No studies are waiting for review.")
        return 0
    for s in studies:
        p = s["patient"]
        who = (p["name"].replace("^", ", ") or "unknown patient") + (f"  #{p['id']}" if p["id"] else "")
        findings = sum(1 for im in s["images"] for f in im["findings"] if f["label"] not in ANATOMY_LABELS)
        flag = "URGENT  " if s.get("urgent") else ""
        print(f"{flag}Study {s['id']}  {who}  {s['image_count']} image(s), {findings} finding(s)  [{s['status']}]"
              f"  priority {s['priority']:.2f}")
        if s.get("findings_hidden"):
            print(f"    ({s['findings_hidden']})")
        if s.get("set") and s["set"].get("text"):
            print(f"    {s['set']['text']}")
        shown_tags = [t for t in s.get("tags", []) if not t.startswith(("region:", "teeth:"))]
        if shown_tags:
            print(f"    tags: {', '.join(shown_tags)}")
        listed = s["images"] if len(s["images"]) <= 8 else sorted(
            s["images"], key=lambda im: -max([f["confidence"] * (f["severity"] + 1) for f in im["findings"]
                                              if f["label"] not in ANATOMY_LABELS] or [0]))[:6]
        for im in sorted(listed, key=lambda im: im["id"]):
            shown = [f for f in im["findings"] if f["label"] not in ANATOMY_LABELS]
            teeth = sum(1 for f in im["findings"] if f["label"] in ANATOMY_LABELS)
            tops = ", ".join(_finding_text(f, api.catalog) for f in shown[:4])
            more = f" +{len(shown) - 4} more" if len(shown) > 4 else ""
            state = im["state"] + (f": {im['reason']}" if im["reason"] else "")
            teeth_note = f"  ({teeth} teeth)" if teeth else ""
            kind = (im["kind"] or "?") + ("?" if im.get("kind_confidence", 1) < 0.6 else "")
            print(f"    image {im['id']:<5} {kind:<11} {state:<10} {tops or '-'}{more}{teeth_note}")
        if len(listed) < len(s["images"]):
            print(f"    … and {len(s['images']) - len(listed)} more image(s) (dental-bridge queue --json lists all)")
    return 0


def show_queue() -> int:
    """The queue as `dental-bridge queue` prints it (the demo shows it when it ends)."""
    return cmd_queue(argparse.Namespace(json=False, all=False))


def _finding_text(f: dict, catalog) -> str:
    where = f"#{f['tooth_universal']}" if f.get("tooth_universal") else "tooth ?"
    if f.get("surfaces"):
        where += f" {f['surfaces']}"
    return f"{catalog.style(f['label'], [f['model']]).display} {where} {f['confidence']:.0%}"


def add_arguments(command: str, p) -> None:
    if command == "ingest":
        p.add_argument("paths", nargs="+")
        p.add_argument("--json", action="store_true", help="one JSON object per line (docs/cli.md)")
        p.set_defaults(func=cmd_ingest)
    elif command == "queue":
        p.add_argument("--json", action="store_true")
        p.add_argument("--all", action="store_true", help="include signed and exported studies")
        p.set_defaults(func=cmd_queue)
