"""`dental-bridge models evaluate DATASET`: how a model does on a practice's labelled images.

DATASET is a folder of images (DICOM, PNG, JPEG, TIFF) with YOLO label files — beside each
image (`x.png` + `x.txt`) or in a parallel `labels/` tree (`images/a/x.png` ↔
`labels/a/x.txt`) — with class names from `classes.txt` or `data.yaml` (else the model's
label order), or a COCO JSON file (`DATASET/*.json` or the path of the file itself).
Dataset classes map to model labels by name; unknown names are reported and skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..clinical.image_type import classify
from ..config import IntakeConfig
from ..intake.decode import RASTER_EXTENSIONS, decode_file
from ..intake.errors import QuarantineError
from .metrics import evaluate, read_yolo_labels
from .model import OnnxModel

IMAGE_SUFFIXES = RASTER_EXTENSIONS | {".dcm", ".dicom"}


class DatasetError(Exception):
    pass


@dataclass
class Item:
    image: Path
    objects: list[tuple[int, float, float, float, float]] | None  # None: read YOLO labels after decoding
    label_file: Path | None = None


def _yaml_names(text: str) -> list[str]:
    m = re.search(r"^names:\s*\[(.*?)\]", text, re.M | re.S)
    if m:
        return [n.strip().strip("'\"") for n in m.group(1).split(",") if n.strip()]
    block = re.search(r"^names:\s*\n((?:[ \t]+.*\n?)+)", text, re.M)
    if not block:
        return []
    names = []
    for line in block.group(1).splitlines():
        line = line.strip()
        item = re.match(r"(?:-\s*|\d+\s*:\s*)(.+)", line)
        if item:
            names.append(item.group(1).strip().strip("'\""))
    return names


def _class_names(root: Path) -> list[str] | None:
    for name in ("classes.txt", "obj.names"):
        f = root / name
        if f.is_file():
            return [l.strip() for l in f.read_text(encoding="utf-8").splitlines() if l.strip()]
    for name in ("data.yaml", "dataset.yaml"):
        f = root / name
        if f.is_file():
            return _yaml_names(f.read_text(encoding="utf-8")) or None
    return None


def _yolo_items(root: Path) -> list[Item]:
    items = []
    for img in sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()):
        beside = img.with_suffix(".txt")
        parts = list(img.relative_to(root).parts)
        mirrored = None
        if "images" in parts:
            i = len(parts) - 1 - parts[::-1].index("images")
            parts[i] = "labels"
            mirrored = (root / Path(*parts)).with_suffix(".txt")
        label = beside if beside.exists() else mirrored if mirrored and mirrored.exists() else None
        items.append(Item(img, None, label))
    return items


def _coco_items(path: Path, label_names: list[str]) -> tuple[list[Item], list[str], list[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    cats = {c["id"]: c["name"] for c in data.get("categories", [])}
    mapping = {cid: label_names.index(n) for cid, n in cats.items() if n in label_names}
    unknown = sorted({n for n in cats.values() if n not in label_names})
    objects: dict[int, list] = {}
    for a in data.get("annotations", []):
        if a.get("category_id") in mapping:
            x, y, w, h = a["bbox"]
            objects.setdefault(a["image_id"], []).append((mapping[a["category_id"]], x, y, x + w, y + h))
    items = [Item(path.parent / im["file_name"], objects.get(im["id"], [])) for im in data.get("images", [])]
    return items, unknown, list(cats.values())


def run_evaluation(model: OnnxModel, dataset: Path, *, iou: float = 0.5, max_pixels: int | None = None) -> dict:
    dataset = Path(dataset)
    label_names = list(model.manifest.label_names)
    unknown: list[str] = []
    remap: dict[int, int] | None = None
    coco = dataset if dataset.suffix.lower() == ".json" else next(iter(sorted(dataset.glob("*.json"))), None)
    if coco is not None and coco.is_file() and (dataset.is_file() or not _class_names(dataset)):
        items, unknown, _ = _coco_items(coco, label_names)
    elif dataset.is_dir():
        items = _yolo_items(dataset)
        names = _class_names(dataset)
        if names:
            remap = {i: label_names.index(n) for i, n in enumerate(names) if n in label_names}
            unknown = [n for n in names if n not in label_names]
    else:
        raise DatasetError(f"{dataset} is neither a folder of images nor a COCO JSON file")
    if not items:
        raise DatasetError(f"no images found in {dataset}")
    preds, gts, skipped = [], [], []
    low = [0.001] * len(label_names)  # AP needs the whole ranking, not just what passes the thresholds
    import numpy as np

    for item in items:
        try:
            decoded = decode_file(item.image, max_pixels=max_pixels or IntakeConfig().max_pixels)
        except (QuarantineError, OSError) as exc:
            skipped.append({"image": str(item.image), "reason": str(exc)})
            continue
        objects = item.objects
        if objects is None:
            raw = read_yolo_labels(item.label_file, decoded.width, decoded.height) if item.label_file else []
            objects = []
            for cls, *box in raw:
                target = remap.get(cls) if remap is not None else (cls if cls < len(label_names) else None)
                if target is not None:
                    objects.append((target, *box))
        kind = classify(decoded.meta, decoded.width, decoded.height, decoded.frames, pixels=decoded.pixels).kind
        dets = model.detect(decoded.pixels, thresholds=np.array(low, dtype=np.float32), kind=kind)
        preds.append([(d.label_id, d.score, *d.box) for d in dets])
        gts.append(objects)
    if not preds:
        raise DatasetError(f"none of the {len(items)} images in {dataset} could be read")
    result = evaluate(preds, gts, model.manifest.labels, iou=iou)
    result.update(model=f"{model.manifest.name} {model.manifest.version}", dataset=str(dataset),
                  skipped=skipped, unknown_classes=unknown)
    return result


def format_report(r: dict) -> str:
    lines = [f"{r['model']} on {r['dataset']}: {r['images']} image(s), IoU {r['iou']:.2f}", "",
             f"{'label':<26}{'AP50':>7}{'prec':>7}{'recall':>8}{'TP':>6}{'FP':>6}{'FN':>6}{'thresh':>8}"]

    def pct(v):
        return "   -" if v is None else f"{v:.3f}"

    for name, c in r["classes"].items():
        lines.append(f"{name:<26}{pct(c['ap']):>7}{pct(c['precision']):>7}{pct(c['recall']):>8}"
                     f"{c['tp']:>6}{c['fp']:>6}{c['fn']:>6}{c['threshold']:>8.2f}")
    lines.append(f"{'mAP50':<26}{pct(r['mAP']):>7}")
    if r["confusion"]:
        lines.append("\nFalse positives overlapping another class (true → predicted: count):")
        for true, row in r["confusion"].items():
            lines.append("  " + ", ".join(f"{true} → {p}: {n}" for p, n in row.items()))
    if r["unknown_classes"]:
        lines.append(f"\nDataset classes the model does not know (skipped): {', '.join(r['unknown_classes'])}")
    for s in r["skipped"]:
        lines.append(f"skipped {s['image']}: {s['reason']}")
    return "\n".join(lines)
