"""How long retake advice takes to reach the tray, measured with a real service: the watcher,
readiness monitor, analysis worker with the bundled model, the quality step, and the tray shell
(AppShell, offscreen Qt, dummy pystray) with its real 3 s state poll and the advice bell.

`python -m tests.quality.latency [N]` writes N radiographs with a cone cut into a watched folder,
one at a time, and prints, per image, the seconds from the file becoming ready (the readiness
monitor's `mark_ready`) to the tray's "Retake advised" notification. Never run as a test: times
on a shared machine are reported, not asserted."""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYSTRAY_BACKEND", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from tray_app.demo import defects, synth  # noqa: E402
from tray_app.demo.writers import write_dicom  # noqa: E402
from tray_app.sources import readiness  # noqa: E402


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    root = Path(tempfile.mkdtemp(prefix="quality-latency-"))
    os.environ["DENTAL_BRIDGE_HOME"] = str(root / "home")
    import keyring
    from memory_keyring import MemoryKeyring
    from service_helpers import fast_config

    from tray_app.app import Service
    from tray_app.config import Paths
    from tray_app.ui.app_shell import AppShell, ensure_app

    keyring.set_keyring(MemoryKeyring())
    ready_at: dict[int, float] = {}
    real_mark_ready = readiness.image_repo.mark_ready_many

    def mark_ready_many(db, versions):
        promoted = real_mark_ready(db, versions)
        for image_id in promoted:
            ready_at.setdefault(image_id, time.monotonic())
        return promoted

    readiness.image_repo.mark_ready_many = mark_ready_many
    export = root / "export"
    export.mkdir()
    paths = Paths.resolve().ensure()
    config = fast_config(export)
    config.save(paths.config_file)
    app = ensure_app()
    service = Service(config, paths)
    shell = AppShell(service, paths, config, quit_app=lambda: None)
    said: list[float] = []
    notify = shell.tray.notify
    shell.tray.notify = lambda title, message: (said.append(time.monotonic()) if title == "Retake advised" else None,
                                                notify(title, message))
    shell.start(first_run=False)
    rows = []
    try:
        for i in range(n):
            s = synth.generate_sample(("bitewing", "periapical")[i % 2], 40_000 + i)
            bad = dataclasses.replace(s, image=defects.cone_cut(synth.to_uint8(s), np.random.default_rng(i)), bits_stored=8)
            tmp = export / f".{i}.tmp"
            write_dicom(bad, tmp, patient_id=f"L{i}", patient_name="LATENCY^TEST", birth_date="19800101")
            os.replace(tmp, export / f"img{i}.dcm")  # arrives whole, as imaging software renames it in
            before = len(said)
            deadline = time.monotonic() + 60
            while len(said) == before and time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.01)
            image_id = max(ready_at) if ready_at else None
            rows.append(said[-1] - ready_at[image_id] if len(said) > before and image_id else float("nan"))
            print(f"image {i + 1}: " + (f"{rows[-1]:.2f} s from ready to the tray" if rows[-1] == rows[-1]
                                         else "no advice within 60 s (the check missed this cut)"), flush=True)
            for _ in range(30):  # let the notifier's state settle before the next image
                app.processEvents()
                time.sleep(0.01)
    finally:
        shell.shutdown()
    done = np.array(rows)
    print(f"n={n}  median {np.nanmedian(done):.2f} s  max {np.nanmax(done):.2f} s  "
          f"over 3 s: {int(np.sum(done > 3))}  not advised: {int(np.isnan(done).sum())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
