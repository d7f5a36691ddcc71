"""Export DentalNet (with the decode inside the graph) to ONNX and write model.json."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from data import PANO_TILES
from net import DentalNet, ExportWrapper
from tray_app.labels import PATHOLOGY_LABELS, describe

# labels that are existing dental work or anatomy: radiopaque, well defined, what the
# generator can make realistic; the rest are diagnoses the generator cannot teach to a
# real-world standard, so they are off unless a practice turns analysis.unvalidated_labels on
DIAGNOSTIC = PATHOLOGY_LABELS
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
        "labels": [{"name": l, "code": l, "display": describe(l).display,
                    "threshold": round(float(thresholds[l]), 3), "severity": describe(l).severity,
                    "color": describe(l).color, "enabled_by_default": l not in DIAGNOSTIC,
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
