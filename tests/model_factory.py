"""Tiny ONNX models built with onnx.helper: real onnxruntime sessions, no downloads.

The output is a constant detection tensor added to 0 x mean(input), so the graph really
reads its input while the expected boxes stay exact.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _graph_with_output(const: np.ndarray, *, size: tuple[int, int], channels: int) -> onnx.ModelProto:
    h, w = size
    inp = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, channels, h, w])
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(const.shape))
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Reshape", ["z", "shape3"], ["z3"]),
        helper.make_node("Add", ["base", "z3"], ["output0"]),
    ]
    inits = [
        numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
        numpy_helper.from_array(np.array([1, 1, 1], np.int64), "shape3"),
        numpy_helper.from_array(const.astype(np.float32), "base"),
    ]
    graph = helper.make_graph(nodes, "stub", [inp], [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def yolo_output(nc: int, n: int, dets: list[tuple[int, float, float, float, float, float]]) -> np.ndarray:
    """dets: (cls, cx, cy, w, h, score) in letterboxed input pixels -> [1, 4+nc, n]."""
    out = np.zeros((1, 4 + nc, n), np.float32)
    out[0, 2:4, :] = 1.0
    for i, (cls, cx, cy, bw, bh, score) in enumerate(dets):
        out[0, :4, i] = (cx, cy, bw, bh)
        out[0, 4 + cls, i] = score
    return out


def e2e_output(n: int, dets: list[tuple[float, float, float, float, float, int]]) -> np.ndarray:
    out = np.zeros((1, n, 6), np.float32)
    for i, d in enumerate(dets):
        out[0, i] = d
    return out


def write_model(directory: Path, const: np.ndarray, labels: list[str], *, size=(64, 64), channels=3,
                name="stub-model", version="1.0.0", thresholds: float | list[float] = 0.3,
                image_kinds=("bitewing", "periapical", "panoramic", "intraoral"), **extra) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model = _graph_with_output(const, size=size, channels=channels)
    onnx_path = directory / "model.onnx"
    onnx.save(model, onnx_path)
    ths = thresholds if isinstance(thresholds, list) else [thresholds] * len(labels)
    manifest = {
        "schema": 1, "name": name, "version": version, "file": "model.onnx",
        "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
        "input": {"name": "images", "width": size[1], "height": size[0], "channels": channels,
                  "scale": 1 / 255, "mean": 0.0, "std": 1.0, "letterbox_fill": 114},
        "labels": [{"name": l, "threshold": t, "severity": i % 4} for i, (l, t) in enumerate(zip(labels, ths))],
        "nms_iou": 0.5, "max_detections": 300, "image_kinds": list(image_kinds),
        "intended_use": "test stub", **extra,
    }
    (directory / "model.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return directory


def simple_detector(directory: Path) -> Path:
    """Two findings on every image: caries (0.9) and restoration (0.6), 64x64 input."""
    const = yolo_output(3, 336, [(1, 20, 20, 10, 10, 0.9), (2, 40, 40, 12, 8, 0.6)])
    return write_model(directory, const, ["tooth", "caries", "restoration"], size=(64, 64))
