"""Markdown tables of a model's held-out metrics (model.json → metrics), for docs/model.md:
per label in the trained imaging styles and in the held-out style, and AP50 per image kind.

    python models/training/report.py models/dental-demo
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def _f(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def tables(manifest: dict) -> str:
    m = manifest["metrics"]
    gap = m["heldout_style"]
    labels = manifest["labels"]
    out = [f"Held-out images: {m['images']} in the trained styles (seed {m['heldout_seed']}), "
           f"{gap['images']} in the held-out style {', '.join(gap['styles'])} (seed {gap['seed']}); "
           f"box overlap IoU {m['iou']}.", "",
           "| label | on by default | threshold | AP50 trained styles | precision | recall | "
           "AP50 held-out style | precision | recall |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for spec in labels:
        n = spec["name"]
        out.append(f"| {n} | {'yes' if spec.get('enabled_by_default', True) else 'no'} | {spec['threshold']} | "
                   f"{_f(m['ap50'][n])} | {_f(m['precision'][n])} | {_f(m['recall'][n])} | "
                   f"{_f(gap['ap50'][n])} | {_f(gap['precision'][n])} | {_f(gap['recall'][n])} |")
    out.append(f"| **mAP50** | | | **{m['map50']:.3f}** | | | **{gap['map50']:.3f}** | | |")
    out += ["", "AP50 per image kind (trained styles / held-out style):", "",
            "| label | " + " | ".join(m["ap50_by_kind"]) + " |", "| --- |" + " --- |" * len(m["ap50_by_kind"])]
    for spec in labels:
        n = spec["name"]
        out.append(f"| {n} | " + " | ".join(f"{_f(m['ap50_by_kind'][k][n])} / {_f(gap['ap50_by_kind'][k][n])}"
                                          for k in m["ap50_by_kind"]) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    print(tables(json.loads((Path(sys.argv[1]) / "model.json").read_text(encoding="utf-8"))))
