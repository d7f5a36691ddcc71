"""The UI package's shape (issue 17): the tray's queries come from the store, not a feature
module; a review window that wires its parts instead of building each widget. (No SQL and no
oversized module anywhere: tests/test_structure.py.)"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_structure  # noqa: E402

UI = test_structure.PACKAGE / "ui"


def test_the_tray_takes_no_query_from_a_feature_module():
    # its count of unverified automated exports once imported SQL from automation.py
    assert "tray_app.automation" not in test_structure.import_graph()["tray_app.ui.tray_state"]


def test_the_review_window_init_only_wires_its_parts():
    tree = ast.parse((UI / "review_window.py").read_text(encoding="utf-8"))
    window = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ReviewWindow")
    init = next(n for n in window.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    assert init.end_lineno - init.lineno + 1 <= 60
