"""`dental-bridge` command line: the product's support, scripting and headless interface.

JSON shapes are documented in docs/cli.md and kept stable.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from . import __version__

log = logging.getLogger("tray_app.cli")


# -- helpers --------------------------------------------------------------------------------
def _paths():
    from .config import Paths

    return Paths.resolve().ensure()


def _config(paths):
    """The settings file; guarded keys changed in it by hand (without a PIN) are held back."""
    from .guarded_settings import load

    config, problem = load(paths)
    if problem:
        print(f"note: {problem}", file=sys.stderr)
    return config


def _review_api(db, paths):
    """The review API over the installed models (bundled and the user's)."""
    from .analysis.catalog import ModelCatalog
    from .app import model_search_dirs
    from .review.api import ReviewAPI

    return ReviewAPI(db, _config(paths), ModelCatalog(model_search_dirs(paths)))


@contextmanager
def _database(paths=None):
    from .store.db import Database

    db = Database((paths or _paths()).database)
    try:
        yield db
    finally:
        db.close()


def _emit(args, result, render) -> None:
    """`--json` prints the result as documented in docs/cli.md; otherwise render(result) for people."""
    if args.json:
        _print_json(result)
    else:
        print(render(result))


def _print_json(obj) -> None:
    text = json.dumps(obj, ensure_ascii=False, default=str)
    try:
        text.encode(sys.stdout.encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        text = json.dumps(obj, default=str)  # a code-page pipe (Windows): \u escapes keep every name intact
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _run_service(service, *, once: bool, stop: threading.Event | None = None, settings=None, rebuild=None) -> int:
    """Runs until SIGTERM/Ctrl-C (or `stop`); with `settings` (a SettingsFile) and `rebuild`
    (config -> Service), a changed settings file restarts the service with it."""
    from .settings_file import replace_service

    stop = stop or threading.Event()

    def _on_signal(signum, frame):
        log.info("signal %s: stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        if hasattr(signal, "SIGBREAK"):
            signal.signal(signal.SIGBREAK, _on_signal)
    try:
        if once:
            service.run_once()
            return 0
        service.start()
        while not stop.wait(1.0):
            if settings is None or rebuild is None:
                continue
            previous = settings.config
            new = settings.changed()
            if new is not None:
                service, running = replace_service(service, rebuild, new, previous)
                if running is previous:
                    settings.refuse_applied(previous)
    except KeyboardInterrupt:
        log.info("interrupted: stopping")
    finally:
        service.stop()
    return 0


# -- commands --------------------------------------------------------------------------------
def cmd_run(args) -> int:
    from .app import Service
    from .logging_setup import setup_logging

    paths = _paths()
    headless = args.headless or not has_display()
    setup_logging(paths.log_dir, to_stderr=headless)
    if not args.headless and not has_display():
        print("No display found: running headless (services only). Stop with Ctrl-C.", file=sys.stderr)
    config = _config(paths)
    if not config.sources:
        print("No watch folders are configured yet. Add one with:\n"
              "  dental-bridge config add-source \\\\server\\share\\xrays", file=sys.stderr)
    service = Service(config, paths)
    if headless:
        from .settings_file import SettingsFile

        return _run_service(service, once=False, settings=SettingsFile(paths.config_file, config, paths.database),
                            rebuild=lambda cfg: Service(cfg, paths))
    return run_with_window(service, paths, config)


def run_with_window(service, paths, config) -> int:
    """The tray app: services on worker threads; tray, review window and settings on the Qt
    main thread (`run_app` starts and stops the service)."""
    from .ui.app_shell import run_app

    return run_app(service, paths, config)


def cmd_demo(args) -> int:
    from .demo.workspace import run_demo

    return run_demo(headless=args.headless or not has_display(), once=args.once, explicit_headless=args.headless,
                    run_service=_run_service, run_window=run_with_window)


def cmd_review(args) -> int:
    from .logging_setup import setup_logging

    paths = _paths()
    setup_logging(paths.log_dir, to_stderr=False)
    config = _config(paths)
    if args.screenshot:
        from .ui.launch import screenshot

        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            print("error: --size is WIDTHxHEIGHT, e.g. 1366x768", file=sys.stderr)
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # render without flashing a window on screen
        screenshot(paths, args.study, Path(args.screenshot), (w, h))
        print(f"wrote {args.screenshot}")
        return 0
    if not has_display():
        print("No display found: the review window needs one (use --screenshot FILE to render it offscreen).",
              file=sys.stderr)
        return 2
    from .ui.launch import run_review_window

    return run_review_window(paths, config)


def cmd_ingest(args) -> int:
    from .app import Service
    from .intake.ingest import ingest_paths
    from .logging_setup import setup_logging

    paths = _paths()
    setup_logging(paths.log_dir, to_stderr=False)
    service = Service(_config(paths), paths)
    service.load_model()
    if service.model is None and not args.json:
        print(f"note: {service.model_problem}; images are recorded and will be analysed once a model is installed",
              file=sys.stderr)
    worst = 0
    try:
        for outcome in ingest_paths(service, [Path(p) for p in args.paths]):
            if args.json:
                _print_json(outcome.as_json())
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
    paths = _paths()
    with _database(paths) as db:
        api = _review_api(db, paths)
        studies = api.queue(include_done=args.all)
    if args.json:
        _print_json({"studies": studies})
        return 0
    if not studies:
        print("No studies are waiting for review.")
        return 0
    from .analysis.tooth_mapping import ANATOMY_LABELS

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


def _finding_text(f: dict, catalog) -> str:
    where = f"#{f['tooth_universal']}" if f.get("tooth_universal") else "tooth ?"
    if f.get("surfaces"):
        where += f" {f['surfaces']}"
    return f"{catalog.style(f['label'], [f['model']]).display} {where} {f['confidence']:.0%}"


def cmd_config(args) -> int:
    from .config import ConfigError, SourceConfig
    from .guarded_settings import is_guarded
    from .intake.naming import TemplateError, validate_template
    from .review.clinicians import ClinicianError

    paths = _paths()
    try:
        config = _config(paths)
        if args.action == "show":
            import tomli_w

            if args.json:
                _print_json({"file": str(paths.config_file), "config": config.to_dict()})
            else:
                print(f"# {paths.config_file}")
                print(tomli_w.dumps(config.to_dict()))
            return 0
        who = None
        if args.action == "set":
            if is_guarded(args.key):
                from .review.clinicians import authorize, authorised_by

                with _database(paths) as db:  # the PIN first: a wrong one changes nothing
                    who = authorised_by(authorize(db, _authority(args), f"changing {args.key}"))
            config.set_value(args.key, args.value)
        elif args.action == "add-source":
            source = SourceConfig(path=args.path, kind=args.kind, patient_id=args.patient_id)
            if args.template:
                source.name_template = args.template
            validate_template(source.name_template)
            if any(s.path == source.path for s in config.sources):
                raise ConfigError(f"{source.path} is already a watch folder")
            config.sources.append(source)
            errors = config.validate()
            if errors:
                raise ConfigError("; ".join(errors))
            if not Path(args.path).is_dir():
                print(f"note: {args.path} is not reachable right now; it will be watched once it is.", file=sys.stderr)
        elif args.action == "remove-source":
            before = len(config.sources)
            config.sources = [s for s in config.sources if s.path != args.path]
            if len(config.sources) == before:
                raise ConfigError(f"{args.path} is not a watch folder")
        _audit_config_change(paths, args, who, config)  # first: a running app then finds the change authorised
        config.save(paths.config_file)
        print(f"saved {paths.config_file}")
        return 0
    except (ConfigError, TemplateError, ClinicianError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _audit_config_change(paths, args, authorised_by: str | None, config) -> None:
    from . import audit
    from .guarded_settings import guarded_values

    detail = {"set": {"key": getattr(args, "key", None), "value": getattr(args, "value", None)},
              "add-source": {"kind": getattr(args, "kind", None), "patient_id": getattr(args, "patient_id", None)},
              "remove-source": {}}.get(args.action, {})
    if authorised_by:
        detail["authorised_by"] = authorised_by
    detail["guarded"] = guarded_values(config)
    with _database(paths) as db:
        with db.tx() as c:
            audit.append(c, "config_changed", args.action, **detail)


def cmd_models(args) -> int:
    from .app import model_search_dirs
    from .analysis import registry
    from .analysis.manifest import ManifestError
    from .analysis.model import OnnxModel

    paths = _paths()
    entries = registry.discover(model_search_dirs(paths))
    config = _config(paths)
    chosen = registry.choose(entries, args.model or config.analysis.model)
    if args.action == "evaluate":
        return _models_evaluate(args, chosen)
    rows, failed = [], False
    for e in entries:
        row = {"directory": str(e.directory), "origin": e.origin, "ok": e.manifest is not None, "error": e.error or None}
        if e.manifest:
            m = e.manifest
            row.update(name=m.name, version=m.version, labels=list(m.label_names),
                       input=[m.input.width, m.input.height], demonstration=m.is_demonstration,
                       selected=chosen is not None and chosen.directory == e.directory,
                       labels_off_by_default=[l.name for l in m.labels if not l.enabled_by_default],
                       tiling={k: [t.columns, t.rows] for k, t in m.tiling.items()})
            if args.action == "check":
                try:
                    import numpy as np

                    model = OnnxModel(m)
                    probe = np.full((m.input.height, m.input.width), 100, dtype=np.uint8)
                    model.detect(probe)
                    row["check"] = "ok: sha256 matches, shapes fit, one inference ran"
                except ManifestError as exc:
                    row.update(ok=False, error=str(exc))
        failed |= not row["ok"]
        rows.append(row)
    if args.json:
        _print_json({"models": rows})
    elif not rows:
        print(f"No models found. Put a folder with model.onnx and model.json into {paths.user_models_dir}")
    else:
        for r in rows:
            mark = "*" if r.get("selected") else " "
            if r["ok"]:
                demo = "  (demonstration only — not for clinical use)" if r.get("demonstration") else ""
                print(f"{mark} {r['name']} {r['version']}  [{r['origin']}]  {len(r['labels'])} labels{demo}")
                if r["labels_off_by_default"]:
                    state = ("shown (analysis.unvalidated_labels is on)" if config.analysis.unvalidated_labels else
                             "not shown; `dental-bridge config set analysis.unvalidated_labels true` shows them")
                    print(f"    not validated on real radiographs: {', '.join(r['labels_off_by_default'])} — {state}")
                if r.get("check"):
                    print(f"    {r['check']}")
            else:
                print(f"  {r['directory']}: {r['error']}")
    return 1 if failed and args.action == "check" else 0


def _models_evaluate(args, chosen) -> int:
    from .analysis.evaluate_dataset import DatasetError, format_report, run_evaluation
    from .analysis.manifest import ManifestError
    from .analysis.model import OnnxModel

    if not args.dataset:
        print("error: models evaluate needs a DATASET folder (images + YOLO labels) or a COCO JSON file",
              file=sys.stderr)
        return 2
    if chosen is None:
        print("error: no usable model (see: dental-bridge models list)", file=sys.stderr)
        return 2
    try:
        result = run_evaluation(OnnxModel(chosen.manifest), Path(args.dataset), iou=args.iou,
                                max_pixels=_config(_paths()).intake.max_pixels)
    except (DatasetError, ManifestError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _emit(args, result, format_report)
    return 0


def _read_pin(args, prompt: str = "PIN: ") -> str:
    """A PIN from the terminal, or with --pin-stdin the next line of standard input (so an
    authorising PIN and a new PIN can both be piped, one per line, in the order asked)."""
    if not args.pin_stdin:
        import getpass

        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")


def _authority(args):
    """--as-clinician ID: the dentist or admin who authorises this change (their PIN is read first)."""
    from .review.clinicians import Authority

    cid = getattr(args, "as_clinician", None)
    return None if cid is None else Authority(cid, _read_pin(args, f"PIN of clinician {cid} (authorising): "))


def cmd_clinicians(args) -> int:
    from .review import clinicians as clin
    from .store.db import Database

    db = Database(_paths().database)
    try:
        if args.action == "list":
            rows = clin.list_clinicians(db)
            if args.json:
                _print_json({"clinicians": rows})
            else:
                for r in rows:
                    print(f"{r['id']:>3}  {r['name']:<28} {r['role']:<10}{'  can sign' if r['can_sign'] else ''}"
                          f"{'  LOCKED' if r['locked'] else ''}{'  PIN too short: change it' if r['pin_too_short'] else ''}")
            return 0
        if args.action == "add":
            if not args.name:
                print("error: clinicians add needs a NAME", file=sys.stderr)
                return 2
            authority = _authority(args)
            cid = clin.add_clinician(db, args.name, args.role or "dentist", _read_pin(args, "New clinician's PIN: "),
                                     actor="cli", authority=authority)
            print(f"added clinician {cid}: {' '.join(args.name.split())} ({args.role or 'dentist'})")
            return 0
        target = _clinician_id(args.name)
        if args.action == "set-role":
            if not args.role:
                print("error: clinicians set-role ID needs --role", file=sys.stderr)
                return 2
            clin.set_role(db, target, args.role, authority=_authority(args), actor="cli")
            print(f"clinician {target} is now a {args.role}")
        elif args.action == "set-pin":
            authority = _authority(args)
            if authority is None:  # one's own PIN change: the current PIN authorises it
                authority = clin.Authority(target, _read_pin(args, "Current PIN: "))
            clin.set_pin(db, target, _read_pin(args, "New PIN: "), authority=authority, actor="cli")
            print(f"PIN of clinician {target} changed")
        elif args.action == "remove":
            clin.deactivate(db, target, authority=_authority(args), actor="cli")
            print(f"clinician {target} removed (their signatures stay on record)")
        return 0
    except clin.ClinicianError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()


def _clinician_id(value) -> int:
    from .review.clinicians import ClinicianError

    try:
        return int(value)
    except (TypeError, ValueError):
        raise ClinicianError("give the clinician's id (see: dental-bridge clinicians list)") from None


def cmd_sign(args) -> int:
    from .analysis.catalog import above_floor
    from .review.api import ReviewError
    from .store.db import Database

    paths = _paths()
    db = Database(paths.database)
    api = _review_api(db, paths)
    below = 0
    try:
        study = api.study(args.study)
        findings = [f for im in study["images"] for f in im["findings"] if f["label"] != "tooth"]
        ids = {f["id"] for f in findings}
        if args.accept == "all":  # what the review window shows: proposals under their label's floor stay out
            accept = {f["id"] for f in findings if f["status"] == "proposed" and above_floor(f, api.catalog.floor(f))}
            below = sum(f["status"] == "proposed" and f["id"] not in accept for f in findings)
        else:
            accept = {int(x) for x in args.accept.split(",") if x} if args.accept else set()
        reject = {int(x) for x in args.reject.split(",") if x} if args.reject else set()
        unknown = (accept | reject) - ids
        if unknown:
            raise ReviewError(f"finding(s) {sorted(unknown)} are not in study {args.study}")
        # the PIN is checked before any of these is applied; all of it commits with the signature
        result = api.sign(args.study, args.clinician, _read_pin(args), accept=accept, reject=reject)
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    result["below_floor"] = below
    if result.get("warning"):
        print(f"note: {result['warning']}", file=sys.stderr)
    _emit(args, result, lambda r: f"study {r['study_id']} signed by {r['signed_by']} at {r['signed_at']} "
                                  f"({r['findings']} finding(s); report sha256 {r['report_sha256'][:12]}…)" +
                                  (f"; {below} proposal(s) under their review floor left out" if below else ""))
    return 0


def _write_audit_export(path: Path, entries: list[dict]) -> None:
    import csv

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
    from .retention import purge
    from .sources.dicom_scp import inbox_dir

    paths = _paths()
    config = _config(paths)
    with _database(paths) as db:
        result = purge(db, paths.cache_dir, config.governance.retention_days, inbox_dir=inbox_dir(paths.data_dir),
                       dry_run=args.dry_run)
    verb = "would purge" if args.dry_run else "purged"
    _emit(args, result, lambda r: f"{verb} {r['images']} cached image(s), {r['rendered_files']} rendered file(s) "
                                  f"and {r['inbox_files']} DICOM inbox file(s) of studies from before "
                                  f"{r['cutoff'][:10]} (exports still waiting keep theirs)")
    return 0


def cmd_pilot(args) -> int:
    from . import pilot

    with _database() as db:
        try:
            result = pilot.from_chart_csv(db, Path(args.chart)) if args.chart else pilot.from_reviews(db)
        except (OSError, ValueError, KeyError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    _emit(args, result, pilot.format_report)
    return 0


def cmd_automation(args) -> int:
    """Targeted automation: the studies that went out unverified, awaiting a dentist's signature."""
    from . import automation

    paths = _paths()
    config = _config(paths)
    with _database(paths) as db:
        decided = automation.run_pass(db, config.governance, list(config.export.destinations)) \
            if args.action == "run" else []
        result = {"rollout": config.governance.rollout, "destinations": list(config.export.destinations),
                  "decided": decided, "unverified": automation.unverified(db)}
    _emit(args, result, _format_automation)
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


def cmd_audit(args) -> int:
    from . import audit

    with _database() as db:
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
        _print_json(result.__dict__)
    elif result.ok:
        where = {"keyring": "the OS keyring", "file": "a file next to the database (no OS keyring here: weaker)"}
        print(f"audit log intact: {result.entries} entries" + (
            f"; keyed, anchored at entry {result.anchor} in {where[result.key_store]}" if result.keyed else
            "; written before the log was keyed, keyed from now on"))
    else:
        print(f"audit log BROKEN at entry {result.first_bad_seq}: {result.problem}")
    return 0 if result.ok else 1


def _authority_args(p) -> None:
    p.add_argument("--as-clinician", type=int, metavar="ID",
                   help="the dentist or admin authorising the change (rollout, export destinations, clinicians)")
    p.add_argument("--pin-stdin", action="store_true",
                   help="read PINs from standard input, one per line: the authorising PIN first, then a new PIN")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dental-bridge", description="Dental AI Bridge: local AI findings for radiographs.")
    p.add_argument("--version", action="version", version=f"dental-bridge {__version__}")
    sub = p.add_subparsers(dest="command")

    run = sub.add_parser("run", help="watch folders and analyse (tray + review window; --headless for services only)")
    run.add_argument("--headless", action="store_true", help="services only, log to stderr, Ctrl-C stops")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="a demo workspace with generated radiographs, analysed by the bundled model")
    demo.add_argument("--headless", action="store_true")
    demo.add_argument("--once", action="store_true", help="process the demo images, print the queue and exit")
    demo.set_defaults(func=cmd_demo)

    rv = sub.add_parser("review", help="open the review window (or render it to a PNG)")
    rv.add_argument("--study", type=int, help="study to open")
    rv.add_argument("--screenshot", metavar="FILE", help="render the window offscreen to FILE (PNG) and exit")
    rv.add_argument("--size", default="1366x768", help="window size for --screenshot, WIDTHxHEIGHT")
    rv.set_defaults(func=cmd_review)

    ingest = sub.add_parser("ingest", help="process files or folders now; one result per file")
    ingest.add_argument("paths", nargs="+")
    ingest.add_argument("--json", action="store_true", help="one JSON object per line (docs/cli.md)")
    ingest.set_defaults(func=cmd_ingest)

    q = sub.add_parser("queue", help="studies awaiting review, with findings")
    q.add_argument("--json", action="store_true")
    q.add_argument("--all", action="store_true", help="include signed and exported studies")
    q.set_defaults(func=cmd_queue)

    cfg = sub.add_parser("config", help="show or change settings")
    cfg_sub = cfg.add_subparsers(dest="action", required=True)
    show = cfg_sub.add_parser("show")
    show.add_argument("--json", action="store_true")
    s = cfg_sub.add_parser("set", help="e.g. intake.settle_seconds 3")
    s.add_argument("key")
    s.add_argument("value")
    _authority_args(s)
    add = cfg_sub.add_parser("add-source", help="watch a folder (UNC paths welcome)")
    add.add_argument("path")
    add.add_argument("--kind", default="auto", choices=["auto", "native", "polling"])
    add.add_argument("--template", help="file-name template for non-DICOM files, e.g. {chart}_{last}_{first}_{date:%%Y%%m%%d}_{seq}")
    add.add_argument("--patient-id", default="chartnumber", choices=["patnum", "chartnumber"],
                     help="what the patient id in these files means in the PMS")
    rm = cfg_sub.add_parser("remove-source")
    rm.add_argument("path")
    cfg.set_defaults(func=cmd_config)

    models = sub.add_parser("models", help="installed models: list, check, evaluate DATASET")
    models.add_argument("action", choices=["list", "check", "evaluate"])
    models.add_argument("dataset", nargs="?", help="for evaluate: folder of images + YOLO labels, or COCO JSON")
    models.add_argument("--model", help="model name (default: the one in use)")
    models.add_argument("--iou", type=float, default=0.5)
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=cmd_models)

    cl = sub.add_parser("clinicians", help="clinicians who review and sign (PINs are stored as scrypt hashes)")
    cl.add_argument("action", choices=["list", "add", "set-role", "set-pin", "remove"])
    cl.add_argument("name", nargs="?", help="add: the NAME; set-role, set-pin, remove: the clinician's ID")
    cl.add_argument("--role", choices=["dentist", "hygienist", "assistant", "admin"],
                    help="add: the role (default dentist); set-role: the new role")
    _authority_args(cl)
    cl.add_argument("--json", action="store_true")
    cl.set_defaults(func=cmd_clinicians)

    sg = sub.add_parser("sign", help="sign a reviewed study (dentists only)")
    sg.add_argument("study", type=int)
    sg.add_argument("--clinician", type=int, required=True)
    sg.add_argument("--pin-stdin", action="store_true")
    sg.add_argument("--accept", help="'all' or comma-separated finding ids to accept before signing")
    sg.add_argument("--reject", help="comma-separated finding ids to reject before signing")
    sg.add_argument("--json", action="store_true")
    sg.set_defaults(func=cmd_sign)

    au = sub.add_parser("audit", help="audit log")
    au.add_argument("action", choices=["verify", "export"])
    au.add_argument("file", nargs="?", help="for export: FILE.csv or FILE.json")
    au.add_argument("--from", dest="date_from", help="YYYY-MM-DD")
    au.add_argument("--to", dest="date_to", help="YYYY-MM-DD")
    au.add_argument("--patient", help="patient id (chart number or PatNum as recorded)")
    au.add_argument("--json", action="store_true")
    au.set_defaults(func=cmd_audit)

    pl = sub.add_parser("pilot", help="compare silent-pilot findings with what clinicians recorded")
    pl.add_argument("action", choices=["report"])
    pl.add_argument("--chart", help="CSV of chart findings (patient_id, tooth, label) instead of review decisions")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=cmd_pilot)

    am = sub.add_parser("automation", help="targeted automation: list unverified automatic exports (or run a pass)")
    am.add_argument("action", nargs="?", choices=["list", "run"], default="list")
    am.add_argument("--json", action="store_true")
    am.set_defaults(func=cmd_automation)

    from .export.commands import add_parsers as add_export_parsers

    add_export_parsers(sub)  # export, secrets set opendental, doctor

    pg = sub.add_parser("purge", help="delete our copies of radiographs (cache, rendered exports, DICOM inbox) "
                                      "past the retention period")
    pg.add_argument("--dry-run", action="store_true")
    pg.add_argument("--json", action="store_true")
    pg.set_defaults(func=cmd_purge)
    return p


def main(argv: list[str] | None = None) -> int:
    from .logging_setup import ensure_std_streams

    ensure_std_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        args = parser.parse_args(["run", *(argv or sys.argv[1:])])
    from .config import ConfigError

    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
