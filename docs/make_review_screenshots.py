"""Documentation screenshots of the review window, from a real demo run.

    python docs/make_review_screenshots.py [OUT_DIR]          (default: docs/screenshots)

A fresh temporary home gets the demo workspace (the 31 generated radiographs of
`dental-bridge demo`), processed once by the bundled model: the findings shown are the model's
own, as a newcomer sees them. A dentist is added, a little review is done (one study's first
shown findings accepted and rejected, another study signed) and the review window is rendered
offscreen to review-1366.png, review-2560.png, review-1366-bitewings.png, review-1366-signed.png
and review-sign-dialog.png. Run it again whenever the bundled model changes.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["QT_QPA_PLATFORM"] = "offscreen"
DENTIST = ("Dr. Dana Molar", "dentist", "246813")


def make_demo_home() -> Path:
    """`dental-bridge demo --headless --once` into a temporary home; returns the home."""
    home = Path(tempfile.mkdtemp(prefix="dab-screenshots-")) / "demo"
    os.environ["DENTAL_BRIDGE_HOME"] = str(home)
    from tray_app.demo.workspace import run_demo

    with contextlib.redirect_stdout(io.StringIO()):
        run_demo(headless=True, once=True, explicit_headless=True, run_service=None)
    return home


def review_some(paths) -> dict[str, int]:
    """A dentist, a few decisions and one signature; returns the study ids to show by chart number."""
    from tray_app.analysis.catalog import ModelCatalog, above_floor
    from tray_app.app import model_search_dirs
    from tray_app.config import Config
    from tray_app.review.api import ReviewAPI
    from tray_app.review.clinicians import add_clinician
    from tray_app.store.db import Database

    db = Database(paths.database)
    try:
        api = ReviewAPI(db, Config.load(paths.config_file), ModelCatalog(model_search_dirs(paths)))
        dentist = add_clinician(db, *DENTIST)
        studies = {s["patient"]["id"]: s for s in api.queue()}
        if not {"DEMO001", "DEMO002"} <= set(studies):
            raise SystemExit(f"the demo run made no studies for DEMO001/DEMO002 (got {sorted(studies)})")

        def shown(study):  # what the window shows at first: findings at or above their label's floor
            return [f for im in study["images"] for f in im["findings"]
                    if f["label"] != "tooth" and above_floor(f, api.catalog.floor(f))]

        alice = shown(studies["DEMO001"])
        if alice:
            api.accept(alice[0]["id"], actor="screenshots")
        if len(alice) > 1:
            api.reject(alice[1]["id"], actor="screenshots")
        for f in shown(studies["DEMO002"]):
            api.accept(f["id"], actor="screenshots")
        api.sign(studies["DEMO002"]["id"], dentist, DENTIST[2])
        return {"top": api.queue()[0]["id"], "bitewings": studies["DEMO001"]["id"],
                "signed": studies["DEMO002"]["id"]}
    finally:
        db.close()


def main(out_dir: Path) -> None:
    from tray_app.config import Paths
    from tray_app.ui.launch import _app, _settle, _split, build_window, screenshot

    home = make_demo_home()
    paths = Paths.resolve().ensure()
    ids = review_some(paths)
    out_dir.mkdir(parents=True, exist_ok=True)
    screenshot(paths, ids["top"], out_dir / "review-1366.png", size=(1366, 768))
    screenshot(paths, ids["top"], out_dir / "review-2560.png", size=(2560, 1440))
    screenshot(paths, ids["bitewings"], out_dir / "review-1366-bitewings.png", size=(1366, 768))
    screenshot(paths, ids["signed"], out_dir / "review-1366-signed.png", size=(1366, 768))

    app = _app()  # the sign-off dialog over the bitewing study
    w = build_window(paths, None, size=(1366, 768), poll_ms=0)
    w.show()
    _split(w)
    w.open_study(ids["bitewings"])
    _settle(app, w)
    dialog = w.open_sign_dialog()
    dialog.resize(720, 640)
    app.processEvents()
    dialog.grab().save(str(out_dir / "review-sign-dialog.png"))
    dialog.close()
    w.close()
    w.db_handle.close()
    print(f"review screenshots in {out_dir} (demo home {home})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
