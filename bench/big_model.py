"""A practice-sized model for the benches: the bundled detector plus a wide convolution branch
that multiplies the cost of one `session.run` (≈10× by default) and changes no output.

`python -m bench.big_model OUT [--layers N]` writes OUT/model.onnx + model.json (name
"dental-demo-large"); `python -m bench --model OUT` then measures with it. Not committed:
with 32-channel 3×3 convolutions at the full 640×640 input it stands in for a 1280-px
detector's arithmetic without a trained network of that size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "models" / "dental-demo"
NAME = "dental-demo-large"


def make(out: Path, layers: int = 4, width: int = 32) -> Path:
    """Write the model folder; each extra layer is a 3×3 `width`→`width` convolution over the
    whole input (≈7.5 GFLOPs at 640×640 and width 32; the bundled model is ≈4.2)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(BUNDLED / "model.onnx"))
    g = model.graph
    out_name = g.output[0].name
    for node in g.node:  # the bundled output becomes an inner tensor
        node.output[:] = [f"{out_name}_base" if o == out_name else o for o in node.output]
    rng = np.random.default_rng(0)
    channels = g.input[0].type.tensor_type.shape.dim[1].dim_value or 1
    prev, cin = g.input[0].name, channels
    for i in range(layers + 1):
        w = (rng.standard_normal((width, cin, 3, 3)) * 0.05).astype(np.float32)
        g.initializer.append(numpy_helper.from_array(w, f"wide_w{i}"))
        g.node.append(helper.make_node("Conv", [prev, f"wide_w{i}"], [f"wide_c{i}"], pads=[1, 1, 1, 1]))
        g.node.append(helper.make_node("Relu", [f"wide_c{i}"], [f"wide_r{i}"]))
        prev, cin = f"wide_r{i}", width
    g.initializer.append(numpy_helper.from_array(np.zeros((), np.float32), "wide_zero"))
    g.node.append(helper.make_node("ReduceMean", [prev], ["wide_mean"], keepdims=0))
    g.node.append(helper.make_node("Mul", ["wide_mean", "wide_zero"], ["wide_nothing"]))
    g.node.append(helper.make_node("Add", [f"{out_name}_base", "wide_nothing"], [out_name]))
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out / "model.onnx"))
    manifest = json.loads((BUNDLED / "model.json").read_text(encoding="utf-8"))
    manifest["name"] = NAME
    manifest["sha256"] = hashlib.sha256((out / "model.onnx").read_bytes()).hexdigest()
    (out / "model.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    for extra in BUNDLED.iterdir():
        if extra.name not in ("model.onnx", "model.json") and extra.is_file():
            shutil.copy2(extra, out / extra.name)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--layers", type=int, default=4)
    args = ap.parse_args(argv)
    print(make(args.out, args.layers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
