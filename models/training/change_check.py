"""Train the change check (`models/change/`, `tray_app/analysis/change_model.py`): per change the
comparison's rules claim between a prior and a current image, is it a change of the mouth?

Our own code and data only: prior/current pairs from the generator (`tray_app/demo/pairs.py`, whose
ground truth knows the one change of each pair, or that there is none) put through the product's
own steps as `bench/priors_pairs.py` does (bundled detector, tooth placement, registration, landmark
model, `clinical.comparison.compared` without the check). The samples are the rules' claims (their
final ones) and the raw box differences before the rules (`clinical.change.findings_change` without
pixel evidence, and with the detector's under-threshold candidates as findings in one image: its
flicker), each labelled by the pair's truth. Run:

    nice -n 10 python models/training/change_check.py      # samples (cached), train, export, evaluate

Writes `models/change/change.onnx` and `change.json`; the sample cache goes to
`models/training/runs/change/` (git-ignored). The recipe is validated by training on pair seeds
5000-129000 and measuring on 133000-161000 (the numbers in change.json); the shipped model is then
trained on all of them. bench/priors_pairs.py measures the product on seeds from 165000 on, which no
training saw.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.priors_pairs import changed_boxes, detected_findings, is_the_change, on_changed_tooth  # noqa: E402
from tray_app.analysis.change_model import CHANGES, CROP, claim_input, claim_numbers  # noqa: E402

RUNS = Path(__file__).resolve().parent / "runs" / "change"
OUT = ROOT / "models" / "change"
PAIRS = 144                                   # per seed, as bench/priors_pairs.py makes them
TRAIN_SEEDS = tuple(range(5000, 133000, 4000))
VAL_SEEDS = tuple(range(133000, 165000, 4000))


def _truth(what: str, tooth: int, boxes, drawn: bool, c: dict) -> int:
    """1: the pair's change, as bench/priors_pairs.py counts it reported; 0: no change there;
    -1: on the changed tooth but of another kind, or a change not drawn (left out of training)."""
    if what == "none":
        return 0
    on = on_changed_tooth(c, tooth, boxes)
    if on and drawn and is_the_change(c, what):
        return 1
    return -1 if (on or not drawn) else 0


def _as_findings(candidates) -> list[dict]:
    return [{"label": d.label, "x1": d.box[0], "y1": d.box[1], "x2": d.box[2], "y2": d.box[3], "confidence": d.score}
            for d in candidates if d.label != "tooth"]


def pair_samples(detector, landmarks, kind: str, seed: int, what: str):
    """[(input, numbers, truth, final)] of one generated pair; [] when it does not register."""
    from tray_app.analysis.registration import register
    from tray_app.clinical import change
    from tray_app.clinical import pixel_evidence as pixels
    from tray_app.clinical.comparison import CANDIDATE_SHARE, aligned_prior, bone_levels_of, compared, label_thresholds
    from tray_app.demo.pairs import make_pair

    pair = make_pair(kind, seed, what)
    reg = register(pair.current, pair.prior)
    if not reg.ok:
        return []
    cur, pri = pair.current, pair.prior
    now = detected_findings(detector, cur, kind, pair.teeth_fdi)
    then = detected_findings(detector, pri, kind, pair.teeth_fdi)
    final, _ = compared(cur, pri, now, then, reg, bone_levels_of(landmarks, cur, now, pair.spacing_mm),
                        bone_levels_of(landmarks, pri, then, pair.spacing_mm), detector, kind)
    floors = CANDIDATE_SHARE * detector.thresholds
    m, size, prior_size = reg.as_array(), cur.shape[::-1], pri.shape[::-1]
    teeth = lambda fs: [f for f in fs if f["label"] == "tooth"]  # noqa: E731
    raw = change.findings_change(now, then, m, size, None, prior_size=prior_size)
    raw += change.findings_change(teeth(now) + _as_findings(detector.detect(cur, thresholds=floors, kind=kind)),
                                  then, m, size, None, prior_size=prior_size)
    raw += change.findings_change(now, teeth(then) + _as_findings(detector.detect(pri, thresholds=floors, kind=kind)),
                                  m, size, None, prior_size=prior_size)
    key = lambda c: (c["change"], c["label"], tuple(c["box"]))  # noqa: E731
    finals = {key(c) for c in final}
    unique = {}
    for c in raw:
        if key(c) not in finals:
            unique.setdefault(key(c), c)
    aligned, seen = aligned_prior(cur, pri, reg)
    evidence = pixels.pixel_evidence(cur, aligned, seen)
    thresholds = label_thresholds(detector)
    labels = tuple(s.name for s in detector.manifest.labels if s.name != "tooth")
    boxes = changed_boxes(pair)
    out = []
    for c, is_final in [(c, True) for c in final] + [(c, False) for c in unique.values()]:
        c = dict(c)
        c.setdefault("evidence", round(evidence(c["box"], change._sign(c)), 2))
        out.append((claim_input(cur, aligned, seen, c["box"]),
                    claim_numbers(c, size, labels, thresholds, evidence.alike(c["box"])),
                    _truth(what, pair.tooth_fdi, boxes, pair.change_drawn(), c), is_final))
    return out


def seed_samples(seed: int, detector, landmarks) -> dict:
    """The samples of one bench seed's PAIRS pairs (cached)."""
    from tray_app.demo.pairs import CHANGES as PAIR_CHANGES

    path = RUNS / f"{seed}.npz"
    if not path.exists():
        RUNS.mkdir(parents=True, exist_ok=True)
        rows = []
        for i in range(PAIRS):
            kind, what = ("bitewing", "periapical")[i % 2], PAIR_CHANGES[(i // 2) % len(PAIR_CHANGES)]
            rows += pair_samples(detector, landmarks, kind, seed + i, what)
        x, n, y, f = zip(*rows)
        np.savez_compressed(path, X=np.array(x, np.float16), N=np.array(n), Y=np.array(y), F=np.array(f))
    d = np.load(path)
    return {k: d[k] for k in ("X", "N", "Y", "F")}


def samples(seeds, detector, landmarks) -> dict:
    parts = []
    for seed in seeds:
        t0 = time.time()
        parts.append(seed_samples(seed, detector, landmarks))
        print(f"  seed {seed}: {len(parts[-1]['Y'])} samples ({time.time() - t0:.0f} s)", flush=True)
    return {k: np.concatenate([p[k] for p in parts]) for k in ("X", "N", "Y", "F")}


class ChangeNet(nn.Module):
    """Three conv stages over the window (current, aligned prior, seen) and the claim's numbers."""

    def __init__(self, k: int):
        super().__init__()
        stage = lambda i, o: nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(),  # noqa: E731
                                           nn.MaxPool2d(2))
        self.crops = nn.Sequential(stage(3, 16), stage(16, 32), stage(32, 32))
        self.numbers = nn.Sequential(nn.Linear(k, 32), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(32 * (CROP // 8) ** 2 + 32, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 1))

    def forward(self, crops, numbers):
        return self.head(torch.cat([self.crops(crops).flatten(1), self.numbers(numbers)], 1)).squeeze(1)


def train(data: dict, epochs: int, seed: int) -> ChangeNet:
    """Weighted BCE (the two classes weigh the same), one-cycle AdamW, flips as augmentation."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    keep = data["Y"] >= 0
    x = torch.tensor(data["X"][keep].astype(np.float32))
    n = torch.tensor(data["N"][keep])
    y = torch.tensor(data["Y"][keep], dtype=torch.float32)
    weight = torch.where(y > 0, 1.0, float(y.sum() / max(1.0, float((y == 0).sum()))))
    net = ChangeNet(n.shape[1])
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-3)
    steps = (len(y) + 127) // 128
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * steps)
    for epoch in range(epochs):
        net.train()
        order, total = torch.randperm(len(y)), 0.0
        for i in range(0, len(y), 128):
            b = order[i:i + 128]
            xb = x[b]
            for dim in (2, 3):
                if rng.random() < 0.5:
                    xb = xb.flip(dim)
            loss = (F.binary_cross_entropy_with_logits(net(xb, n[b]), y[b], reduction="none") * weight[b]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(b)
        if (epoch + 1) % 10 == 0:
            print(f"  epoch {epoch + 1}: loss {total / len(y):.4f}", flush=True)
    return net.eval()


class Ensemble(nn.Module):
    """Members trained alike from other seeds, their logits averaged: a claim at the border of one
    member's decision (a lesion that grew, or an export's darkening) moves less."""

    def __init__(self, members: list[ChangeNet]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, crops, numbers):
        return torch.stack([m(crops, numbers) for m in self.members]).mean(0)


def trained(data: dict, epochs: int, seed: int, members: int) -> Ensemble:
    return Ensemble([train(data, epochs, seed + i) for i in range(members)]).eval()


def odds(net: nn.Module, data: dict) -> np.ndarray:
    with torch.no_grad():
        return torch.sigmoid(net(torch.tensor(data["X"].astype(np.float32)), torch.tensor(data["N"]))).numpy()


def measured(p: np.ndarray, data: dict, threshold: float) -> dict:
    """Of the rules' final claims: the true changes kept, and the claims of no change kept."""
    y, final = data["Y"], data["F"].astype(bool)
    true, false = final & (y == 1), final & (y == 0)
    return {"true_claims_kept": f"{int((p[true] >= threshold).sum())}/{int(true.sum())}",
            "other_claims_kept": f"{int((p[false] >= threshold).sum())}/{int(false.sum())}",
            "raw_differences_without_change_kept": f"{int((p[y == 0] >= threshold).sum())}/{int((y == 0).sum())}"}


def export(net: nn.Module, k: int, path: Path) -> None:
    net.eval()
    torch.onnx.export(net, (torch.zeros(1, 3, CROP, CROP), torch.zeros(1, k)), str(path), opset_version=17,
                      input_names=["crops", "numbers"], output_names=["logits"], dynamo=False,
                      dynamic_axes={"crops": {0: "n"}, "numbers": {0: "n"}, "logits": {0: "n"}})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--members", type=int, default=5, help="networks averaged (seeds seed, seed+1, …)")
    parser.add_argument("--threshold", type=float, default=0.2,
                        help="least odds for a claim to stand (chosen by 5-fold cross-validation over the seeds)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from tray_app.analysis.landmarks import LandmarkModel
    from tray_app.analysis.model import load_model
    from tray_app.config import bundled_models_dir

    detector = load_model(bundled_models_dir() / "dental-demo")
    landmarks = LandmarkModel()
    t0 = time.time()
    print("samples (train)", flush=True)
    data = samples(TRAIN_SEEDS, detector, landmarks)
    print("samples (validation)", flush=True)
    val = samples(VAL_SEEDS, detector, landmarks)
    print(f"train: {len(data['Y'])} samples, {int((data['Y'] == 1).sum())} changes, {int((data['Y'] == 0).sum())} not",
          flush=True)
    print("train (validation seeds held out)", flush=True)
    validation = measured(odds(trained(data, args.epochs, args.seed, args.members), val), val, args.threshold)
    print(json.dumps(validation), "\ntrain (all seeds: the shipped model)", flush=True)
    data = {k: np.concatenate([data[k], val[k]]) for k in data}
    net = trained(data, args.epochs, args.seed, args.members)
    OUT.mkdir(parents=True, exist_ok=True)
    export(net, data["N"].shape[1], OUT / "change.onnx")
    manifest = {
        "name": "change-check-demo", "version": 1, "demonstration": True,
        "labels": [s.name for s in detector.manifest.labels if s.name != "tooth"], "changes": list(CHANGES),
        "input": [3, CROP, CROP], "threshold": args.threshold,
        "trained_on": f"generated prior/current pairs: {PAIRS} per bench seed {TRAIN_SEEDS[0]}, "
                      f"{TRAIN_SEEDS[1]}, … {VAL_SEEDS[-1]} ({len(data['Y'])} samples, {int((data['Y'] >= 0).sum())} "
                      f"labelled), {args.members} members × {args.epochs} epochs",
        # the same recipe trained on the other seeds only: the shipped model has seen these
        "validation": {"seeds": f"{VAL_SEEDS[0]}-{VAL_SEEDS[-1]}", "trained_without_them": True, **validation},
        "sha256": hashlib.sha256((OUT / "change.onnx").read_bytes()).hexdigest(),
        "minutes": round((time.time() - t0) / 60, 1),
    }
    (OUT / "change.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
