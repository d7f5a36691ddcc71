"""`run`, `review`: the service and its windows (`demo` builds on them: demo.py)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

from ..app import Service
from ..config import PATIENT_ID_MEANINGS
from ..logging_setup import setup_logging
from ..review.api import ReviewError
from ..settings_file import SettingsFile, replace_service
from .shared import load_config, load_paths, practice_or_demo

log = logging.getLogger("tray_app.cli")


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_service(service, *, once: bool, stop: threading.Event | None = None, settings=None, rebuild=None) -> int:
    """Runs until SIGTERM/Ctrl-C (or `stop`); with `settings` (a SettingsFile) and `rebuild`
    (config -> Service), a changed settings file restarts the service with it."""
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


def run_with_window(service, paths, config) -> int:
    """The tray app: services on worker threads; tray, review window and settings on the Qt
    main thread (`run_app` starts and stops the service)."""
    from ..ui.app_shell import run_app  # Qt: loaded only when a window opens

    return run_app(service, paths, config)


def cmd_run(args) -> int:
    paths = load_paths()
    headless = args.headless or not has_display()
    setup_logging(paths.log_dir, to_stderr=headless)
    if not args.headless and not has_display():
        print("No display found: running headless (services only). Stop with Ctrl-C.", file=sys.stderr)
    config = load_config(paths)
    if not config.sources:
        print("No watch folders are configured yet. Add one with:\n"
              "  dental-bridge config add-source \\\\server\\share\\xrays", file=sys.stderr)
    service = Service(config, paths)
    if headless:
        return run_service(service, once=False, settings=SettingsFile(paths.config_file, config, paths.database),
                           rebuild=lambda cfg: Service(cfg, paths))
    return run_with_window(service, paths, config)


def cmd_review(args) -> int:
    paths = load_paths()
    request = {"study": args.study, "patient": args.patient, "id_kind": args.id_kind}
    # a chart link is the practice's, never the demo; a client home's studies are on its hub
    paths, config = practice_or_demo(paths, "opening", allowed=args.patient is None)
    setup_logging(paths.log_dir, to_stderr=False)
    if args.screenshot:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            print("error: --size is WIDTHxHEIGHT, e.g. 1366x768", file=sys.stderr)
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # render without flashing a window on screen
        from ..ui.launch import screenshot  # Qt

        try:
            problem = screenshot(paths, args.study, Path(args.screenshot), (w, h), request=request)
        except ReviewError as exc:  # a client home whose hub does not answer, or an unpaired one
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {args.screenshot}")
        if problem:
            print(problem, file=sys.stderr)
            return 1
        return 0
    if not has_display():
        print("No display found: the review window needs one (use --screenshot FILE to render it offscreen).",
              file=sys.stderr)
        return 2
    from ..ui.launch import forward_to_running, run_review_window  # Qt

    if forward_to_running(paths, request):
        return 0  # the tray app of this profile opens it in its own review window
    try:
        return run_review_window(paths, config, request)
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def add_arguments(command: str, p) -> None:
    if command == "run":
        p.add_argument("--headless", action="store_true", help="services only, log to stderr, Ctrl-C stops")
        p.set_defaults(func=cmd_run)
    elif command == "review":
        p.add_argument("--study", type=int, help="study to open")
        p.add_argument("--patient", metavar="ID",
                       help="open the newest study of this patient (an Open Dental Program Link passes [PatNum] "
                            "or [ChartNumber]: docs/program-link.md)")
        p.add_argument("--id-kind", choices=PATIENT_ID_MEANINGS,
                       help="what --patient is; default: what the watch folders' patient ids are")
        p.add_argument("--screenshot", metavar="FILE", help="render the window offscreen to FILE (PNG) and exit")
        p.add_argument("--size", default="1366x768", help="window size for --screenshot, WIDTHxHEIGHT")
        p.set_defaults(func=cmd_review)
