"""Inference latency of an exported model: median over N runs at 1 and 2 threads
(onnxruntime CPU, session.intra_op.allow_spinning = 0, as the product runs it), and for a
model folder the product's whole `detect()` per image kind (tiles included) on generated
images, with its ratio to one raw session.run.

    python models/training/bench.py models/dental-demo/model.onnx
    python models/training/bench.py --detect models/dental-demo
"""
from __future__ import annotations

import sys
import time

import numpy as np
import onnxruntime as ort


def bench(path: str, threads: int, runs: int = 30) -> float:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    inp = s.get_inputs()[0]
    x = np.random.default_rng(0).random([int(d) for d in inp.shape]).astype(np.float32)
    for _ in range(3):
        s.run(None, {inp.name: x})
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        s.run(None, {inp.name: x})
        ts.append(time.perf_counter() - t)
    return float(np.median(ts) * 1000)


def bench_detect(model_dir: str, threads: int = 2, images: int = 6, repeats: int = 3) -> dict:
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tray_app.analysis.model import load_model
    from tray_app.demo import synth

    model = load_model(Path(model_dir), threads=threads)
    raw = bench(str(model.manifest.model_path), threads)
    out = {"threads": threads, "raw_session_run_ms": round(raw, 1)}
    for kind in synth.KINDS:
        grays = [synth.to_uint8(synth.generate_sample(kind, 7000 + i)) for i in range(images)]
        model.detect(grays[0], kind=kind)
        ts = []
        for g in grays * repeats:
            t = time.perf_counter()
            model.detect(g, kind=kind)
            ts.append(time.perf_counter() - t)
        med = float(np.median(ts) * 1000)
        tiles = model.manifest.tiling.get(kind)
        out[kind] = {"median_ms": round(med, 1), "ratio_to_raw": round(med / raw, 2),
                     "runs_per_image": tiles.columns * tiles.rows if tiles else 1,
                     "size": f"{grays[0].shape[1]}x{grays[0].shape[0]}"}
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["--detect"]:
        import json
        for p in sys.argv[2:]:
            print(p, json.dumps(bench_detect(p), indent=1))
    else:
        for p in sys.argv[1:]:
            print(p, {t: round(bench(p, t), 1) for t in (1, 2)}, "ms median")
