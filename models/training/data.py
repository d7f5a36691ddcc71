"""Training data: synthetic radiographs from tray_app.demo.synth, letterboxed
exactly like the product does, cached once to an .npz, then augmented on the fly.

Cache layout (one npz): ``images`` uint8 [M, S, S] letterboxed canvases
(pad = 114), ``rects`` int [M, 4] (x1, y1, x2, y2 of the image content inside
the canvas), ``boxes`` float32 [K, 4] in canvas pixels, ``classes`` int [K],
``offsets`` int [M + 1] (boxes of image i are offsets[i]:offsets[i+1]),
``kinds`` int [M].
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FILL = 114
# the bundled model's contract (model.json "tiling"): panoramics run as 4 x 2 overlapping tiles
PANO_TILES = {"columns": 4, "rows": 2, "overlap": 0.2}
# one panoramic in the cache becomes this many random tiles (and sometimes the whole image)
TILES_PER_PANO = 3
# image kinds of the training mix, cycled: panoramics are fewer but each gives several tiles
KIND_CYCLE = ("bitewing", "periapical", "bitewing", "periapical", "panoramic")


def synth_module():
    from tray_app.demo import synth
    return synth


def letterbox(gray: np.ndarray, width: int, height: int, fill: int = FILL):
    """Same steps as tray_app.analysis.postprocess.letterbox (kept in sync on purpose:
    the training data must be resized exactly like the product resizes)."""
    try:
        from tray_app.analysis.postprocess import letterbox as product_letterbox
        canvas, lb = product_letterbox(gray, width, height, fill)
        return canvas, lb.scale, lb.pad_x, lb.pad_y
    except ImportError:
        h, w = gray.shape[:2]
        r = min(height / h, width / w)
        nw, nh = max(1, round(w * r)), max(1, round(h * r))
        resized = np.asarray(Image.fromarray(gray).resize((nw, nh), Image.BILINEAR))
        canvas = np.full((height, width), fill, dtype=np.uint8)
        px, py = (width - nw) // 2, (height - nh) // 2
        canvas[py:py + nh, px:px + nw] = resized
        return canvas, r, float(px), float(py)


def _windowed_uint8(sample, rng: np.random.Generator, synth) -> np.ndarray:
    """uint8 view of a sample.  Mostly the full-range scaling (what the product does
    without a VOI window); sometimes a random VOI-like window from the raw bits, so the
    model is robust to how a practice's software windows 12/16-bit images."""
    img = sample.image
    if rng.random() < 0.5:
        return synth.to_uint8(sample)
    f = img.astype(np.float32)
    lo_p, hi_p = rng.uniform(0.0, 5.0), rng.uniform(95.0, 100.0)
    lo, hi = np.percentile(f[:: 4, :: 4], [lo_p, hi_p])
    if hi - lo < 1e-6:
        return synth.to_uint8(sample)
    return np.clip((f - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.uint8)


def training_style(seed: int, kind: str, styles: str) -> str | None:
    """The imaging-chain family of a sample: "train" excludes the held-out families (drawn
    again deterministically among the others), "heldout" forces one of them, "all" keeps
    the generator's own draw."""
    from tray_app.demo import imaging_chain as chain
    synth = synth_module()
    fam = chain.draw_family(seed, synth.KINDS.index(kind))
    if styles == "all":
        return None
    if styles == "heldout":
        return chain.HELD_OUT_FAMILIES[seed % len(chain.HELD_OUT_FAMILIES)]
    if fam in chain.HELD_OUT_FAMILIES:
        pool = [f for f in chain.FAMILIES if f not in chain.HELD_OUT_FAMILIES]
        return pool[seed % len(pool)]
    return fam


def _views(s, gray, rng, tiles: int):
    """(pixels, objects) the model is trained on: the whole image, or for a panoramic some
    of the tiles the product cuts it into (tray_app.analysis.tiling)."""
    if s.kind != "panoramic" or tiles <= 0:
        return [(gray, s.objects)]
    from tray_app.analysis.tiling import TileSpec, windows
    h, w = gray.shape
    wins = windows(w, h, TileSpec.from_dict(PANO_TILES, "training"))
    pick = rng.permutation(len(wins))[:tiles]
    out = [(gray, s.objects)] if rng.random() < 0.25 else []
    for i in pick:
        x0, y0, x1, y1 = wins[i]
        objs = []
        for o in s.objects:
            bx1, by1, bx2, by2 = o.box
            cx1, cy1, cx2, cy2 = max(bx1, x0), max(by1, y0), min(bx2, x1), min(by2, y1)
            if cx2 - cx1 < 2 or cy2 - cy1 < 2:
                continue
            if (cx2 - cx1) * (cy2 - cy1) < 0.45 * (bx2 - bx1) * (by2 - by1):
                continue
            objs.append(type(o)(o.label, (cx1 - x0, cy1 - y0, cx2 - x0, cy2 - y0), o.tooth_fdi, o.surfaces))
        out.append((np.ascontiguousarray(gray[y0:y1, x0:x1]), objs))
    return out


def _make_one(args):
    kind, seed, size, window_aug, styles, tiles = args
    synth = synth_module()
    s = synth.generate_sample(kind, seed, style=training_style(seed, kind, styles))
    rng = np.random.default_rng(seed ^ 0x5EED)
    gray = _windowed_uint8(s, rng, synth) if window_aug else synth.to_uint8(s)
    label_index = {n: i for i, n in enumerate(synth.LABELS)}
    results = []
    for pixels, objects in _views(s, gray, rng, tiles):
        canvas, r, px, py = letterbox(pixels, size, size)
        h, w = pixels.shape
        rect = (int(px), int(py), int(px + round(w * r)), int(py + round(h * r)))
        boxes, classes = [], []
        for o in objects:
            x1, y1, x2, y2 = o.box
            boxes.append((x1 * r + px, y1 * r + py, x2 * r + px, y2 * r + py))
            classes.append(label_index[o.label])
        results.append((canvas, rect, np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(classes, np.int64),
                        synth.KINDS.index(kind)))
    return results


def build_cache(path: Path, n: int, seed: int, size: int, workers: int = 2, window_aug: bool = True, log=print,
                styles: str = "train", tiles: int = TILES_PER_PANO):
    """Generate n samples (kinds cycled by KIND_CYCLE, seeds seed..seed+n-1) into an npz cache;
    a panoramic adds `tiles` tile views."""
    jobs = [(KIND_CYCLE[i % len(KIND_CYCLE)], seed + i, size, window_aug, styles, tiles) for i in range(n)]
    results = []
    if workers > 1:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(workers) as pool:
            for i, r in enumerate(pool.imap(_make_one, jobs, chunksize=8)):
                results += r
                if (i + 1) % 500 == 0:
                    log(f"  cache {path.name}: {i + 1}/{n}")
    else:
        for j in jobs:
            results += _make_one(j)
    images = np.stack([r[0] for r in results])
    rects = np.asarray([r[1] for r in results], np.int32)
    boxes = np.concatenate([r[2] for r in results]) if results else np.zeros((0, 4), np.float32)
    classes = np.concatenate([r[3] for r in results]) if results else np.zeros(0, np.int64)
    offsets = np.cumsum([0] + [len(r[3]) for r in results]).astype(np.int64)
    kinds_arr = np.asarray([r[4] for r in results], np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, images=images, rects=rects, boxes=boxes, classes=classes, offsets=offsets, kinds=kinds_arr,
             seed=seed, n=n, size=size)
    return load_cache(path)


def load_cache(path: Path) -> dict:
    z = np.load(path)
    return {k: z[k] for k in z.files}


class Augmenter:
    """Photometric + geometric augmentation on cached canvases, producing fixed-size crops."""

    def __init__(self, cache: dict, crop: int, seed: int, scale=(0.7, 1.25)):
        self.c = cache
        self.crop = crop
        self.rng = np.random.default_rng(seed)
        self.scale = scale
        self.n = len(cache["images"])

    def _photometric(self, img: np.ndarray, rect) -> np.ndarray:
        rng = self.rng
        x1, y1, x2, y2 = rect
        roi = img[y1:y2, x1:x2].astype(np.float32) / 255.0
        if rng.random() < 0.7:  # gamma
            roi = roi ** rng.uniform(0.6, 1.6)
        if rng.random() < 0.6:  # linear window / contrast
            lo, hi = rng.uniform(0.0, 0.15), rng.uniform(0.85, 1.0)
            if rng.random() < 0.5:
                roi = lo + roi * (hi - lo)  # compress
            else:
                roi = (roi - lo) / (hi - lo)  # stretch
        if rng.random() < 0.3:  # blur / sharpen (resize kernels, detector differences)
            from PIL import ImageFilter
            pil = Image.fromarray(np.clip(roi * 255, 0, 255).astype(np.uint8))
            if rng.random() < 0.5:
                pil = pil.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.2)))
            else:
                pil = pil.filter(ImageFilter.UnsharpMask(radius=2, percent=int(rng.uniform(50, 150)), threshold=0))
            roi = np.asarray(pil, np.float32) / 255.0
        if rng.random() < 0.5:  # noise
            roi = roi + rng.normal(0, rng.uniform(0.005, 0.03), roi.shape).astype(np.float32)
        out = img.copy()
        out[y1:y2, x1:x2] = np.clip(roi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return out

    def sample(self, i: int):
        c, rng, S = self.c, self.rng, self.crop
        img = self._photometric(c["images"][i], c["rects"][i])
        a, b = c["offsets"][i], c["offsets"][i + 1]
        boxes = c["boxes"][a:b].copy()
        cls = c["classes"][a:b].copy()
        size = img.shape[0]
        s = rng.uniform(*self.scale)
        ns = max(S, int(round(size * s))) if rng.random() < 0.0 else int(round(size * s))
        if ns != size:
            img = np.asarray(Image.fromarray(img).resize((ns, ns), Image.BILINEAR))
            boxes *= ns / size
        # random crop S x S (pad with FILL if the scaled canvas is smaller)
        if ns < S:
            canvas = np.full((S, S), FILL, np.uint8)
            ox, oy = rng.integers(0, S - ns + 1), rng.integers(0, S - ns + 1)
            canvas[oy:oy + ns, ox:ox + ns] = img
            img = canvas
            boxes += np.array([ox, oy, ox, oy], np.float32)
        else:
            ox, oy = rng.integers(0, ns - S + 1), rng.integers(0, ns - S + 1)
            img = img[oy:oy + S, ox:ox + S]
            boxes -= np.array([ox, oy, ox, oy], np.float32)
        if len(boxes):
            area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
            clipped = boxes.clip(0, S)
            carea = (clipped[:, 2] - clipped[:, 0]).clip(0) * (clipped[:, 3] - clipped[:, 1]).clip(0)
            keep = (carea >= 0.45 * np.maximum(area, 1e-6)) & ((clipped[:, 2] - clipped[:, 0]) > 2) & ((clipped[:, 3] - clipped[:, 1]) > 2)
            boxes, cls = clipped[keep], cls[keep]
        if rng.random() < 0.5:  # horizontal flip
            img = img[:, ::-1]
            boxes = boxes[:, [2, 1, 0, 3]].copy()
            boxes[:, [0, 2]] = S - boxes[:, [0, 2]]
        if rng.random() < 0.2:  # vertical flip (an image mounted upside down, upper for lower arch)
            img = img[::-1]
            boxes = boxes[:, [0, 3, 2, 1]].copy()
            boxes[:, [1, 3]] = S - boxes[:, [1, 3]]
        return np.ascontiguousarray(img), boxes, cls

    def batch(self, bs: int):
        idx = self.rng.integers(0, self.n, bs)
        imgs, tb = [], []
        for i in idx:
            im, bx, cl = self.sample(int(i))
            imgs.append(im)
            tb.append((bx, cl))
        x = np.stack(imgs)[:, None].astype(np.float32) / 255.0
        return x, tb
