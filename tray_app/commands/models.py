"""`models list | check | evaluate DATASET`: the installed models."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..analysis import registry
from ..analysis.evaluate_dataset import DatasetError, format_report, run_evaluation
from ..analysis.manifest import ManifestError
from ..analysis.model import OnnxModel
from ..app import model_search_dirs
from .shared import emit, load_config, load_paths, print_json


def cmd_models(args) -> int:
    paths = load_paths()
    entries = registry.discover(model_search_dirs(paths))
    config = load_config(paths)
    chosen = registry.choose(entries, args.model or config.analysis.model)
    if args.action == "evaluate":
        return _models_evaluate(args, chosen, config)
    rows, failed = [], False
    for e in entries:
        row = {"directory": str(e.directory), "origin": e.origin, "ok": e.manifest is not None, "error": e.error or None}
        if e.manifest:
            m = e.manifest
            row.update(name=m.name, version=m.version, labels=list(m.label_names),
                       input=[m.input.width, m.input.height], demonstration=m.is_demonstration,
                       selected=chosen is not None and chosen.directory == e.directory,
                       labels_off_by_default=[l.name for l in m.labels if not l.enabled_by_default],
                       tiling={k: [t.columns, t.rows] for k, t in m.tiling.items()})
            if args.action == "check":
                try:
                    model = OnnxModel(m)
                    probe = np.full((m.input.height, m.input.width), 100, dtype=np.uint8)
                    model.detect(probe)
                    row["check"] = "ok: sha256 matches, shapes fit, one inference ran"
                except ManifestError as exc:
                    row.update(ok=False, error=str(exc))
        failed |= not row["ok"]
        rows.append(row)
    if args.json:
        print_json({"models": rows})
    elif not rows:
        print(f"No models found. Put a folder with model.onnx and model.json into {paths.user_models_dir}")
    else:
        for r in rows:
            mark = "*" if r.get("selected") else " "
            if r["ok"]:
                demo = "  (demonstration only — not for clinical use)" if r.get("demonstration") else ""
                print(f"{mark} {r['name']} {r['version']}  [{r['origin']}]  {len(r['labels'])} labels{demo}")
                if r["labels_off_by_default"]:
                    state = ("shown (analysis.unvalidated_labels is on)" if config.analysis.unvalidated_labels else
                             "not shown; `dental-bridge config set analysis.unvalidated_labels true` shows them")
                    print(f"    not validated on real radiographs: {', '.join(r['labels_off_by_default'])} — {state}")
                if r.get("check"):
                    print(f"    {r['check']}")
            else:
                print(f"  {r['directory']}: {r['error']}")
    return 1 if failed and args.action == "check" else 0


def _models_evaluate(args, chosen, config) -> int:
    if not args.dataset:
        print("error: models evaluate needs a DATASET folder (images + YOLO labels) or a COCO JSON file",
              file=sys.stderr)
        return 2
    if chosen is None:
        print("error: no usable model (see: dental-bridge models list)", file=sys.stderr)
        return 2
    try:
        result = run_evaluation(OnnxModel(chosen.manifest), Path(args.dataset), iou=args.iou,
                                max_pixels=config.intake.max_pixels)
    except (DatasetError, ManifestError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    emit(args, result, format_report)
    return 0


def add_arguments(command: str, models) -> None:
    models.add_argument("action", choices=["list", "check", "evaluate"])
    models.add_argument("dataset", nargs="?", help="for evaluate: folder of images + YOLO labels, or COCO JSON")
    models.add_argument("--model", help="model name (default: the one in use)")
    models.add_argument("--iou", type=float, default=0.5)
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=cmd_models)
