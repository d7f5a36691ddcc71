"""Where the time per image goes outside the model: `python -m bench.stages [--images N]`.

The analysis worker takes N ready images one at a time (no overlap), with the pipeline's
steps wrapped in timers; prints milliseconds per image for each step and the part no step
accounts for. Steps nest (a commit inside `mark_analyzed`), so only the indented ones add up
to their parent. The numbers for docs/performance.md come from here.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

# (label, module, attribute path) — indented labels are part of the step above them
STEPS = [
    ("next_work query", "tray_app.store.images", "next_works"),
    ("waiting for the preparation thread", "tray_app.intake.prefetch", "Prefetcher.take"),
    ("read image row", "tray_app.store.images", "get"),
    ("copy to staging + sha256", "tray_app.intake.pipeline", "copy_hashed"),
    ("decode (Pillow/pydicom + levels)", "tray_app.intake.pipeline", "decode_file"),
    ("image type", "tray_app.intake.pipeline", "classify"),
    ("pixel cache write", "tray_app.intake.image_cache", "write"),
    ("study + decoded commit", "tray_app.intake.pipeline", "Processor._record_decoded"),
    ("model pre-processing", "tray_app.analysis.model", "OnnxModel.preprocess"),
    ("session.run", "tray_app.analysis.model", "OnnxModel.run_raw"),
    ("model post-processing", "tray_app.analysis.model", "OnnxModel.postprocess"),
    ("teeth placement", "tray_app.intake.pipeline", "place_findings"),
    ("merge duplicates", "tray_app.intake.pipeline", "merge_duplicates"),
    ("analysed commit (findings + audit)", "tray_app.store.images", "mark_analyzed"),
    ("study summary", "tray_app.clinical.study_summary", "refresh"),
    ("  audit anchor (keyring/file)", "tray_app.audit_seal", "advance"),
    ("  COMMIT (fsync)", "tray_app.store.db", "_commit"),
]


def _wrap(totals: dict, label: str, module: str, attr: str) -> bool:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError:  # a step of another version of the pipeline
        return False
    owner, name = mod, attr
    if "." in attr:
        cls, name = attr.split(".")
        owner = getattr(mod, cls, None)
    real = getattr(owner, name, None) if owner is not None else None
    if real is None:
        return False

    @functools.wraps(real)
    def timed(*a, **k):
        t0 = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            totals[label] += time.perf_counter() - t0

    setattr(owner, name, timed)
    return True


def _commit_timer(totals: dict) -> None:
    """COMMIT statements are timed through the connection's trace of executed SQL: the time
    between a COMMIT starting and the next statement is near enough; instead we time tx()."""
    from tray_app.store import db as store_db

    real_tx = store_db.Database.tx

    import contextlib

    @contextlib.contextmanager
    def tx(self):
        c = self.conn()
        outer = not c.in_transaction
        with real_tx(self) as conn:
            yield conn
            t0 = time.perf_counter()
        if outer:  # the COMMIT and the after-commit hooks ran between the yield and here
            totals["  COMMIT (fsync)"] += time.perf_counter() - t0

    store_db.Database.tx = tx


def run(n: int, threads: int, overlap: bool) -> tuple[dict, float]:
    from bench.run import _samples, _write_png
    from tray_app.app import Service
    from tray_app.config import AnalysisConfig, Config, Paths, SourceConfig
    from tray_app.store import images as image_repo

    totals: dict = defaultdict(float)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DENTAL_BRIDGE_HOME"] = str(Path(tmp) / "home")
        folder = Path(tmp) / "export"
        folder.mkdir()
        service = Service(Config(sources=[SourceConfig(path=str(folder))], analysis=AnalysisConfig(threads=threads)),
                          Paths.resolve().ensure())
        service.load_model()
        db, sid = service.db, service.sources[0][0]
        for i, s in enumerate(_samples(n + 1, 4242)):
            p = folder / f"B{i:03d}_Bench_Pat_20261128_{i}.png"
            _write_png(s, p, renamed=False)
            st = p.stat()
            image_repo.mark_ready(db, image_repo.discover(db, str(p), sid, st.st_size, st.st_mtime_ns),
                                  st.st_size, st.st_mtime_ns)
        service.worker.work_once()  # warm-up, not counted
        for label, module, attr in STEPS:
            if attr != "_commit":
                _wrap(totals, label, module, attr)
        _commit_timer(totals)
        t0 = time.perf_counter()
        step = (lambda: service.worker.work_once(prefetch=True)) if overlap else service.worker.work_once
        while step() is not None:
            pass
        wall = time.perf_counter() - t0
        if overlap:
            service.processor.stop_prefetch()
        db.close()
    return {k: v * 1000 / n for k, v in totals.items()}, wall * 1000 / n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--overlap", action="store_true", help="with the preparation thread (steps then overlap)")
    args = ap.parse_args(argv)
    per, wall = run(args.images, args.threads, args.overlap)
    model = per.get("session.run", 0.0)
    print(f"| step | ms per image |\n|---|---|")
    for label, _m, _a in STEPS:
        if label in per:
            print(f"| {label} | {per[label]:.2f} |")
    top = sum(v for k, v in per.items() if not k.startswith("  ") and k != "session.run")
    print(f"| wall per image | {wall:.2f} |\n| wall minus session.run | {wall - model:.2f} |")
    print(f"| steps outside the model (sum, not overlapped) | {top:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
