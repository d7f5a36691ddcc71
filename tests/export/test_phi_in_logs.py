"""Issue 22 item 13: after a full export to the loopback Open Dental server, the log file holds
none of the identifiers the test used (chart number, PatNum, names, birth date)."""

from __future__ import annotations

import logging
import re

from tray_app.export.outbox import Outbox
from tray_app.logging_setup import setup_logging

from .conftest import PATIENTS, od_config


def test_log_after_a_full_export_names_no_patient(workspace, od_server, od_keys, clock, tmp_path):
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    log_file = setup_logging(tmp_path / "logs", to_stderr=False, level=logging.DEBUG)
    try:
        for key in ("A", "B", "D"):  # by PatNum, by chart number, and one Open Dental does not know
            workspace.sign(key)
        results = Outbox(workspace.db, od_config(od_server), clock=clock).drain_once()
        assert sorted(r["state"] for r in results) == ["done", "done", "needs_attention"]
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
            h.close()
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
    text = log_file.read_text(encoding="utf-8")
    assert "export" in text  # the export did log (ids only)
    identifiers = set()
    for key in ("A", "B", "D"):
        pid, _, rec = PATIENTS[key]
        identifiers.add(pid)
        if rec:
            pat_num, last, first, birth, chart = rec
            identifiers |= {str(pat_num), last, first, birth, birth.replace("-", "")} | ({chart} if chart else set())
    leaked = sorted(i for i in identifiers if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text))
    assert not leaked, [line for line in text.splitlines() if any(i in line for i in leaked)][:5]
