"""The UI package's shape (issue 17): no SQL (its queries are `store/status.py`'s), rooms small
enough to read, a review window that wires its parts instead of building each widget."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_structure  # noqa: E402

UI = test_structure.PACKAGE / "ui"
SETTINGS_ROOMS = {"settings_window.py", "settings_model.py", "wizard.py"}  # the settings pages' own split


def test_the_ui_package_holds_no_sql():
    in_ui = [hit for hit in test_structure.sql_outside_store() if hit.startswith("ui/")]
    assert in_ui == []


def test_the_tray_takes_no_query_from_a_feature_module():
    # its count of unverified automated exports once imported SQL from automation.py
    assert "tray_app.automation" not in test_structure.import_graph()["tray_app.ui.tray_state"]


def test_ui_modules_stay_under_the_size_limit():
    big = {p.name: n for p in UI.glob("*.py") if p.name not in SETTINGS_ROOMS
           and (n := len(p.read_text(encoding="utf-8").splitlines())) > test_structure.MAX_LINES}
    assert big == {}


def test_the_review_window_init_only_wires_its_parts():
    tree = ast.parse((UI / "review_window.py").read_text(encoding="utf-8"))
    window = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ReviewWindow")
    init = next(n for n in window.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    assert init.end_lineno - init.lineno + 1 <= 60
