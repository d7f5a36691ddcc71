"""`sign STUDY --clinician ID`: a dentist signs a reviewed study."""

from __future__ import annotations

import sys

from ..analysis.catalog import above_floor
from ..review.api import ReviewError
from .shared import emit, load_paths, open_database, read_pin, review_api


def cmd_sign(args) -> int:
    paths = load_paths()
    below = 0
    with open_database(paths) as db:
        try:
            api = review_api(db, paths)
            study = api.study(args.study)
            findings = [f for im in study["images"] for f in im["findings"] if f["label"] != "tooth"]
            ids = {f["id"] for f in findings}
            if args.accept == "all":  # what the review window shows: proposals under their label's floor stay out
                accept = {f["id"] for f in findings
                          if f["status"] == "proposed" and above_floor(f, api.catalog.floor(f))}
                below = sum(f["status"] == "proposed" and f["id"] not in accept for f in findings)
            else:
                accept = {int(x) for x in args.accept.split(",") if x} if args.accept else set()
            reject = {int(x) for x in args.reject.split(",") if x} if args.reject else set()
            unknown = (accept | reject) - ids
            if unknown:
                raise ReviewError(f"finding(s) {sorted(unknown)} are not in study {args.study}")
            # the PIN is checked before any of these is applied; all of it commits with the signature
            result = api.sign(args.study, args.clinician, read_pin(args), accept=accept, reject=reject)
        except ReviewError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    result["below_floor"] = below
    if result.get("warning"):
        print(f"note: {result['warning']}", file=sys.stderr)
    emit(args, result, lambda r: f"study {r['study_id']} signed by {r['signed_by']} at {r['signed_at']} "
                                 f"({r['findings']} finding(s); report sha256 {r['report_sha256'][:12]}…)" +
                                 (f"; {below} proposal(s) under their review floor left out" if below else ""))
    return 0


def add_arguments(command: str, p) -> None:
    p.add_argument("study", type=int)
    p.add_argument("--clinician", type=int, required=True)
    p.add_argument("--pin-stdin", action="store_true")
    p.add_argument("--accept", help="'all' or comma-separated finding ids to accept before signing")
    p.add_argument("--reject", help="comma-separated finding ids to reject before signing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sign)
