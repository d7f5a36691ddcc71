"""Train the bundled demo detector (DentalNet) on synthetic radiographs, CPU only.

    python models/training/train.py --out models/dental-demo

Steps: (1) generate the training / validation sets once into npz caches under
models/training/runs/ (ignored by git); (2) train for a fixed number of iterations
(cosine LR, AdamW, EMA weights), checkpointing as it goes; (3) export ONNX with the
decode in the graph (export.py); (4) pick per-label thresholds maximising F1 on the
validation set and measure AP50/precision/recall on a held-out set with the EXPORTED
model and the product's own pre/post-processing (evaluate.py); (5) write model.json.
Everything is seeded; torch runs on 2 threads.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from data import KIND_CYCLE, TILES_PER_PANO, Augmenter, build_cache, load_cache, synth_module  # noqa: E402
from tray_app.demo.imaging_chain import FAMILIES, HELD_OUT_FAMILIES  # noqa: E402
from loss import DetLoss  # noqa: E402
from net import DentalNet, count_macs, count_params, flatten  # noqa: E402


def log(msg, fh=None):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)


def get_cache(runs: Path, name: str, n: int, seed: int, size: int, window_aug: bool):
    path = runs / f"{name}_v2_{size}_{seed}_{n}{'_w' if window_aug else ''}.npz"
    if path.exists():
        log(f"cache {path.name} found")
        return load_cache(path)
    t = time.time()
    log(f"generating {n} {name} images (seed {seed}) -> {path.name}")
    c = build_cache(path, n, seed, size, workers=2, window_aug=window_aug, log=log)
    log(f"  done in {time.time() - t:.0f}s")
    return c


class EMA:
    def __init__(self, model, decay=0.9995, tau=1000):
        import copy
        self.ema = copy.deepcopy(model).eval()
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.decay, self.tau, self.updates = decay, tau, 0

    @torch.no_grad()
    def update(self, model):
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        msd = model.state_dict()
        for k, v in self.ema.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(d).add_(msd[k].detach(), alpha=1 - d)
            else:
                v.copy_(msd[k])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(HERE.parent / "dental-demo"))
    ap.add_argument("--runs", default=str(HERE / "runs"))
    ap.add_argument("--seed", type=int, default=20260)
    ap.add_argument("--train-seed", type=int, default=100000, help="first synth seed of the training set")
    ap.add_argument("--train-images", type=int, default=4000)
    ap.add_argument("--val-seed", type=int, default=500000)
    ap.add_argument("--val-images", type=int, default=300)
    ap.add_argument("--heldout-seed", type=int, default=900000)
    ap.add_argument("--heldout-images", type=int, default=360)
    ap.add_argument("--gap-seed", type=int, default=950000, help="held-out imaging style (domain-gap check)")
    ap.add_argument("--size", type=int, default=640, help="model input (square)")
    ap.add_argument("--crop", type=int, default=416, help="training crop")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--iters", type=int, default=2200)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--resume", default="")
    ap.add_argument("--skip-train", action="store_true", help="only export + evaluate the last checkpoint")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    runs = Path(args.runs)
    runs.mkdir(parents=True, exist_ok=True)
    synth = synth_module()
    labels = list(synth.LABELS)
    nc = len(labels)
    t_all = time.time()

    net = DentalNet(nc)
    params, macs = count_params(net), count_macs(net, args.size, args.size)
    log(f"DentalNet: {params} params, {2 * macs / 1e9:.2f} GFLOPs at {args.size}x{args.size}")
    ckpt_path = runs / "last.pt"

    train_minutes = 0.0
    if not args.skip_train:
        train = get_cache(runs, "train", args.train_images, args.train_seed, args.size, True)
        aug = Augmenter(train, args.crop, args.seed)
        # class balance: mild up-weighting of rare classes in the BCE
        counts = np.bincount(train["classes"], minlength=nc).astype(np.float64)
        log("train objects per class: " + ", ".join(f"{l}={int(c)}" for l, c in zip(labels, counts)))
        cw = np.clip((counts.max() / np.maximum(counts, 1)) ** 0.25, 1.0, 3.0)
        crit = DetLoss(nc, class_weights=torch.tensor(cw, dtype=torch.float32))
        net = net.to(memory_format=torch.channels_last)
        decay, no_decay = [], []
        for n_, p in net.named_parameters():
            (no_decay if p.ndim <= 1 else decay).append(p)
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=args.lr, betas=(0.9, 0.999))
        ema = EMA(net)
        start = 0
        if args.resume:
            ck = torch.load(args.resume, weights_only=False)
            net.load_state_dict(ck["model"]); ema.ema.load_state_dict(ck["ema"]); opt.load_state_dict(ck["opt"])
            ema.updates = ck["ema_updates"]; start = ck["iter"]
            aug.rng = np.random.default_rng(args.seed + start)
        warm = 300
        t0 = time.time()
        run_loss = None
        for it in range(start, args.iters):
            if it < warm:
                lr = args.lr * (0.1 + 0.9 * it / warm)
            else:
                p = (it - warm) / max(1, args.iters - warm)
                lr = args.lr * (0.04 + 0.96 * 0.5 * (1 + math.cos(math.pi * p)))
            for g in opt.param_groups:
                g["lr"] = lr
            x, tb = aug.batch(args.batch)
            x = torch.from_numpy(x).contiguous(memory_format=torch.channels_last)
            targets = [(torch.from_numpy(b).float(), torch.from_numpy(c).long()) for b, c in tb]
            net.train()
            cls, ltrb, anchors, strides = flatten(net(x))
            loss, parts = crit(cls, ltrb, anchors, strides, targets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
            opt.step()
            ema.update(net)
            lv = float(loss)
            run_loss = lv if run_loss is None else 0.98 * run_loss + 0.02 * lv
            if (it + 1) % 25 == 0:
                el = time.time() - t0
                done = it + 1 - start
                eta = el / done * (args.iters - it - 1)
                log(f"it {it + 1}/{args.iters} loss {run_loss:.3f} (cls {parts['cls']:.3f} box {parts['box']:.3f}) "
                    f"lr {lr:.2e} {done * args.batch / el:.1f} img/s eta {eta / 60:.1f} min")
            if (it + 1) % 200 == 0 or it + 1 == args.iters:
                torch.save({"model": net.state_dict(), "ema": ema.ema.state_dict(), "opt": opt.state_dict(),
                            "ema_updates": ema.updates, "iter": it + 1, "args": vars(args)}, ckpt_path)
        train_minutes = (time.time() - t0) / 60
        log(f"training done in {train_minutes:.1f} min")
        (runs / "train_info.json").write_text(json.dumps({"minutes": train_minutes, "iters": args.iters}))
    else:
        info = runs / "train_info.json"
        if info.exists():
            train_minutes = json.loads(info.read_text())["minutes"]

    # ---- export + evaluate ----
    from export import export_onnx, write_manifest
    from evaluate import collect, tune_thresholds, summarise
    ck = torch.load(ckpt_path, weights_only=False)
    net = DentalNet(nc)
    net.load_state_dict(ck["ema"])
    net.eval()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / "model.onnx"
    export_onnx(net, onnx_path, args.size, args.size)
    log(f"exported {onnx_path} ({onnx_path.stat().st_size / 1e6:.2f} MB)")
    # provisional manifest so the product loader can open it for evaluation
    arch = {"name": "DentalNet (own design): CSP-lite conv backbone, FPN+PAN neck, anchor-free head",
            "params": params, "gflops": round(2 * macs / 1e9, 3), "input": [1, 1, args.size, args.size],
            "strides": [8, 16, 32], "anchor_points": sum((args.size // s) ** 2 for s in (8, 16, 32)),
            "box": "ltrb = softplus * stride from cell centres; decode + sigmoid inside the graph",
            "assigner": "task-aligned top-k (alpha 1, beta 6, k 10)", "loss": "IoU-aware BCE + GIoU + L1"}
    training = {"script": "models/training/train.py", "seed": args.seed,
                "data": (f"synthetic radiographs from tray_app.demo.synth, seeds {args.train_seed}.."
                         f"{args.train_seed + args.train_images - 1} (kinds cycled {'/'.join(KIND_CYCLE)}; "
                         f"panoramics as {TILES_PER_PANO} random tiles of the 4x2 grid, a quarter also whole); "
                         f"imaging styles {', '.join(f for f in FAMILIES if f not in HELD_OUT_FAMILIES)} "
                         f"(held out: {', '.join(HELD_OUT_FAMILIES)})"),
                "images": args.train_images, "iterations": args.iters, "batch": args.batch, "crop": args.crop,
                "epochs": round(args.iters * args.batch / args.train_images, 2),
                "minutes": round(train_minutes, 1), "torch": torch.__version__.split("+")[0],
                "threads": args.threads}
    write_manifest(out, labels, args.size, {l: 0.35 for l in labels}, arch, training, metrics=None)
    val = collect(out, args.val_images, args.val_seed)
    thresholds = tune_thresholds(val, labels)
    log("thresholds: " + json.dumps(thresholds))
    write_manifest(out, labels, args.size, thresholds, arch, training, metrics=None)
    held = collect(out, args.heldout_images, args.heldout_seed)
    metrics = summarise(held, labels, thresholds)
    metrics["heldout_seed"] = args.heldout_seed
    metrics["validation"] = {"seed": args.val_seed, "images": args.val_images, "use": "per-label F1-optimal thresholds"}
    # domain-gap check: the same labels on an imaging style no training image had
    gap = summarise(collect(out, args.heldout_images, args.gap_seed, styles="heldout"), labels, thresholds)
    gap["seed"], gap["styles"] = args.gap_seed, list(HELD_OUT_FAMILIES)
    metrics["heldout_style"] = gap
    write_manifest(out, labels, args.size, thresholds, arch, training, metrics=metrics)
    log("held-out: " + json.dumps(metrics))
    log(f"all done in {(time.time() - t_all) / 60:.1f} min")


if __name__ == "__main__":
    main()
