"""Benchmarks: pipeline overhead per image against the raw onnxruntime call in the same
run, and the idle footprint of `run --headless`. `python -m bench [--json]`.

Numbers are ratios and medians from this run on this machine; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict:
    import onnxruntime

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(), "onnxruntime": onnxruntime.__version__}


def _images(folder: Path, n: int) -> list[Path]:
    from PIL import Image

    from tray_app.demo.synth import generate_batch, to_uint8

    out = []
    for i, sample in enumerate(generate_batch(n, seed=4242, kinds=("bitewing", "periapical"))):
        p = folder / f"B{i:03d}_Bench_Pat_20261128_{i}.png"
        Image.fromarray(to_uint8(sample)).save(p)
        out.append(p)
    return out


def bench_overhead(n: int, threads: int, model_dir: str | None = None) -> dict:
    """Ingest n images in-process; time each, and the model's session.run inside it."""
    from tray_app.app import Service
    from tray_app.config import AnalysisConfig, Config, Paths
    from tray_app.intake.ingest import ingest_paths

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DENTAL_BRIDGE_HOME"] = str(Path(tmp) / "home")
        folder = Path(tmp) / "export"
        folder.mkdir()
        if model_dir:
            import shutil

            shutil.copytree(model_dir, Path(tmp) / "home" / "models" / Path(model_dir).name)
        files = _images(folder, n)
        service = Service(Config(analysis=AnalysisConfig(threads=threads)), Paths.resolve().ensure())
        service.load_model()
        if service.model is None:
            return {"skipped": service.model_problem}
        model = service.model
        run_times: list[float] = []
        raw_run = model.run_raw

        def timed(tensor):
            t0 = time.perf_counter()
            out = raw_run(tensor)
            run_times.append(time.perf_counter() - t0)
            return out

        model.run_raw = timed
        totals, overheads = [], []
        for f in files:
            before = len(run_times)
            t0 = time.perf_counter()
            (outcome,) = list(ingest_paths(service, [f]))
            total = time.perf_counter() - t0
            assert outcome.status == "analyzed", outcome
            totals.append(total)
            overheads.append(total - sum(run_times[before:]))
        # raw onnxruntime on the same pre-processed tensors, same session, same run
        from PIL import Image

        tensors = [model.preprocess(np.asarray(Image.open(f).convert("L")))[0] for f in files]
        raw = []
        for t in tensors:
            t0 = time.perf_counter()
            raw_run(t)
            raw.append(time.perf_counter() - t0)
        service.db.close()
        med_total, med_raw = statistics.median(totals[1:]), statistics.median(raw)
        return {
            "model": f"{model.manifest.name} {model.manifest.version}", "images": n, "threads": threads,
            "per_image_ms_median": round(med_total * 1000, 1),
            "raw_session_run_ms_median": round(med_raw * 1000, 1),
            "overhead_excl_model_ms_median": round(statistics.median(overheads[1:]) * 1000, 1),
            "overhead_excl_model_ms_p95": round(float(np.percentile(overheads[1:], 95)) * 1000, 1),
            "ratio_pipeline_to_raw": round(med_total / med_raw, 2),
        }


def bench_idle(seconds: float) -> dict:
    """CPU and RSS of `run --headless` watching two folders (one native, one polling)."""
    import psutil

    from tray_app.config import Config, SourceConfig

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        a, b = Path(tmp) / "native", Path(tmp) / "polling"
        a.mkdir()
        b.mkdir()
        for i in range(200):
            (b / f"old_{i}.txt").write_text("x")  # something for the poller to stat
        cfg = Config(sources=[SourceConfig(path=str(a), kind="native"), SourceConfig(path=str(b), kind="polling")])
        home.mkdir()
        cfg.save(home / "config.toml")
        env = dict(os.environ, DENTAL_BRIDGE_HOME=str(home))
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "tray_app", "run", "--headless"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log = home / "logs" / "dental-bridge.log"
        while not (log.exists() and "service started" in log.read_text()):
            if time.perf_counter() - t0 > 60:
                break
            time.sleep(0.05)
        startup = time.perf_counter() - t0
        time.sleep(3.0)  # model load and first scans settle
        p = psutil.Process(proc.pid)
        c0 = p.cpu_times()
        w0 = time.perf_counter()
        time.sleep(seconds)
        c1 = p.cpu_times()
        wall = time.perf_counter() - w0
        rss = p.memory_info().rss
        proc.terminate()
        proc.wait(timeout=30)
        cpu = (c1.user - c0.user + c1.system - c0.system) / wall
        return {"seconds": seconds, "idle_cpu_percent_of_one_core": round(cpu * 100, 2),
                "rss_mib": round(rss / 2**20, 1), "startup_to_watching_s": round(startup, 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--idle-seconds", type=float, default=20.0)
    ap.add_argument("--model", help="model folder to use instead of the bundled one")
    args = ap.parse_args(argv)
    result = {"machine": machine(), "overhead": bench_overhead(args.images, args.threads, args.model),
              "idle": bench_idle(args.idle_seconds)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for section, values in result.items():
            print(f"[{section}]")
            for k, v in values.items():
                print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
