"""Train the change check (`models/change/`, `tray_app/analysis/change_model.py`): per change the
comparison's rules claim between a prior and a current image (a finding new, gone or grown, or a
bone level read deeper), is it a change of the mouth?

Our own code and data only: prior/current pairs from the generator (`tray_app/demo/pairs.py`, whose
ground truth knows the one change of each pair, or that there is none) put through the product's
own steps as `bench/priors_pairs.py` does (bundled detector, tooth placement, registration, landmark
model, `clinical.comparison.compared` without the check). The samples are the rules' claims (their
final ones), the raw box differences before the rules (`clinical.change.findings_change` without
pixel evidence, and with the detector's under-threshold candidates as findings in one image: its
flicker), and the bone levels read deeper, each labelled by the pair's truth. The pairs: 144 per
bench seed 5000, 9000, … 161000, and runs of 144 pairs without change (the rules' rare false claims
are what the check must learn to drop). Run:

    nice -n 10 python models/training/change_check.py      # samples (cached), train, export, evaluate

Writes `models/change/change.onnx` and `change.json`; the sample cache goes to
`models/training/runs/change/` (git-ignored). The recipe is validated by training without seeds
133000-161000 and the runs from 1048000 and measuring on them (the numbers in change.json, and the
threshold); the shipped model is then trained on all of them. bench/priors_pairs.py measures the
product on seeds from 165000 on, which no training saw.
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
from tray_app.analysis.change_model import CHANGES, CHANNELS, CROP, DEEPER, bone_claim, claim_numbers, claim_windows  # noqa: E402

RUNS = Path(__file__).resolve().parent / "runs" / "change"
OUT = ROOT / "models" / "change"
PAIRS = 144                                   # per seed, as bench/priors_pairs.py made them (the seed picking the view)
TRAIN_SEEDS = tuple(range(5000, 133000, 4000))
VAL_SEEDS = tuple(range(133000, 165000, 4000))
# runs of PAIRS pairs without change only: the rules' false claims are rare (about 1 in 80 such
# pairs), and these are what the check must learn to drop
NO_CHANGE_TRAIN = tuple(range(1_000_000, 1_048_000, 1000))
NO_CHANGE_VAL = tuple(range(1_048_000, 1_060_000, 1000))
# from this seed on a run takes each kind for 4 pairs in turn, so that the seed picks all 4 views of
# each; the runs before alternated kinds pair by pair as the bench did, and saw 2 views of each
ALL_VIEWS_FROM = 1_044_000


def _truth(what: str, tooth: int, boxes, drawn: bool, c: dict) -> int:
    """1: the pair's change, as bench/priors_pairs.py counts it reported; 0: no change there;
    -1: on the changed tooth but of another kind, or a change not drawn (left out of training)."""
    if what == "none":
        return 0
    on = on_changed_tooth(c, tooth, boxes)
    # a bone level read deeper reports bone that receded, as the bench counts a progressing row
    the_change = what == "bone_receded" if c["change"] == DEEPER else is_the_change(c, what)
    if on and drawn and the_change:
        return 1
    return -1 if (on or not drawn) else 0


def _as_findings(candidates) -> list[dict]:
    return [{"label": d.label, "x1": d.box[0], "y1": d.box[1], "x2": d.box[2], "y2": d.box[3], "confidence": d.score}
            for d in candidates if d.label != "tooth"]


def pair_parts(detector, landmarks, kind: str, seed: int, what: str) -> dict | None:
    """The expensive part of a generated pair's samples (detections, candidates, registration, bone
    levels); None when it does not register."""
    from tray_app.analysis.registration import register
    from tray_app.clinical.comparison import CANDIDATE_SHARE, bone_levels_of
    from tray_app.demo.pairs import make_pair

    pair = make_pair(kind, seed, what)
    reg = register(pair.current, pair.prior)
    if not reg.ok:
        return None
    cur, pri = pair.current, pair.prior
    now = detected_findings(detector, cur, kind, pair.teeth_fdi)
    then = detected_findings(detector, pri, kind, pair.teeth_fdi)
    floors = CANDIDATE_SHARE * detector.thresholds
    return {"kind": kind, "what": what, "current": cur, "prior": pri, "reg": reg, "now": now, "then": then,
            "candidates": {"current": detector.detect(cur, thresholds=floors, kind=kind),
                           "prior": detector.detect(pri, thresholds=floors, kind=kind)},
            "bone_now": bone_levels_of(landmarks, cur, now, pair.spacing_mm),
            "bone_then": bone_levels_of(landmarks, pri, then, pair.spacing_mm),
            "tooth": pair.tooth_fdi, "boxes": changed_boxes(pair), "drawn": pair.change_drawn()}


class _Candidates:
    """The detector as `compared` asks it, answering from a pair's parts: its under-threshold
    candidates (the only thing `compared` detects) were found once, in `pair_parts`."""

    def __init__(self, detector, parts: dict):
        self.manifest, self.thresholds, self.parts = detector.manifest, detector.thresholds, parts

    def detect(self, img, thresholds=None, kind=None):
        return self.parts["candidates"]["current" if img is self.parts["current"] else "prior"]


def samples_of(parts: dict, detector) -> list[tuple]:
    """[(input, numbers, truth, final)] of one pair's parts: the rules' final claims, the raw box
    differences before the rules (also with either image's candidates as its findings), and the bone
    levels read deeper by PROGRESSING_MM (final: their pixel evidence confirmed them)."""
    from tray_app.clinical import change
    from tray_app.clinical import pixel_evidence as pixels
    from tray_app.clinical.comparison import aligned_prior, compared, label_thresholds

    cur, pri, reg, now, then = (parts[k] for k in ("current", "prior", "reg", "now", "then"))
    final, bone = compared(cur, pri, now, then, reg, parts["bone_now"], parts["bone_then"],
                           _Candidates(detector, parts), parts["kind"])
    m, size, prior_size = reg.as_array(), cur.shape[::-1], pri.shape[::-1]
    teeth = lambda fs: [f for f in fs if f["label"] == "tooth"]  # noqa: E731
    candidates = {k: _as_findings(v) for k, v in parts["candidates"].items()}
    raw = change.findings_change(now, then, m, size, None, prior_size=prior_size)
    raw += change.findings_change(teeth(now) + candidates["current"], then, m, size, None, prior_size=prior_size)
    raw += change.findings_change(now, teeth(then) + candidates["prior"], m, size, None, prior_size=prior_size)
    key = lambda c: (c["change"], c["label"], tuple(c["box"]))  # noqa: E731
    finals = {key(c) for c in final}
    unique = {}
    for c in raw:
        if key(c) not in finals:
            unique.setdefault(key(c), c)
    aligned, seen = aligned_prior(cur, pri, reg)
    evidence = pixels.pixel_evidence(cur, aligned, seen)
    window = claim_windows(cur, aligned, seen)
    thresholds = label_thresholds(detector)
    labels = tuple(s.name for s in detector.manifest.labels if s.name != "tooth")
    out = []
    # bone levels read deeper, whether their pixel evidence confirmed them or not
    rows = [(bone_claim(r), r["progressing"]) for r in bone if r.get("box")]
    for c, is_final in [(c, True) for c in final] + [(c, False) for c in unique.values()] + rows:
        c = dict(c)
        c.setdefault("evidence", round(evidence(c["box"], change._sign(c)), 2))
        out.append((window(c["box"]), claim_numbers(c, size, labels, thresholds, evidence.alike(c["box"])),
                    _truth(parts["what"], parts["tooth"], parts["boxes"], parts["drawn"], c), is_final))
    return out


def seed_samples(seed: int, detector, landmarks, no_change: bool = False) -> dict:
    """The samples of PAIRS pairs from `seed` on (cached): as the bench made them before `pair_recipe`
    (kind, then change, in turn; the seed picks the view), or all without change."""
    from tray_app.demo.pairs import CHANGES as PAIR_CHANGES

    path = RUNS / f"{'none_' if no_change else ''}{seed}.npz"
    if not path.exists():
        RUNS.mkdir(parents=True, exist_ok=True)
        rows = []
        for i in range(PAIRS):
            kind = ("bitewing", "periapical")[(i // 4) % 2 if no_change and seed >= ALL_VIEWS_FROM else i % 2]
            what = "none" if no_change else PAIR_CHANGES[(i // 2) % len(PAIR_CHANGES)]
            parts = pair_parts(detector, landmarks, kind, seed + i, what)
            rows += samples_of(parts, detector) if parts else []
        x, n, y, f = zip(*rows)
        np.savez_compressed(path, X=np.array(x, np.float16), N=np.array(n), Y=np.array(y), F=np.array(f))
    d = np.load(path)
    return {k: d[k] for k in ("X", "N", "Y", "F")}


def samples(seeds, no_change_seeds, detector, landmarks) -> dict:
    parts = []
    for seed, no_change in [(s, False) for s in seeds] + [(s, True) for s in no_change_seeds]:
        t0 = time.time()
        parts.append(seed_samples(seed, detector, landmarks, no_change))
        print(f"  seed {seed}: {len(parts[-1]['Y'])} samples ({time.time() - t0:.0f} s)", flush=True)
    return {k: np.concatenate([p[k] for p in parts]) for k in ("X", "N", "Y", "F")}


class ChangeNet(nn.Module):
    """Three conv stages over the window (`claim_windows`' planes) and the claim's numbers."""

    def __init__(self, k: int):
        super().__init__()
        stage = lambda i, o: nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(),  # noqa: E731
                                           nn.MaxPool2d(2))
        self.crops = nn.Sequential(stage(CHANNELS, 16), stage(16, 32), stage(32, 32))
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
    torch.onnx.export(net, (torch.zeros(1, CHANNELS, CROP, CROP), torch.zeros(1, k)), str(path), opset_version=17,
                      input_names=["crops", "numbers"], output_names=["logits"], dynamo=False,
                      dynamic_axes={"crops": {0: "n"}, "numbers": {0: "n"}, "logits": {0: "n"}})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--members", type=int, default=5, help="networks averaged (seeds seed, seed+1, …)")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="least odds for a claim to stand (chosen on the validation: at 0.5 it kept no claim on "
                             "its pairs without change and as many true ones as at 0.2)")
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
    data = samples(TRAIN_SEEDS, NO_CHANGE_TRAIN, detector, landmarks)
    print("samples (validation)", flush=True)
    val = samples(VAL_SEEDS, NO_CHANGE_VAL, detector, landmarks)
    print(f"train: {len(data['Y'])} samples, {int((data['Y'] == 1).sum())} changes, {int((data['Y'] == 0).sum())} not",
          flush=True)
    print("train (validation seeds held out)", flush=True)
    p = odds(trained(data, args.epochs, args.seed, args.members), val)
    np.save(RUNS / "validation_odds.npy", p)
    for threshold in sorted({0.1, 0.2, 0.3, 0.5, args.threshold}):
        print(f"  at {threshold}: {json.dumps(measured(p, val, threshold))}", flush=True)
    validation = measured(p, val, args.threshold)
    print("train (all seeds: the shipped model)", flush=True)
    data = {k: np.concatenate([data[k], val[k]]) for k in data}
    net = trained(data, args.epochs, args.seed, args.members)
    OUT.mkdir(parents=True, exist_ok=True)
    export(net, data["N"].shape[1], OUT / "change.onnx")
    manifest = {
        "name": "change-check-demo", "version": 2, "demonstration": True,
        "labels": [s.name for s in detector.manifest.labels if s.name != "tooth"], "changes": list(CHANGES),
        "input": [CHANNELS, CROP, CROP], "threshold": args.threshold,
        "trained_on": f"generated prior/current pairs: {PAIRS} per bench seed {TRAIN_SEEDS[0]}, "
                      f"{TRAIN_SEEDS[1]}, … {VAL_SEEDS[-1]} and {PAIRS} without change per seed "
                      f"{NO_CHANGE_TRAIN[0]}, {NO_CHANGE_TRAIN[1]}, … {NO_CHANGE_VAL[-1]} ({len(data['Y'])} samples, "
                      f"{int((data['Y'] >= 0).sum())} labelled), {args.members} members × {args.epochs} epochs",
        # the same recipe trained on the other seeds only: the shipped model has seen these
        "validation": {"seeds": f"{VAL_SEEDS[0]}-{VAL_SEEDS[-1]}",
                       "seeds_without_change": f"{NO_CHANGE_VAL[0]}-{NO_CHANGE_VAL[-1] + PAIRS - 1}",
                       "trained_without_them": True, **validation},
        "sha256": hashlib.sha256((OUT / "change.onnx").read_bytes()).hexdigest(),
        "minutes": round((time.time() - t0) / 60, 1),
    }
    (OUT / "change.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
