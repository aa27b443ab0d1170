#!/usr/bin/env python3
"""Writes the committed inputs of the README's YOLOX example test (DetectorExampleTests):

    yolox-shaped.onnx     a stand-in with YOLOX-S's interface, input `images` f32
                          [1,3,640,640], output `output` [1,8400,7] (x, y, log w, log h,
                          objectness, 2 classes over the 80², 40², 20² grids of strides 8, 16,
                          32), whose answer is known: per cell (average pool of the cell, then a
                          1×1 conv) x = y = 0.5 and log w = log h = 0 (the cell's own square),
                          objectness 1, class 0 = (mean pixel − 114) / 141 (1 on white, 0 on
                          YOLOX's gray padding, below 0 on black), class 1 = 0.
    square-1280x960.png   black, with a white 128×128 square at x 320…447, y 192…319: halved
                          by the letterbox into 640×640 (its bilinear resize keeps the edges
                          sharp at exactly 1/2), the square covers x 160…223, y 96…159 of the
                          frame, aligned to every stride, so exactly 64 + 16 + 4 cells see class 0.

Made with the onnx and Pillow packages requirements.txt pins (a rerun gives the same bytes);
run it with the venv's python after changing what is made here, and commit the results.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper
from PIL import Image

DATA_DIR = Path(__file__).resolve().parent.parent / "Tests" / "Data"
STRIDES = (8, 16, 32)
PAD, SPAN = 114.0, 141.0  # class 0 = (mean − PAD) / SPAN


def model_bytes() -> bytes:
    weight = np.zeros((7, 3, 1, 1), dtype=np.float32)
    weight[5] = 1 / (3 * SPAN)
    bias = np.array([0.5, 0.5, 0, 0, 1, -PAD / SPAN, 0], dtype=np.float32)
    nodes, levels = [], []
    for s in STRIDES:
        nodes.append(helper.make_node("AveragePool", ["images"], [f"pool{s}"], kernel_shape=[s, s], strides=[s, s]))
        nodes.append(helper.make_node("Conv", [f"pool{s}", "weight", "bias"], [f"head{s}"]))
        nodes.append(helper.make_node("Reshape", [f"head{s}", "rows"], [f"level{s}"]))
        levels.append(f"level{s}")
    nodes.append(helper.make_node("Concat", levels, ["cells"], axis=2))
    nodes.append(helper.make_node("Transpose", ["cells"], ["output"], perm=[0, 2, 1]))
    graph = helper.make_graph(
        nodes, "yolox_shaped",
        [helper.make_tensor_value_info("images", onnx.TensorProto.FLOAT, [1, 3, 640, 640])],
        [helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, [1, 8400, 7])],
        [numpy_helper.from_array(weight, "weight"), numpy_helper.from_array(bias, "bias"),
         numpy_helper.from_array(np.array([1, 7, -1], dtype=np.int64), "rows")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="visionc-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def image_bytes() -> bytes:
    pixels = np.zeros((960, 1280, 3), dtype=np.uint8)
    pixels[192:320, 320:448] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def main() -> int:
    for name, content in {"yolox-shaped.onnx": model_bytes(), "square-1280x960.png": image_bytes()}.items():
        (DATA_DIR / name).write_bytes(content)
        print(f"make_detector_test_data: Tests/Data/{name} ({len(content):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
