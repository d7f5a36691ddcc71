"""One reused onnxruntime session per model, and `detect()` from grayscale pixels to boxes."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..config import default_threads
from .manifest import Manifest, ManifestError, load_manifest
from . import tiling
from .postprocess import Letterbox, classwise_nms, decode, letterbox, output_layout, to_tensor


@dataclass(frozen=True)
class Detection:
    label_id: int
    label: str
    score: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels


@dataclass(frozen=True)
class ModelInput:
    tensor: np.ndarray
    letterbox: Letterbox
    shape: tuple[int, int]  # of the image (or tile) it was made from
    window: tuple[int, int, int, int] | None  # the tile's x0, y0, x1, y1 in the image


@dataclass(frozen=True)
class Plan:
    """An image made ready for the model: one input, or one per tile of a tiled kind."""
    shape: tuple[int, int]
    inputs: list[ModelInput]
    tiled: bool


@dataclass(frozen=True)
class Outputs:
    """The model's raw outputs for a plan and what post-processing needs (not the input tensors)."""
    plan: Plan
    raw: list[np.ndarray]


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

    def warm_up(self) -> None:
        """One run on a blank input: onnxruntime sizes its memory arena on the first run, which
        took ~40 % longer (Processor.warm_up)."""
        spec = self.manifest.input
        self.run_raw(np.zeros((1, spec.channels, spec.height, spec.width), np.float32))

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

    def detect(self, gray: np.ndarray, thresholds: np.ndarray | None = None, kind: str | None = None,
               topk: int = 0) -> list[Detection]:
        """Findings in a 2-D uint8 image; images of a kind the manifest tiles run tile by tile.
        `topk` (evaluation only) raises each class's floor to its k-th best score per run, so
        an AP run with a near-zero floor does not feed thousands of boxes into NMS."""
        return self.run_plan(self.plan(gray, kind), thresholds, topk)

    def plan(self, gray: np.ndarray, kind: str | None = None) -> Plan:
        """The pre-processing of `detect`, apart so the pipeline can do it for the next image
        while the model runs on this one."""
        if gray.ndim != 2 or gray.dtype != np.uint8:
            raise ValueError("detect() takes a 2-D uint8 grayscale image")
        spec = self.manifest.tiling.get(kind or "")
        h, w = gray.shape
        if spec is None:
            return Plan((h, w), [self._input(gray, None)], tiled=False)
        return Plan((h, w), [self._input(np.ascontiguousarray(gray[y0:y1, x0:x1]), (x0, y0, x1, y1))
                             for x0, y0, x1, y1 in tiling.windows(w, h, spec)], tiled=True)

    def _input(self, gray: np.ndarray, window) -> ModelInput:
        tensor, lb = self.preprocess(gray)
        return ModelInput(tensor, lb, gray.shape, window)

    def run_plan(self, plan: Plan, thresholds: np.ndarray | None = None, topk: int = 0) -> list[Detection]:
        """The model and its post-processing on a `plan`."""
        return self.detections(self.run_outputs(plan), thresholds, topk)

    def run_outputs(self, plan: Plan) -> Outputs:
        """The model alone, apart so the service post-processes on another thread than the model's."""
        raw = [self.run_raw(item.tensor) for item in plan.inputs]
        return Outputs(Plan(plan.shape, [replace(i, tensor=None) for i in plan.inputs], plan.tiled), raw)

    def detections(self, outputs: Outputs, thresholds: np.ndarray | None = None, topk: int = 0, *,
                   unvalidated: bool = True) -> list[Detection]:
        """Post-processing: boxes in image pixels, NMS, tiles merged; without `unvalidated`, only the
        labels the manifest enables by default (analysis.unvalidated_labels)."""
        plan = outputs.plan
        if not plan.tiled:
            found = self._detect_one(plan.inputs[0], outputs.raw[0], thresholds, topk)
        else:
            found = self._detect_tiled(plan, outputs.raw, thresholds, topk)
        if not unvalidated:
            off = {label.name for label in self.manifest.labels if not label.enabled_by_default}
            found = [d for d in found if d.label not in off]
        return found

    def _detect_one(self, item: ModelInput, out: np.ndarray, thresholds, topk: int) -> list[Detection]:
        if topk and out.ndim == 3 and out.shape[1] == 4 + len(self.manifest.labels):
            base = self.thresholds if thresholds is None else thresholds
            scores = out.reshape(out.shape[-2:])[4:4 + len(self.manifest.labels)]
            if scores.shape[1] > topk:
                thresholds = np.maximum(base, np.partition(scores, -topk, axis=1)[:, -topk]).astype(np.float32)
        return self.postprocess(out, item.letterbox, item.shape, thresholds)

    def _detect_tiled(self, plan: Plan, raw: list[np.ndarray], thresholds, topk: int) -> list[Detection]:
        h, w = plan.shape
        found: list[Detection] = []
        cut: list[np.ndarray] = []
        for item, out in zip(plan.inputs, raw):
            win = item.window
            x0, y0 = win[0], win[1]
            dets = [Detection(d.label_id, d.label, d.score, (d.box[0] + x0, d.box[1] + y0, d.box[2] + x0, d.box[3] + y0))
                    for d in self._detect_one(item, out, thresholds, topk)]
            if dets:
                cut.append(tiling.cut_flags(np.array([d.box for d in dets], np.float32), win, w, h))
                found += dets
        if not found:
            return []
        keep, boxes = tiling.merge(np.array([d.box for d in found], np.float32),
                                   np.array([d.score for d in found], np.float32),
                                   np.array([d.label_id for d in found]), np.concatenate(cut),
                                   self.manifest.nms_iou, self.manifest.max_detections)
        merged = [Detection(found[i].label_id, found[i].label, found[i].score, tuple(float(v) for v in b))
                  for i, b in zip(keep, boxes)]
        return sorted(merged, key=lambda d: -d.score)


def load_model(directory: Path, threads: int = 0) -> OnnxModel:
    return OnnxModel(load_manifest(Path(directory)), threads=threads)
