"""Pictures of what a model finds on generated samples of each kind, for docs/model.md:
ground truth thin and grey, the model's findings coloured with label and confidence, one
picture per image kind in a trained style and one in the held-out style.

    python models/training/overlays.py models/dental-demo docs/model
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import ROOT, training_style  # noqa: E402,F401

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

SEEDS = {"bitewing": 880001, "periapical": 880002, "panoramic": 880003}


def render(model, sample, width: int) -> Image.Image:
    from tray_app.demo.synth import to_uint8

    gray = to_uint8(sample)
    dets = model.detect(gray, kind=sample.kind)
    img = Image.fromarray(gray).convert("RGB")
    scale = width / img.width
    img = img.resize((width, round(img.height * scale)), Image.BILINEAR)
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=13)
    for o in sample.objects:
        if o.label != "tooth":
            d.rectangle([c * scale for c in o.box], outline=(150, 150, 150), width=1)
    colours = {l.name: l.color for l in model.manifest.labels}
    for det in sorted(dets, key=lambda x: x.label == "tooth", reverse=True):
        box = [c * scale for c in det.box]
        thin = det.label == "tooth"
        d.rectangle(box, outline=colours.get(det.label, "#ffffff"), width=1 if thin else 2)
        if not thin:
            d.text((box[0] + 2, box[1] + 1), f"{det.label} {det.score:.0%}", fill=colours.get(det.label), font=font)
    d.text((6, 4), f"{sample.kind} · style {sample.style} · {len(dets)} findings", fill=(255, 255, 0), font=font)
    return img


def main(model_dir: str, out_dir: str) -> None:
    from tray_app.analysis.model import load_model
    from tray_app.demo.synth import generate_sample

    model = load_model(Path(model_dir), threads=2)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for styles in ("train", "heldout"):
        for kind, seed in SEEDS.items():
            s = generate_sample(kind, seed, style=training_style(seed, kind, styles))
            img = render(model, s, 1400 if kind == "panoramic" else 800)
            path = out / f"overlay_{kind}_{'heldout' if styles == 'heldout' else 'trained'}_style.jpg"
            img.save(path, quality=82, optimize=True)
            print(path)


if __name__ == "__main__":
    main(*sys.argv[1:3])
