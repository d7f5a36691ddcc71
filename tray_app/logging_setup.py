"""Rotating file log in the home's logs/ folder; stderr too when there is a console.

Log lines name images by id, never by patient: paths of raster exports often carry the
patient's name, so they are not logged either.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path


def ensure_std_streams() -> None:
    # A windowed (console=False) frozen app starts with sys.stdout/stderr = None.
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")
    # a Windows pipe or file is in the ANSI code page (cp1252): a patient name or an arrow outside
    # it must not crash a command whose output is redirected; it prints as "?" instead
    out = sys.stdout
    if hasattr(out, "reconfigure") and (out.encoding or "").lower().replace("-", "") != "utf8":
        out.reconfigure(errors="replace")


def setup_logging(log_dir: Path, *, to_stderr: bool, level: int = logging.INFO) -> Path:
    ensure_std_streams()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "dental-bridge.log"
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=5 * 2**20, backupCount=5, encoding="utf-8")
    file_handler.setFormatter(fmt)
    root.addHandler(file_handler)
    if to_stderr:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
        root.addHandler(console)
    root.setLevel(level)
    # httpx logs every request line at INFO: Open Dental URLs carry ChartNumber= and PatNums
    for noisy in ("watchdog", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return log_file
