"""`model.json`: what a model expects and what its outputs mean.

A practice can drop its own licensed model beside ours; every problem with a manifest is
reported as a sentence naming the file, never as a stack trace.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..labels import describe
from .tiling import TileSpec

# what the review shows first: findings under a label's floor stay stored but hidden until the
# reviewer lowers "Min. confidence" (a manifest may set "review_floor" per label or for all)
DEFAULT_REVIEW_FLOOR = 0.4


class ManifestError(Exception):
    pass


@dataclass(frozen=True)
class LabelSpec:
    name: str
    code: str
    display: str
    threshold: float
    severity: int
    color: str
    enabled_by_default: bool = True   # False: reported only with analysis.unvalidated_labels
    validated_on: str = ""            # what the label's accuracy was measured on
    review_floor: float = DEFAULT_REVIEW_FLOOR


@dataclass(frozen=True)
class InputSpec:
    name: str
    width: int
    height: int
    channels: int
    scale: float
    mean: float
    std: float
    letterbox_fill: int


@dataclass(frozen=True)
class Manifest:
    directory: Path
    name: str
    version: str
    file: str
    sha256: str
    input: InputSpec
    labels: tuple[LabelSpec, ...]
    nms_iou: float
    max_detections: int
    image_kinds: tuple[str, ...]
    intended_use: str
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    tiling: dict[str, TileSpec] = field(default_factory=dict)   # image kind -> tile grid

    @property
    def model_path(self) -> Path:
        return self.directory / self.file

    @property
    def is_demonstration(self) -> bool:
        return "demonstration" in self.intended_use.lower() or "not for clinical" in self.intended_use.lower()

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(l.name for l in self.labels)

    def file_sha256(self) -> str:
        h = hashlib.sha256()
        with open(self.model_path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()


def _req(d: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in d:
        raise ManifestError(f"{where}: missing \"{key}\"")
    value = d[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ManifestError(f"{where}: \"{key}\" has the wrong type ({type(value).__name__})")
    return value


def load_manifest(directory: Path) -> Manifest:
    directory = Path(directory)
    path = directory / "model.json"
    where = str(path)
    if not path.is_file():
        raise ManifestError(f"{directory}: no model.json in this model folder")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{where}: not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise ManifestError(f"{where}: expected a JSON object")
    inp = _req(raw, "input", dict, where)
    number = (int, float)
    input_spec = InputSpec(
        name=str(inp.get("name", "images")),
        width=int(_req(inp, "width", int, where + " input")),
        height=int(_req(inp, "height", int, where + " input")),
        channels=int(inp.get("channels", 3)),
        scale=float(inp.get("scale", 1 / 255)),
        mean=float(inp.get("mean", 0.0)),
        std=float(inp.get("std", 1.0)),
        letterbox_fill=int(inp.get("letterbox_fill", 114)),
    )
    if input_spec.channels not in (1, 3):
        raise ManifestError(f"{where}: input channels must be 1 or 3")
    if not (16 <= input_spec.width <= 4096 and 16 <= input_spec.height <= 4096):
        raise ManifestError(f"{where}: input size {input_spec.width}x{input_spec.height} is out of range")
    if input_spec.std == 0:
        raise ManifestError(f"{where}: input std must not be 0")
    labels_raw = _req(raw, "labels", list, where)
    if not labels_raw:
        raise ManifestError(f"{where}: \"labels\" is empty")
    labels = []
    for i, item in enumerate(labels_raw):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ManifestError(f"{where}: label {i} needs a \"name\"")
        threshold = item.get("threshold", raw.get("default_threshold", 0.35))
        if not isinstance(threshold, number) or not 0 < float(threshold) < 1:
            raise ManifestError(f"{where}: label {item['name']!r} threshold must be between 0 and 1")
        floor = item.get("review_floor", raw.get("review_floor"))
        if floor is None:
            floor = max(float(threshold), DEFAULT_REVIEW_FLOOR)
        if not isinstance(floor, number) or isinstance(floor, bool) or not 0 <= float(floor) < 1:
            raise ManifestError(f"{where}: label {item['name']!r} review_floor must be from 0 up to (not including) 1")
        product = describe(item["name"])  # what the manifest leaves out
        labels.append(
            LabelSpec(
                name=item["name"],
                code=str(item.get("code", item["name"])),
                display=str(item.get("display", product.display)),
                threshold=float(threshold),
                severity=int(item.get("severity", product.severity)),
                color=str(item.get("color", product.color)),
                enabled_by_default=bool(item.get("enabled_by_default", True)),
                validated_on=str(item.get("validated_on", "")),
                review_floor=float(floor),
            )
        )
    tiling_raw = raw.get("tiling", {})
    if not isinstance(tiling_raw, dict):
        raise ManifestError(f"{where}: \"tiling\" must map image kinds to tile grids")
    tiling = {}
    for kind, spec in tiling_raw.items():
        try:
            tiling[str(kind)] = TileSpec.from_dict(spec if isinstance(spec, dict) else {}, f"{where} tiling.{kind}")
        except ValueError as exc:
            raise ManifestError(str(exc)) from exc
    nms_iou = float(raw.get("nms_iou", 0.5))
    if not 0 < nms_iou <= 1:
        raise ManifestError(f"{where}: nms_iou must be in (0, 1]")
    manifest = Manifest(
        directory=directory,
        name=str(_req(raw, "name", str, where)),
        version=str(_req(raw, "version", (str, int, float), where)),
        file=str(raw.get("file", "model.onnx")),
        sha256=str(raw.get("sha256", "")).lower(),
        input=input_spec,
        labels=tuple(labels),
        nms_iou=nms_iou,
        max_detections=int(raw.get("max_detections", 300)),
        image_kinds=tuple(raw.get("image_kinds", ())),
        intended_use=str(raw.get("intended_use", "")),
        raw=raw,
        tiling=tiling,
    )
    if not manifest.model_path.is_file():
        raise ManifestError(f"{where}: the model file {manifest.file!r} is missing")
    return manifest
