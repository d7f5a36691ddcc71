"""The review hub over loopback (issue 18's targets): a queue of N studies loaded by a paired
client, one study's detail, and a review action's round trip, against a real
`dental-bridge run --headless` hub process with `[hub] enabled`.

An image switch is what the client's review window does when another image is chosen: the
hub's PNG of that image fetched over the pinned connection and decoded to pixels
(`RemoteReviewAPI.pixels`); the first fetch of each image makes the hub's PNG (`image_first_ms`),
later ones come from the hub's memory cache (`image_switch_ms`, the issue's ≤ 150 ms).

`python -m bench.hub_timing [--studies 50] [--json]` (temporary home, bundled model; the token
goes to a throw-away keyring file).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def run(n_studies: int) -> dict:
    from tray_app.config import Config, IntakeConfig, Paths, SourceConfig
    from tray_app.demo.synth import generate_batch
    from tray_app.demo.writers import write_dicom
    from tray_app.hub.client import HubClient
    from tray_app.hub.pairing import new_code
    from tray_app.hub.remote_api import RemoteReviewAPI
    from tray_app.hub.tls import ensure_certificate, fingerprint
    from tray_app.settings.hub import HubConfig
    from tray_app.store.db import Database

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        os.environ["DENTAL_BRIDGE_HOME"] = str(home)
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"  # never the user's keyring
        folder = Path(tmp) / "export"
        folder.mkdir()
        for i, sample in enumerate(generate_batch(n_studies, seed=518, kinds=("bitewing", "periapical"))):
            write_dicom(sample, folder / f"{i}.dcm", patient_id=f"H{i}", patient_name=f"Bench^P{i}",
                        birth_date="19800101", study_uid=f"1.2.826.0.1.3680043.10.518.{i + 1}")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        paths = Paths.resolve().ensure()
        Config(sources=[SourceConfig(path=str(folder), kind="polling")],
               intake=IntakeConfig(settle_seconds=0.3, poll_seconds=0.5),
               hub=HubConfig(enabled=True, port=port, bind_address="127.0.0.1")).save(paths.config_file)
        db = Database(paths.database)
        proc = subprocess.Popen([sys.executable, "-m", "tray_app", "run", "--headless"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            t0 = time.monotonic()
            while db.one("SELECT COUNT(*) FROM studies WHERE status='new'")[0] < n_studies:
                if time.monotonic() - t0 > 900 or proc.poll() is not None:
                    raise SystemExit("the hub did not analyse the studies")
                time.sleep(0.5)
            fp = fingerprint(ensure_certificate(paths.data_dir))
            client = HubClient(f"https://127.0.0.1:{port}", fp, token="")
            client.token = client._call("POST", "/pair", {"code": new_code(db), "name": "Bench"})["token"]
            queue = client.queue()
            first = queue[0]["id"]
            finding = next(f["id"] for im in client.study(first)["images"] for f in im["findings"]
                           if f["label"] != "tooth")
            connect = _timed(lambda: HubClient(client.url, fp, token=client.token).close(), 5)
            queue_times = _timed(client.queue, 10)
            study_times = _timed(lambda: client.study(first), 10)
            actions = []
            for i in range(20):
                t = time.perf_counter()
                (client.accept if i % 2 == 0 else client.reject)(finding)
                actions.append(time.perf_counter() - t)
            version_times = _timed(client.version, 20)
            remote = RemoteReviewAPI(client)
            image_ids = [im["id"] for s in queue for im in s["images"]][:10]
            first_fetch = [_timed(lambda: remote.pixels(i), 1)[0] for i in image_ids]
            switches = [_timed(lambda: remote.pixels(i), 1)[0] for _ in range(3) for i in image_ids]
            size = remote.pixels(image_ids[0]).shape
            png_bytes = len(client.fetch(f"/images/{image_ids[0]}/pixels")[1])
            client.close()
            return {"image_px": f"{size[1]}x{size[0]}", "image_png_bytes": png_bytes,
                    "image_first_ms": _median_ms(first_fetch), "image_switch_ms": _median_ms(switches),
                    "image_switch_max_ms": round(max(switches) * 1000, 1),"studies": len(queue), "queue_bytes": len(json.dumps(queue)),
                    "pinned_connect_ms": _median_ms(connect), "queue_ms": _median_ms(queue_times),
                    "study_ms": _median_ms(study_times), "action_round_trip_ms": _median_ms(actions),
                    "action_max_ms": round(max(actions) * 1000, 1), "version_poll_ms": _median_ms(version_times)}
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            db.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.hub_timing", description=__doc__)
    p.add_argument("--studies", type=int, default=50)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    result = run(args.studies)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
