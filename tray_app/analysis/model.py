"""One reused onnxruntime session per model, and `detect()` from grayscale pixels to boxes."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import default_threads
from .manifest import Manifest, ManifestError, load_manifest
from .postprocess import classwise_nms, decode, letterbox, output_layout, to_tensor


@dataclass(frozen=True)
class Detection:
    label_id: int
    label: str
    score: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels


def session_options(threads: int):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads or default_threads()
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # idle spinning threads would burn the front-desk PC's CPU between images
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    so.log_severity_level = 3
    return so


class OnnxModel:
    def __init__(self, manifest: Manifest, threads: int = 0, verify_sha256: bool = True):
        import onnxruntime as ort

        self.manifest = manifest
        if verify_sha256 and manifest.sha256 and manifest.file_sha256() != manifest.sha256:
            raise ManifestError(
                f"{manifest.model_path}: the file does not match the sha256 in model.json "
                "(incomplete copy or a different model)"
            )
        try:
            self.session = ort.InferenceSession(
                str(manifest.model_path), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ManifestError(f"{manifest.model_path}: onnxruntime cannot load this model ({exc})") from exc
        inputs = {i.name: i for i in self.session.get_inputs()}
        if manifest.input.name not in inputs:
            raise ManifestError(
                f"{manifest.directory}: model.json names input {manifest.input.name!r} but the model has "
                f"{', '.join(inputs)}"
            )
        shape = inputs[manifest.input.name].shape
        expected = [1, manifest.input.channels, manifest.input.height, manifest.input.width]
        if len(shape) != 4 or any(isinstance(s, int) and s != e for s, e in zip(shape, expected)):
            raise ManifestError(f"{manifest.directory}: model input shape {shape} does not match model.json {expected}")
        out = self.session.get_outputs()[0]
        self.output_name = out.name
        if all(isinstance(d, int) for d in out.shape):
            try:
                output_layout(tuple(out.shape), len(manifest.labels))
            except ValueError as exc:
                raise ManifestError(f"{manifest.directory}: {exc}") from exc
        self.thresholds = np.array([l.threshold for l in manifest.labels], dtype=np.float32)
        self._lock = threading.Lock()

    def preprocess(self, gray: np.ndarray):
        spec = self.manifest.input
        canvas, lb = letterbox(gray, spec.width, spec.height, spec.letterbox_fill)
        return to_tensor(canvas, spec.channels, spec.scale, spec.mean, spec.std), lb

    def run_raw(self, tensor: np.ndarray) -> np.ndarray:
        return self.session.run([self.output_name], {self.manifest.input.name: tensor})[0]

    def postprocess(self, output: np.ndarray, lb, image_shape: tuple[int, int], thresholds=None) -> list[Detection]:
        m = self.manifest
        det = decode(output, len(m.labels), self.thresholds if thresholds is None else thresholds)
        keep = classwise_nms(det, m.nms_iou, m.max_detections)
        if keep.size == 0:
            return []
        boxes = lb.to_image(det.boxes[keep])
        h, w = image_shape
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
        results = []
        for (x1, y1, x2, y2), score, cls in zip(boxes, det.scores[keep], det.classes[keep]):
            if x2 - x1 < 1 or y2 - y1 < 1:
                continue
            results.append(Detection(int(cls), m.labels[cls].name, float(score), (float(x1), float(y1), float(x2), float(y2))))
        return results

    def detect(self, gray: np.ndarray, thresholds: np.ndarray | None = None) -> list[Detection]:
        if gray.ndim != 2 or gray.dtype != np.uint8:
            raise ValueError("detect() takes a 2-D uint8 grayscale image")
        tensor, lb = self.preprocess(gray)
        return self.postprocess(self.run_raw(tensor), lb, gray.shape, thresholds)


def load_model(directory: Path, threads: int = 0) -> OnnxModel:
    return OnnxModel(load_manifest(Path(directory)), threads=threads)
