"""Train the small landmark model (`models/landmarks/`): per tooth crop, the CEJ, alveolar
crest and apex on both sides, as heat-maps read out by their expected position (soft-argmax).

Our own code and data only: crops of generated radiographs (`tray_app/demo/synth.py`) cut by
the product's own `tooth_crop`, ground truth from `tray_app/demo/landmarks.py`. Run:

    nice -n 10 python models/training/landmarks.py            # cache, train, export, evaluate

Writes `models/landmarks/landmarks.onnx` and `landmarks.json` (not model.*: the detector registry
would take the folder for a detector) (with the measured landmark error in mm);
the cache goes to `models/training/runs/` (git-ignored).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tray_app.analysis.landmarks import CROP_H, CROP_W, POINTS, tooth_crop  # noqa: E402
from tray_app.demo import synth  # noqa: E402
from tray_app.demo.landmarks import surface_landmarks  # noqa: E402

RUNS = Path(__file__).resolve().parent / "runs"
OUT = ROOT / "models" / "landmarks"
NP = 2 * len(POINTS)
HM_W, HM_H = CROP_W // 2, CROP_H // 2


def _jitter(rng, box, amount):
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    d = rng.uniform(-amount, amount, 4) * np.array([w, h, w, h])
    return (x1 + d[0], y1 + d[1], x2 + d[2], y2 + d[3])


def _deeper_crests(rng):
    """Half the tooth surfaces get a crest 1-7 mm below the CEJ: the generator's own mix has few
    deep crests, and a model that rarely saw bone loss underestimates it."""
    def edit(teeth):
        for t in teeth:
            for side in ("M", "D"):
                if rng.random() < 0.5:
                    t.crest[side] = float(rng.uniform(1.0, 7.0))
                    (t.bone_loss.add if t.crest[side] >= 3.5 else t.bone_loss.discard)(side)
    return edit


def make_crops(seed: int, n_images: int, jitter: float = 0.05):
    """Crops (N, H, W) uint8, targets (N, 6, 2) crop pixels, visible (N, 6), spacing (N,) mm per
    image pixel, scale (N, 2) image px per crop px (to turn crop errors into mm)."""
    rng = np.random.default_rng(seed)
    crops, tgt, vis, mm, scale = [], [], [], [], []
    for i in range(n_images):
        kind = "bitewing" if i % 2 == 0 else "periapical"
        s = synth._generate(kind, int(rng.integers(0, 2 ** 31 - 1)), None, edit=_deeper_crests(rng))
        gray = synth.to_uint8(s)
        H, W = gray.shape
        lms = {(lm.tooth_fdi, lm.surface): lm for lm in surface_landmarks(s)}
        for o in s.objects:
            if o.label != "tooth" or (o.tooth_fdi, "M") not in lms:
                continue
            fdi = o.tooth_fdi
            crop, frame = tooth_crop(gray, _jitter(rng, o.box, jitter), fdi // 10 in (1, 2))
            t = np.zeros((NP, 2), np.float32)
            v = np.zeros(NP, np.float32)
            right = "M" if fdi // 10 in (1, 4) else "D"
            for col, side in ((1, right), (0, "D" if right == "M" else "M")):
                lm = lms[(fdi, side)]
                for p, name in enumerate(POINTS):
                    x, y = getattr(lm, name)
                    cx, cy = frame.to_crop(np.float32(x), np.float32(y))
                    t[2 * p + col] = (cx, cy)
                    v[2 * p + col] = float(lm.inside(W, H, name) and -0.5 <= cx <= CROP_W - 0.5
                                           and -0.5 <= cy <= CROP_H - 0.5)
            crops.append(crop); tgt.append(t); vis.append(v); mm.append(s.pixel_spacing_mm)
            scale.append((frame.sx, frame.sy))
        if (i + 1) % 100 == 0:
            print(f"  {i + 1}/{n_images} images, {len(crops)} teeth", flush=True)
    return (np.stack(crops), np.stack(tgt), np.stack(vis), np.array(mm, np.float32), np.array(scale, np.float32))


def cached(name, seed, n):
    path = RUNS / f"landmarks_{name}_{seed}_{n}.npz"
    if not path.exists():
        RUNS.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, *make_crops(seed, n))
    d = np.load(path)
    return [d[f"arr_{i}"] for i in range(5)]


def cbr(i, o, s=1):
    return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))


class LandmarkNet(nn.Module):
    """A small U-Net: four strided stages (16-32-48-64), back up to half resolution, six heat-maps."""

    def __init__(self):
        super().__init__()
        self.e1 = nn.Sequential(cbr(1, 16, 2), cbr(16, 16))
        self.e2 = nn.Sequential(cbr(16, 32, 2), cbr(32, 32))
        self.e3 = nn.Sequential(cbr(32, 48, 2), cbr(48, 48))
        self.e4 = nn.Sequential(cbr(48, 64, 2), cbr(64, 64), cbr(64, 64))
        self.d3 = nn.Sequential(cbr(64 + 48, 48), cbr(48, 48))
        self.d2 = nn.Sequential(cbr(48 + 32, 32), cbr(32, 32))
        self.d1 = nn.Sequential(cbr(32 + 16, 24), cbr(24, 24))
        self.hm = nn.Conv2d(24, NP, 1)
        self.vis = nn.Linear(64, NP)
        ys, xs = torch.meshgrid(torch.arange(HM_H), torch.arange(HM_W), indexing="ij")
        self.register_buffer("gx", ((xs.float() + 0.5) / HM_W).reshape(1, 1, -1))
        self.register_buffer("gy", ((ys.float() + 0.5) / HM_H).reshape(1, 1, -1))

    def forward(self, x):
        e1 = self.e1(x); e2 = self.e2(e1); e3 = self.e3(e2); e4 = self.e4(e3)
        up = lambda a, b: torch.cat([F.interpolate(a, size=b.shape[2:], mode="nearest"), b], 1)  # noqa: E731
        d = self.d1(up(self.d2(up(self.d3(up(e4, e3)), e2)), e1))
        logits = self.hm(d).flatten(2)                     # B, 6, HM_H*HM_W
        p = logits.softmax(-1)
        coords = torch.stack([(p * self.gx).sum(-1), (p * self.gy).sum(-1)], -1)   # normalised [0, 1]
        return coords, self.vis(e4.mean((2, 3))), logits


class Export(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image):
        coords, vis, _ = self.net(image)
        return coords, torch.sigmoid(vis)


def _targets_norm(t):
    return (t + 0.5) / torch.tensor([CROP_W, CROP_H], dtype=torch.float32)


def loss_fn(coords, vis_logit, logits, t, v):
    tn = _targets_norm(t)
    # heat-map target: a Gaussian of one cell around the true position (only where visible)
    gx = (tn[..., 0:1] * HM_W - 0.5); gy = (tn[..., 1:2] * HM_H - 0.5)
    xs = torch.arange(HM_W).float().repeat(HM_H); ys = torch.arange(HM_H).float().repeat_interleave(HM_W)
    g = torch.exp(-((xs - gx) ** 2 + (ys - gy) ** 2) / 2.0)
    g = g / g.sum(-1, keepdim=True).clamp_min(1e-6)
    ce = -(g * logits.log_softmax(-1)).sum(-1)
    px = (coords - tn).abs() * torch.tensor([CROP_W, CROP_H], dtype=torch.float32)
    w = v.sum().clamp_min(1)
    return ((ce + px.sum(-1)) * v).sum() / w + F.binary_cross_entropy_with_logits(vis_logit, v)


def augment(rng, x, t, v):
    """Mirror left-right (swapping the sides), gamma, contrast, noise — the export styles vary more."""
    x = x.astype(np.float32) / 255.0
    t = t.copy(); v = v.copy()
    flip = rng.random(len(x)) < 0.5
    x[flip] = x[flip, :, ::-1]
    t[flip, :, 0] = CROP_W - 1 - t[flip, :, 0]
    sw = np.array([1, 0, 3, 2, 5, 4])
    t[flip] = t[flip][:, sw]; v[flip] = v[flip][:, sw]
    g = rng.uniform(0.7, 1.4, (len(x), 1, 1)).astype(np.float32)
    x = np.clip(x, 0, 1) ** g
    c = rng.uniform(0.8, 1.2, (len(x), 1, 1)).astype(np.float32)
    x = np.clip((x - 0.5) * c + 0.5 + rng.normal(0, 0.02, x.shape).astype(np.float32), 0, 1)
    return x[:, None], t, v


def errors_mm(coords, t, v, mm, scale):
    """Per landmark distance to the truth in mm (NaN where not visible)."""
    pred = coords * np.array([CROP_W, CROP_H]) - 0.5
    d = np.sqrt((((pred - t) * scale[:, None, :]) ** 2).sum(-1)) * mm[:, None]
    return np.where(v > 0.5, d, np.nan)


def evaluate(session_or_net, data):
    x, t, v, mm, scale = data
    coords, vis = [], []
    for i in range(0, len(x), 256):
        xb = x[i:i + 256].astype(np.float32)[:, None] / 255.0
        if isinstance(session_or_net, nn.Module):
            with torch.no_grad():
                c, vl, _ = session_or_net(torch.from_numpy(xb))
            coords.append(c.numpy()); vis.append(torch.sigmoid(vl).numpy())
        else:
            c, vv = session_or_net.run(None, {"image": xb})
            coords.append(c); vis.append(vv)
    coords, vis = np.concatenate(coords), np.concatenate(vis)
    err = errors_mm(coords, t, v, mm, scale)
    out = {name: round(float(np.nanmedian(err[:, 2 * p:2 * p + 2])), 3) for p, name in enumerate(POINTS)}
    out.update({f"{name}_p90": round(float(np.nanpercentile(err[:, 2 * p:2 * p + 2], 90)), 3) for p, name in enumerate(POINTS)})
    # bone level (CEJ-to-crest distance) error per side, the measurement the product reports
    pred = coords * np.array([CROP_W, CROP_H]) - 0.5
    bl = []
    for col in (0, 1):
        ok = (v[:, col] > 0.5) & (v[:, 2 + col] > 0.5)
        dp = np.sqrt((((pred[:, col] - pred[:, 2 + col]) * scale) ** 2).sum(-1)) * mm
        dt = np.sqrt((((t[:, col] - t[:, 2 + col]) * scale) ** 2).sum(-1)) * mm
        bl.append(np.abs(dp - dt)[ok])
    bl = np.concatenate(bl)
    out["bone_level_median"] = round(float(np.median(bl)), 3)
    out["bone_level_p90"] = round(float(np.percentile(bl, 90)), 3)
    out["visible_accuracy"] = round(float(((vis >= 0.5) == (v > 0.5)).mean()), 4)
    out["teeth"] = int(len(x))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-images", type=int, default=1400)
    ap.add_argument("--val-images", type=int, default=160)
    ap.add_argument("--seed", type=int, default=32)
    ap.add_argument("--val-seed", type=int, default=978)
    ap.add_argument("--minutes", type=float, default=22.0, help="training wall-time bound")
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.manual_seed(a.seed); torch.set_num_threads(a.threads)
    t0 = time.time()
    train = cached("train", a.seed, a.train_images)
    val = cached("val", a.val_seed, a.val_images)
    print(f"data: {len(train[0])} train teeth, {len(val[0])} val teeth, {time.time() - t0:.0f} s", flush=True)
    net = LandmarkNet()
    print("parameters:", sum(p.numel() for p in net.parameters()), flush=True)
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
    rng = np.random.default_rng(a.seed)
    start, it, budget = time.time(), 0, a.minutes * 60
    while time.time() - start < budget:
        frac = (time.time() - start) / budget
        for gr in opt.param_groups:
            gr["lr"] = 2e-3 * 0.5 * (1 + math.cos(math.pi * frac)) + 2e-5
        idx = rng.integers(0, len(train[0]), a.batch)
        x, t, v = augment(rng, train[0][idx], train[1][idx], train[2][idx])
        net.train()
        coords, vl, logits = net(torch.from_numpy(x))
        loss = loss_fn(coords, vl, logits, torch.from_numpy(t), torch.from_numpy(v))
        opt.zero_grad(); loss.backward(); opt.step(); it += 1
        if it % 200 == 0:
            net.eval()
            print(f"it {it} {time.time() - start:.0f}s loss {loss.item():.3f} val {evaluate(net, val)}", flush=True)
    net.eval()
    OUT.mkdir(parents=True, exist_ok=True)
    onnx_path = OUT / "landmarks.onnx"
    torch.onnx.export(Export(net), torch.zeros(1, 1, CROP_H, CROP_W), str(onnx_path), opset_version=17,
                      input_names=["image"], output_names=["coords", "visible"],
                      dynamic_axes={"image": {0: "n"}, "coords": {0: "n"}, "visible": {0: "n"}}, dynamo=False)
    import onnxruntime as ort
    metrics = evaluate(ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]), val)
    manifest = {
        "name": "landmarks-demo", "version": 1, "demonstration": True,
        "input": [1, CROP_H, CROP_W], "points": list(POINTS), "visible_threshold": 0.5,
        "trained_on": f"synthetic bitewings and periapicals, {a.train_images} images (seed {a.seed}), {it} iterations",
        "validation": {"images": a.val_images, "seed": a.val_seed, "median_error_mm": metrics},
        "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
    }
    (OUT / "landmarks.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(manifest, indent=2))
    print(f"size {onnx_path.stat().st_size / 1e6:.2f} MB, total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
