"""Renders the review window over the demo workspace to docs/screenshots/.

    QT_QPA_PLATFORM=offscreen python tests/ui/make_screenshots.py [OUT_DIR]

The demo workspace (5 patients, 27 radiographs, tray_app.demo.workspace) is ingested with
the test stub detector installed as "dental-demo" (demonstration-only manifest), two
clinicians are added, a few findings are reviewed and one study is signed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(out_dir: Path) -> None:
    from tray_app.demo.workspace import PATIENTS
    from tray_app.review.api import ReviewAPI
    from tray_app.store.db import Database
    from tray_app.ui.launch import _app, _settle, _split, build_window, screenshot
    from ui_home import DENTIST, build_home

    root = Path(tempfile.mkdtemp(prefix="review-shots-"))
    os.environ["DENTAL_BRIDGE_HOME"] = str(root)
    paths = build_home(root, patients=PATIENTS, model_name="dental-demo", demonstration=True)
    db = Database(paths.database)
    api = ReviewAPI(db)
    studies = {s["patient"]["id"]: s for s in api.queue()}
    # some review work: Alice's first two findings decided, Bruno signed
    alice = studies["DEMO001"]
    fs = [f for im in alice["images"] for f in im["findings"] if f["label"] != "tooth"]
    api.accept(fs[0]["id"], actor="demo")
    api.reject(fs[1]["id"], actor="demo")
    bruno = studies["DEMO002"]
    bf = [f for im in bruno["images"] for f in im["findings"] if f["label"] != "tooth"]
    api.accept(bf[0]["id"], actor="demo")
    dentist = next(c for c in api.clinicians() if c["name"] == DENTIST[0])
    api.sign(bruno["id"], dentist["id"], DENTIST[2])
    top = api.queue()[0]["id"]
    db.close()

    out_dir.mkdir(parents=True, exist_ok=True)
    screenshot(paths, top, out_dir / "review-1366.png", size=(1366, 768))
    screenshot(paths, top, out_dir / "review-2560.png", size=(2560, 1440))
    screenshot(paths, alice["id"], out_dir / "review-1366-bitewings.png", size=(1366, 768))
    screenshot(paths, bruno["id"], out_dir / "review-1366-signed.png", size=(1366, 768))

    # the sign-off dialog over Alice's study
    app = _app()
    w = build_window(paths, None, size=(1366, 768), poll_ms=0)
    w.show()
    _split(w)
    w.open_study(alice["id"])
    _settle(app, w)
    dlg = w.open_sign_dialog()
    dlg.resize(720, 640)
    app.processEvents()
    dlg.grab().save(str(out_dir / "review-sign-dialog.png"))
    dlg.close()
    w.close()
    w.db_handle.close()
    print(f"screenshots in {out_dir} (home {root})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "docs" / "screenshots")
