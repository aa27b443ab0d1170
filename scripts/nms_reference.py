#!/usr/bin/env python3
"""ONNX Runtime's NonMaxSuppression on boxes given as JSON, the reference for visionc's `nms`.

Reads {"boxes": [[x1, y1, x2, y2], ...], "scores": [...], "iou_threshold": t,
"max_output": k (0: all)} on stdin; prints the kept indices, best first, as a JSON list.
ONNX takes boxes as [y1, x1, y2, x2] (center_point_box = 0) and one class here.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper


def main() -> None:
    query = json.load(sys.stdin)
    boxes = np.array(query["boxes"], dtype=np.float32).reshape(-1, 4)
    scores = np.array(query["scores"], dtype=np.float32)
    limit = query["max_output"] or len(scores)
    node = helper.make_node("NonMaxSuppression", ["boxes", "scores", "limit", "iou"], ["selected"])
    graph = helper.make_graph(
        [node], "nms",
        [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, None, 4]),
         helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1, None]),
         helper.make_tensor_value_info("limit", TensorProto.INT64, [1]),
         helper.make_tensor_value_info("iou", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("selected", TensorProto.INT64, [None, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    selected = session.run(None, {
        "boxes": boxes[:, [1, 0, 3, 2]][None], "scores": scores[None, None],
        "limit": np.array([limit], dtype=np.int64), "iou": np.array([query["iou_threshold"]], dtype=np.float32),
    })[0]
    print(json.dumps([int(i) for i in selected[:, 2]]))


if __name__ == "__main__":
    main()
