#!/usr/bin/env python3
"""Quantizes EfficientNet-Lite0 (assets/models/efficientnet_lite0.onnx, from
scripts/convert_efficientnet_lite0.py) to a QDQ model with ONNX Runtime's own quantizer and
writes ONNX Runtime's outputs on it, for Tests/DriverTests/QDQModelAgreementTests.swift.

- Model: assets/models/efficientnet_lite0_qdq.onnx: `quantize_static` with
  `QuantFormat.QDQ`, u8 activations, i8 weights per channel (axis 0, so DequantizeLinear's
  per-axis form is exercised), MinMax calibration on four of the project's photos
  (astronaut, coffee, messi5, obama), preprocessed as the float model expects.
- Reference: ONNX Runtime on chelsea.png (not a calibration photo) with graph optimizations
  off and one thread. With the optimizations off ONNX Runtime runs every QuantizeLinear,
  DequantizeLinear and float Conv as written: the dequantized semantics visionc implements.
  Its default session fuses the QDQ pairs into integer kernels (QLinearConv and friends),
  which round differently; their distance from the dequantized output is logged here for
  the record, not used by the test.

Output: assets/references/qdq/ with the input and outputs (.npy and raw .f32) and qdq.json
(the manifest format of make_model_references.py). Skipped when the manifest matches this
generator and the float model's hash.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reference_files import (RAW_FORMAT, ReferenceError, read_manifest, run_generator, save_tensor, sha256_of_file,
                             write_manifest)

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / "assets"
IMAGES_DIR = ASSETS_DIR / "images"
FLOAT_MODEL = ASSETS_DIR / "models" / "efficientnet_lite0.onnx"
QDQ_MODEL = ASSETS_DIR / "models" / "efficientnet_lite0_qdq.onnx"
REFERENCES_DIR = ASSETS_DIR / "references" / "qdq"
MANIFEST = REFERENCES_DIR / "qdq.json"
CALIBRATION_PHOTOS = ["astronaut.png", "coffee.png", "messi5.jpg", "obama.jpg"]
CHECK_PHOTO = "chelsea.png"
NAME = "efficientnet_lite0_qdq"

# Bump when the quantization settings, the photos or the run settings change.
GENERATOR_VERSION = 1


def log(message: str) -> None:
    print(f"make_qdq_reference: {message}", flush=True)


def preprocessed(photo: str):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import convert_efficientnet_lite0

    return convert_efficientnet_lite0.preprocessed_photo(IMAGES_DIR / photo)


def references_are_current() -> bool:
    manifest = read_manifest(MANIFEST, GENERATOR_VERSION)
    if manifest is None or not QDQ_MODEL.is_file() or not FLOAT_MODEL.is_file():
        return False
    try:
        entry = manifest["references"][0]
        return manifest["float_model_sha256"] == sha256_of_file(FLOAT_MODEL) and all(
            (REFERENCES_DIR / tensor["raw"]).is_file() for tensor in entry["tensors"])
    except (KeyError, IndexError, TypeError):
        return False


def quantize(input_name: str) -> None:
    import logging

    # The quantizer warns once per BatchNormalization weight that per-channel axis 1 does not
    # apply to a 1-D tensor (it quantizes those per tensor): noise in setup's log.
    logging.getLogger().setLevel(logging.ERROR)
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Photos(CalibrationDataReader):
        def __init__(self):
            self.remaining = [{input_name: preprocessed(photo)} for photo in CALIBRATION_PHOTOS]

        def get_next(self):
            return self.remaining.pop(0) if self.remaining else None

    temporary = QDQ_MODEL.with_name(QDQ_MODEL.name + ".partial")
    quantize_static(str(FLOAT_MODEL), str(temporary), Photos(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    temporary.replace(QDQ_MODEL)


def session(model: Path, optimized: bool):
    import onnxruntime as ort

    options = ort.SessionOptions()
    if not optimized:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def make_reference() -> None:
    import numpy as np
    import onnxruntime as ort

    if not FLOAT_MODEL.is_file():
        raise ReferenceError(f"{FLOAT_MODEL} is missing; run scripts/setup")
    REFERENCES_DIR.mkdir(parents=True, exist_ok=True)
    MANIFEST.unlink(missing_ok=True)
    input_name = session(FLOAT_MODEL, optimized=False).get_inputs()[0].name
    quantize(input_name)
    model_input = preprocessed(CHECK_PHOTO)
    dequantized = session(QDQ_MODEL, optimized=False)
    output_names = [value.name for value in dequantized.get_outputs()]
    outputs = dequantized.run(output_names, {input_name: model_input})
    integer = session(QDQ_MODEL, optimized=True).run(output_names, {input_name: model_input})
    (float_logits,) = session(FLOAT_MODEL, optimized=False).run(None, {input_name: model_input})
    tensors = [{"role": "input", "onnx_name": input_name, **save_tensor(REFERENCES_DIR, f"{NAME}_input", model_input)}]
    for index, (name, value, fused) in enumerate(zip(output_names, outputs, integer)):
        value = np.asarray(value, dtype=np.float32)
        tensors.append({"role": "output", "onnx_name": name, **save_tensor(REFERENCES_DIR, f"{NAME}_output{index}", value)})
        log(f"{name} {list(value.shape)}: dequantized vs ONNX Runtime's integer kernels: max abs diff "
            f"{np.abs(value - fused).max():.4g}, top-1 {int(value.argmax())} vs {int(np.asarray(fused).argmax())}; "
            f"vs the float model: max abs diff {np.abs(value - float_logits).max():.4g}, top-1 {int(float_logits.argmax())}")
    write_manifest(MANIFEST, {
        "generator_version": GENERATOR_VERSION,
        "onnxruntime_version": ort.__version__,
        "raw_format": RAW_FORMAT,
        "float_model_sha256": sha256_of_file(FLOAT_MODEL),
        "references": [{
            "name": NAME,
            "model": str(QDQ_MODEL.relative_to(ASSETS_DIR)),
            "model_sha256": sha256_of_file(QDQ_MODEL),
            "description": f"EfficientNet-Lite0 quantized (QDQ, u8 activations, i8 per-channel weights) on {CHECK_PHOTO}",
            "tensors": tensors,
        }],
    })
    log(f"wrote {QDQ_MODEL.relative_to(REPO_ROOT)} and {MANIFEST.relative_to(REPO_ROOT)} (onnxruntime {ort.__version__})")


if __name__ == "__main__":
    sys.exit(run_generator("make_qdq_reference", references_are_current, make_reference))
