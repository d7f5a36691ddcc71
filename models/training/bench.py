"""Inference latency of an exported model: median over N runs at 1 and 2 threads
(onnxruntime CPU, session.intra_op.allow_spinning = 0, as the product runs it).

    python models/training/bench.py models/dental-demo/model.onnx
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


if __name__ == "__main__":
    for p in sys.argv[1:]:
        print(p, {t: round(bench(p, t), 1) for t in (1, 2)}, "ms median")
