"""How often the product numbers a detected tooth right, on generated images: the bundled detector's
tooth boxes placed by `analysis/tooth_mapping.place_findings` with the image's tooth list, each
matched to the generator's true tooth box (IoU ≥ 0.5), against that tooth's true number. A tooth
numbered one off puts every finding on it, and the change against a prior, on the wrong tooth.

`python -m bench.tooth_numbers [--images 150] [--seed 60000]` prints one JSON line per image kind:
boxes matched, numbered right, the share, and the first seeds with a tooth numbered wrong.
"""

from __future__ import annotations

import argparse
import json

MATCH_IOU = 0.5
KINDS = ("bitewing", "periapical")


def run(images: int, seed: int, kinds=KINDS) -> dict:
    from tray_app.analysis.metrics import box_iou
    from tray_app.analysis.model import load_model
    from tray_app.analysis.tooth_mapping import place_findings
    from tray_app.config import bundled_models_dir
    from tray_app.demo import synth

    detector = load_model(bundled_models_dir() / "dental-demo")
    out = {}
    for kind in kinds:
        matched = right = 0
        wrong_seeds: list[int] = []
        for s in range(seed, seed + images):
            sample = synth.generate_sample(kind, s)
            pixels = synth.to_uint8(sample)
            h, w = pixels.shape
            found = detector.detect(pixels, kind=kind)
            placed = place_findings(found, kind=kind, width=w, height=h, listed_fdi=sample.teeth_fdi)
            truth = [o for o in sample.objects if o.label == "tooth"]
            teeth = [(d, p) for d, p in zip(found, placed) if d.label == "tooth"]
            if not truth or not teeth:
                continue
            iou = box_iou([d.box for d, _ in teeth], [o.box for o in truth])
            for (d, p), row in zip(teeth, iou):
                if row.max() < MATCH_IOU:
                    continue
                best = truth[int(row.argmax())]
                matched += 1
                right += p.tooth_fdi == best.tooth_fdi
                if p.tooth_fdi != best.tooth_fdi and s not in wrong_seeds:
                    wrong_seeds.append(s)
        out[kind] = {"matched": matched, "numbered_right": right,
                     "share": round(right / max(matched, 1), 4), "wrong_seeds": wrong_seeds[:12]}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--images", type=int, default=150)
    ap.add_argument("--seed", type=int, default=60000)
    a = ap.parse_args(argv)
    print(json.dumps(run(a.images, a.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
