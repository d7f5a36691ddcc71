"""Export DentalNet (with the decode inside the graph) to ONNX and write model.json."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from data import PANO_TILES
from net import DentalNet, ExportWrapper

DISPLAY = {
    "tooth": "Tooth", "caries": "Caries", "restoration": "Restoration", "crown": "Crown",
    "root_canal": "Root canal filling", "implant": "Implant", "calculus": "Calculus",
    "periapical_radiolucency": "Periapical radiolucency", "bone_loss": "Bone loss",
}
SEVERITY = {"tooth": 0, "caries": 2, "restoration": 0, "crown": 0, "root_canal": 0, "implant": 0,
            "calculus": 1, "periapical_radiolucency": 3, "bone_loss": 2}
COLOR = {"tooth": "#94a3b8", "caries": "#e0795a", "restoration": "#5aa9e6", "crown": "#a78bfa",
         "root_canal": "#e6c35a", "implant": "#4fbfa0", "calculus": "#c9a27e",
         "periapical_radiolucency": "#d9607a", "bone_loss": "#d68fd6"}
# labels that are existing dental work or anatomy: radiopaque, well defined, what the
# generator can make realistic; the rest are diagnoses the generator cannot teach to a
# real-world standard, so they are off unless a practice turns analysis.unvalidated_labels on
DIAGNOSTIC = {"caries", "calculus", "periapical_radiolucency", "bone_loss"}
VALIDATED_ON = {
    True: "synthetic radiographs only (our generator, held-out imaging styles); not validated on real "
          "radiographs — off by default: a diagnosis learnt from synthetic lesions is not reliable on real images",
    False: "synthetic radiographs (our generator, held-out imaging styles); existing dental work and teeth are "
           "radiopaque and well defined, what the generator models most realistically; not clinically validated",
}
LICENSE = ("Weights and training code: same licence as Dental AI Bridge (our own network, trained from scratch "
           "on our own synthetic images; no third-party data or weights)")


def export_onnx(net: DentalNet, path: Path, height: int, width: int, opset: int = 17):
    net = net.eval().to(memory_format=torch.contiguous_format)
    wrapper = ExportWrapper(net, height, width).eval()
    x = torch.zeros(1, net.stem.conv.in_channels, height, width)
    path = Path(path)
    tmp = path.with_suffix(".tmp.onnx")
    with torch.no_grad():
        torch.onnx.export(wrapper, (x,), str(tmp), input_names=["images"], output_names=["output0"],
                          opset_version=opset, dynamic_axes=None, do_constant_folding=True, dynamo=False)
    import onnx
    m = onnx.load(str(tmp))
    onnx.checker.check_model(m)
    m.doc_string = "dental-demo: DentalNet trained on synthetic radiographs. Demonstration only, not for clinical use."
    onnx.save(m, str(path))
    tmp.unlink()
    return path


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(out: Path, labels, size: int, thresholds: dict, arch: dict, training: dict, metrics=None,
                   file="model.onnx", extra=None):
    out = Path(out)
    doc = {
        "schema": 1,
        "name": "dental-demo",
        "version": "2.0.0",
        "file": file,
        "sha256": sha256(out / file),
        "input": {"name": "images", "width": size, "height": size, "channels": 1,
                  "scale": 1.0 / 255.0, "mean": 0.0, "std": 1.0, "letterbox_fill": 114},
        "labels": [{"name": l, "code": l, "display": DISPLAY.get(l, l.replace("_", " ").capitalize()),
                    "threshold": round(float(thresholds[l]), 3), "severity": SEVERITY.get(l, 0),
                    "color": COLOR.get(l, "#94a3b8"), "enabled_by_default": l not in DIAGNOSTIC,
                    "validated_on": VALIDATED_ON[l in DIAGNOSTIC]} for l in labels],
        "nms_iou": 0.5,
        "max_detections": 300,
        "image_kinds": ["bitewing", "periapical", "panoramic"],
        "tiling": {"panoramic": PANO_TILES},
        "intended_use": "demonstration only — not for clinical use",
        "license": LICENSE,
        "architecture": arch,
        "training": training,
        "metrics": metrics,
    }
    if extra:
        doc.update(extra)
    (out / "model.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
