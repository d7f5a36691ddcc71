"""`audit` (verify or export the log), `purge` (retention) and `pilot` (the silent pilot's report)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from .. import pilot
from ..store import audit
from ..retention import purge
from ..sources.dicom_scp import inbox_dir
from .shared import emit, load_config, load_paths, open_database, print_json


def cmd_audit(args) -> int:
    with open_database() as db:
        if args.action == "export":
            if not args.file:
                print("error: audit export needs a FILE (.csv or .json)", file=sys.stderr)
                return 2
            entries = audit.export_entries(db.conn(), date_from=args.date_from or "", date_to=args.date_to or "",
                                           patient_id=args.patient or "")
            _write_audit_export(Path(args.file), entries)
            print(f"wrote {len(entries)} audit entries to {args.file}")
            return 0
        result = audit.verify(db.conn())
        if result.ok and not result.keyed and result.entries:
            with db.tx() as c:  # a log from before keying: key it from here on
                audit.seal_unkeyed(c)
    if args.json:
        print_json(result.__dict__)
    elif result.ok:
        where = {"keyring": "the OS keyring", "file": "a file next to the database (no OS keyring here: weaker)"}
        print(f"audit log intact: {result.entries} entries" + (
            f"; keyed, anchored at entry {result.anchor} in {where[result.key_store]}" if result.keyed else
            "; written before the log was keyed, keyed from now on"))
    else:
        print(f"audit log BROKEN at entry {result.first_bad_seq}: {result.problem}")
    return 0 if result.ok else 1


def _write_audit_export(path: Path, entries: list[dict]) -> None:
    if path.suffix.lower() == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["seq", "at", "event", "subject", "data", "prev_hash", "hash"])
            for e in entries:
                w.writerow([e["seq"], e["at"], e["event"], e["subject"],
                            json.dumps(e["data"], ensure_ascii=False, sort_keys=True), e["prev_hash"], e["hash"]])
    else:
        path.write_text(json.dumps({"entries": entries}, ensure_ascii=False, indent=1), encoding="utf-8")


def cmd_purge(args) -> int:
    paths = load_paths()
    config = load_config(paths)
    with open_database(paths) as db:
        result = purge(db, paths.cache_dir, config.governance.retention_days, inbox_dir=inbox_dir(paths.data_dir),
                       dry_run=args.dry_run)
    verb = "would purge" if args.dry_run else "purged"
    emit(args, result, lambda r: f"{verb} {r['images']} cached image(s), {r['rendered_files']} rendered file(s) "
                                 f"and {r['inbox_files']} DICOM inbox file(s) of studies from before "
                                 f"{r['cutoff'][:10]} (exports still waiting keep theirs)")
    return 0


def cmd_pilot(args) -> int:
    with open_database() as db:
        try:
            result = pilot.from_chart_csv(db, Path(args.chart)) if args.chart else pilot.from_reviews(db)
        except (OSError, ValueError, KeyError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    emit(args, result, pilot.format_report)
    return 0


def add_arguments(command: str, p) -> None:
    if command == "audit":
        p.add_argument("action", choices=["verify", "export"])
        p.add_argument("file", nargs="?", help="for export: FILE.csv or FILE.json")
        p.add_argument("--from", dest="date_from", help="YYYY-MM-DD")
        p.add_argument("--to", dest="date_to", help="YYYY-MM-DD")
        p.add_argument("--patient", help="patient id (chart number or PatNum as recorded)")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_audit)
    elif command == "pilot":
        p.add_argument("action", choices=["report"])
        p.add_argument("--chart", help="CSV of chart findings (patient_id, tooth, label) instead of review decisions")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_pilot)
    elif command == "purge":
        p.add_argument("--dry-run", action="store_true")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_purge)
