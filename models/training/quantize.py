"""Optional static INT8 (QDQ) variant of the exported model, calibrated on synthetic
images letterboxed exactly like the product does.

    python models/training/quantize.py models/dental-demo/model.onnx /tmp/model.int8.onnx
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import letterbox, synth_module  # noqa: E402


class Reader(CalibrationDataReader):
    def __init__(self, n, seed, size):
        synth = synth_module()
        self.items = []
        for s in synth.generate_batch(n, seed):
            canvas = letterbox(synth.to_uint8(s), size, size)[0]
            self.items.append({"images": (canvas.astype(np.float32) / 255.0)[None, None]})
        self.it = iter(self.items)

    def get_next(self):
        return next(self.it, None)


def main(src, dst, n=48, seed=777000, size=640):
    pre = Path(dst).with_suffix(".pre.onnx")
    quant_pre_process(src, str(pre))
    # keep the decode tail (Sigmoid/Concat/arith on boxes) in float: quantise convs only
    quantize_static(str(pre), dst, Reader(n, seed, size), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                    op_types_to_quantize=["Conv"])
    pre.unlink()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
