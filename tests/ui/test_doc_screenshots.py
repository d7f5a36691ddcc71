"""The documentation's review screenshots come from a real demo run (docs/make_review_screenshots.py):
the bundled model's own findings on the demo radiographs, never a test fixture's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SHOTS = {"review-1366.png": (1366, 768), "review-2560.png": (2560, 1440), "review-1366-bitewings.png": (1366, 768),
         "review-1366-signed.png": (1366, 768)}


def test_the_screenshot_script_renders_a_demo_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DENTAL_BRIDGE")}
    res = subprocess.run([sys.executable, str(ROOT / "docs" / "make_review_screenshots.py"), str(tmp_path)],
                         env=env, capture_output=True, text=True, timeout=280)
    assert res.returncode == 0, res.stderr[-3000:]
    for name, size in SHOTS.items():
        with Image.open(tmp_path / name) as im:
            assert im.size == size, name
    assert (tmp_path / "review-sign-dialog.png").is_file()
    home = Path(res.stdout.strip().rsplit("(demo home ", 1)[1].rstrip(")"))
    from tray_app.store.db import Database

    db = Database(home / "data" / "bridge.sqlite3")
    try:  # the bundled model's findings, on the 31 demo radiographs
        models = {r[0] for r in db.query("SELECT DISTINCT model_name FROM findings")}
        assert models == {"dental-demo"}
        assert db.one("SELECT COUNT(*) FROM images WHERE state IN ('analyzed','signed')")[0] == 31
    finally:
        db.close()


def test_no_test_helper_writes_review_pictures_into_docs():
    for path in (ROOT / "tests").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "review-1366" not in text or path.name == Path(__file__).name, path
