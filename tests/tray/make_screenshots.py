"""Renders the settings window and the first-run wizard offscreen to docs/screenshots/.

    QT_QPA_PLATFORM=offscreen PYSTRAY_BACKEND=dummy python tests/tray/make_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYSTRAY_BACKEND", "dummy")
OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="shots-"))
    os.environ["DENTAL_BRIDGE_HOME"] = str(home)
    from PIL import Image
    from PySide6.QtWidgets import QApplication

    from tray_app.config import Config, Paths, SourceConfig
    from tray_app.review.clinicians import Authority, add_clinician
    from tray_app.store.db import Database
    from tray_app.ui.app_shell import DEMO_NOTE, ensure_app
    from tray_app.ui.settings_window import SettingsWindow
    from tray_app.ui.wizard import FirstRunWizard

    app = ensure_app()
    paths = Paths.resolve().ensure()
    share = home / "imaging-export"
    share.mkdir()
    for i in range(3):
        (share / f"DEMO00{i}_01.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 64)
    Image.new("L", (8, 8)).save(share / "A1234_Smith_Jane_20261128_01.png")
    (share / "Thumbs.db").write_bytes(b"x")
    db = Database(paths.database)
    dentist = add_clinician(db, "Dr. Ada Lopez", "dentist", "482193")
    add_clinician(db, "Sam Reyes", "hygienist", "1357", authority=Authority(dentist, "482193"))
    db.close()
    config = Config(sources=[SourceConfig(path=str(share)), SourceConfig(path=r"\\frontdesk-pc\xrays\pano",
                                                                         kind="polling", patient_id="patnum")])
    OUT.mkdir(parents=True, exist_ok=True)

    w = SettingsWindow(paths, config, autostart_supported=True, model_text="dental-demo 1.0.0 (demonstration)")
    w.resize(860, 600)
    w.show()
    w.folders_page.folder.run_test()
    for _ in range(100):
        app.processEvents()
        if w.folders_page.folder.result.text().startswith("Would"):
            break
        import time

        time.sleep(0.02)
    for i in range(w.tabs.count()):
        w.tabs.setCurrentIndex(i)
        app.processEvents()
        name = w.tabs.tabText(i).lower().replace(" ", "-")
        w.grab().save(str(OUT / f"settings-{name}.png"))
    w.tabs.setCurrentIndex(1)
    w.analysis_page.urgent.setValue(7.0)
    w.save()
    app.processEvents()
    w.grab().save(str(OUT / "settings-refused.png"))
    w.close()

    wz = FirstRunWizard(paths, Config(), autostart_supported=True, demonstration_note=DEMO_NOTE)
    wz.resize(720, 540)
    wz.show()
    names = ["welcome", "role", "folder", "patient-id", "clinician", "done"]
    wz.folder_page.editor.path.setText(str(share))
    wz.clinician_page.name.setText("Dr. Ada Lopez")
    wz.clinician_page.pin.setText("482193")
    wz.clinician_page.pin2.setText("482193")
    for i, name in enumerate(names):
        app.processEvents()
        if name == "folder":
            wz.folder_page.editor.run_test()
            for _ in range(100):
                app.processEvents()
                if wz.folder_page.editor.result.text().startswith("Would"):
                    break
                import time

                time.sleep(0.02)
        wz.grab().save(str(OUT / f"wizard-{i + 1}-{name}.png"))
        if i < len(names) - 1:
            wz.next()
    wz.close()

    # a reviewing PC's page (as after "Show the hub's fingerprint") and the hub's pairing dialog
    from tray_app.ui.hub_tray import PairingDialog, fingerprint_html

    fp = ":".join(f"{(i * 37 + 11) % 256:02X}" for i in range(32))  # made up: no real hub here
    wz = FirstRunWizard(paths, Config(), autostart_supported=True)
    wz.resize(720, 540)
    wz.show()
    wz.next()
    wz.role_page.reviews.setChecked(True)
    app.processEvents()
    wz.grab().save(str(OUT / "wizard-client-1-role.png"))
    wz.next()
    page = wz.client_page
    page.url.setText("https://front-desk:8743")
    page.fingerprint.setText(fingerprint_html(fp))
    page.same.setEnabled(True)
    page.same.setChecked(True)
    page.code.setText("K7PX-3MWQ")
    page.name.setText("Operatory 3")
    for _ in range(5):
        app.processEvents()
    wz.grab().save(str(OUT / "wizard-client-2-hub.png"))
    wz.close()
    dialog = PairingDialog("K7PX-3MWQ", 10, fp)
    dialog.show()
    for _ in range(5):
        app.processEvents()
    dialog.grab().save(str(OUT / "hub-pairing-dialog.png"))
    dialog.close()
    print(f"wrote screenshots to {OUT}")
    QApplication.quit()


if __name__ == "__main__":
    sys.exit(main())
