"""What must load before Qt. (That the core never imports Qt is the import-linter contract in
pyproject.toml, checked by tests/test_cli.py.)"""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
UI_MODULES = sorted(p.stem for p in (ROOT / "tray_app" / "ui").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", UI_MODULES)
def test_onnxruntime_loads_before_qt_from_every_ui_module(module):
    """On Windows Qt's older MSVC runtime breaks onnxruntime's DLL init if Qt comes first."""
    code = (f"import sys, tray_app.ui.{module}\n"
            "names = list(sys.modules)\n"
            "qt = [i for i, n in enumerate(names) if n.startswith(('PySide6', 'shiboken6'))]\n"
            "print(names.index('onnxruntime'), min(qt) if qt else -1)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYSTRAY_BACKEND": "dummy", "QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert out.returncode == 0, out.stderr
    ort, qt = map(int, out.stdout.split())
    assert qt == -1 or ort < qt

