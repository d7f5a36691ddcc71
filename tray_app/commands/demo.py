"""`demo`: a demo workspace with generated radiographs, run like `run`.

A module of its own so that `run` never loads the generator and pydicom (about 25 MiB of a
headless service's resident memory).
"""

from __future__ import annotations

from ..demo.workspace import run_demo
from .ingest import show_queue
from .run import has_display, run_service, run_with_window


def cmd_demo(args) -> int:
    return run_demo(headless=args.headless or not has_display(), once=args.once, explicit_headless=args.headless,
                    run_service=run_service, run_window=run_with_window, show_queue=show_queue)


def add_arguments(command: str, p) -> None:
    p.add_argument("--headless", action="store_true")
    p.add_argument("--once", action="store_true", help="process the demo images, print the queue and exit")
    p.set_defaults(func=cmd_demo)
