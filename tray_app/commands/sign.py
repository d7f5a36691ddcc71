"""`sign STUDY --clinician ID`: a dentist signs a reviewed study."""

from __future__ import annotations

import sys

from ..analysis.catalog import above_floor
from ..clinical.cdt import finding_codes
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
            reported = [f for f in findings if f["id"] not in reject and
                        (f["id"] in accept or f["status"] in ("accepted", "edited", "added"))]
            codes = confirm_codes(args.confirm_codes, reported)
            # the PIN is checked before any of these is applied; all of it commits with the signature
            result = api.sign(args.study, args.clinician, read_pin(args), accept=accept, reject=reject,
                              codes=codes or None)
        except ReviewError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    result["below_floor"] = below
    result["codes"] = codes
    if result.get("warning"):
        print(f"note: {result['warning']}", file=sys.stderr)
    emit(args, result, lambda r: f"study {r['study_id']} signed by {r['signed_by']} at {r['signed_at']} "
                                 f"({r['findings']} finding(s); report sha256 {r['report_sha256'][:12]}…)" +
                                 (f"; {below} proposal(s) under their review floor left out" if below else ""))
    return 0


def confirm_codes(spec: str | None, reported: list[dict]) -> dict[int, str]:
    """`--confirm-codes`: `all` (every suggested code as suggested), or `ID` (its suggested code) and
    `ID=CODE` (another code), comma-separated; the signature checks them (review/codes.py)."""
    if not spec:
        return {}
    suggested = {fid: s.code for fid, s in finding_codes(
        [{"id": f["id"], "label": f["label"], "tooth_fdi": f.get("tooth_fdi"), "surfaces": f.get("surfaces") or ""}
         for f in reported]).items()}
    if spec.strip().lower() == "all":
        return {fid: code for fid, code in suggested.items() if code}
    out = {}
    for item in (x.strip() for x in spec.split(",") if x.strip()):
        fid_text, _, code = item.partition("=")
        if not fid_text.strip().isdigit():
            raise ReviewError(f"--confirm-codes takes finding ids, ID=CODE or all (got {item!r})")
        fid = int(fid_text)
        code = code.strip() or suggested.get(fid, "")
        if not code:
            raise ReviewError(f"finding {fid} has no suggested treatment code: give one as {fid}=D....")
        out[fid] = code
    return out


def add_arguments(command: str, p) -> None:
    p.add_argument("study", type=int)
    p.add_argument("--clinician", type=int, required=True)
    p.add_argument("--pin-stdin", action="store_true")
    p.add_argument("--accept", help="'all' or comma-separated finding ids to accept before signing")
    p.add_argument("--reject", help="comma-separated finding ids to reject before signing")
    p.add_argument("--confirm-codes", help="treatment codes the dentist confirms: 'all' suggested, or comma-separated "
                                           "finding ids (their suggested code) and ID=CODE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sign)
