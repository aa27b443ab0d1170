#!/usr/bin/env python3
"""Computes ONNX Runtime reference outputs that the Swift tests compare visionc against.

Every model gets the same fixed input, which anyone can recompute from its formula,

    x.flat[i] = sin(0.01 * i)      for a C-order 1x3x224x224 tensor, i.e.
    x[0, c, h, w] = sin(0.01 * (c*50176 + h*224 + w)),

computed in float64 and rounded once to float32. ONNX Runtime (the `onnxruntime` package,
not code of ours) then gives two tensors: the model's output (a softmax) and the logits,
the tensor that feeds that final Softmax.

Models:
- `light_resnet50`, `light_squeezenet`: the onnx package's "light" models as shipped. All
  their weights are ConstantOfShape(0.02), so every class gets the same logit (about 1e19
  for ResNet-50) and the softmax is exactly uniform: a check of the import and of the
  overall arithmetic, blind to channel order or weight layout.
- `light_resnet50_seeded`, `light_squeezenet_seeded` (written to assets/models/): the same
  graphs with each ConstantOfShape replaced by a fixed pseudo-random initializer
  (numpy PCG64, seed SEED, He-scaled; see `seeded_value`), so each class gets its own
  logit. These are the references that catch layout and indexing bugs.

Written to assets/references/: for every tensor a .npy and a .f32 (raw little-endian
float32, C order, no header, so Swift needs no npy parser), and references.json with the
names, shapes, files and tolerances. A run whose outputs are already there for the same
source models and generator version does nothing.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from reference_files import (RAW_FORMAT, ReferenceError, read_manifest, run_generator, save_tensor, sha256_of_file,
                             write_manifest)

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / "assets"
REFERENCES_DIR = ASSETS_DIR / "references"
MANIFEST = REFERENCES_DIR / "references.json"

# Bump when the input formula, the seeding, the file layout or the run settings change,
# so that existing references are recomputed.
GENERATOR_VERSION = 1
INPUT_FORMULA = "x.flat[i] = sin(0.01 * i) over the C-order tensor, in float64, rounded once to float32"
INPUT_SHAPE = (1, 3, 224, 224)
INPUT_STEP = 0.01
SEED = 20240601
TOLERANCE = {"rtol": 1e-3, "atol": 1e-4}
TOP_K = 5


@dataclass(frozen=True)
class ReferenceCase:
    name: str  # prefix of the reference files
    source: str  # model fetched by fetch_assets.py, relative to assets/
    seeded: bool  # whether the ConstantOfShape weights are replaced by seeded random ones

    @property
    def model(self) -> str:
        """The model file that ONNX Runtime runs, relative to assets/."""
        return self.source.replace(".onnx", "_seeded.onnx") if self.seeded else self.source


CASES = [
    ReferenceCase("resnet50", "models/light_resnet50.onnx", seeded=False),
    ReferenceCase("squeezenet", "models/light_squeezenet.onnx", seeded=False),
    ReferenceCase("resnet50_seeded", "models/light_resnet50.onnx", seeded=True),
    ReferenceCase("squeezenet_seeded", "models/light_squeezenet.onnx", seeded=True),
    ReferenceCase("alexnet_seeded", "models/light_bvlc_alexnet.onnx", seeded=True),
    ReferenceCase("inception_v1_seeded", "models/light_inception_v1.onnx", seeded=True),
]


def log(message: str) -> None:
    print(f"make_references: {message}", flush=True)


def references_are_current() -> bool:
    """True when the manifest matches this generator and the source models on disk, and every
    file it lists exists. Needs neither numpy nor onnxruntime, so a cached setup stays fast;
    the (large) seeded models are checked by size, not hashed."""
    manifest = read_manifest(MANIFEST, GENERATOR_VERSION)
    if manifest is None:
        return False
    try:
        entries = {entry["name"]: entry for entry in manifest["references"]}
        source_hashes: dict[str, str] = {}
        for case in CASES:
            entry = entries.get(case.name)
            source_path = ASSETS_DIR / case.source
            model_path = ASSETS_DIR / case.model
            if entry is None or not source_path.is_file() or not model_path.is_file():
                return False
            if case.source not in source_hashes:
                source_hashes[case.source] = sha256_of_file(source_path)
            if entry["source_sha256"] != source_hashes[case.source] or entry["model_size"] != model_path.stat().st_size:
                return False
            for tensor in entry["tensors"]:
                if not (REFERENCES_DIR / tensor["raw"]).is_file() or not (REFERENCES_DIR / tensor["npy"]).is_file():
                    return False
    except (ValueError, KeyError, TypeError):
        return False
    return True


def make_input():
    import numpy as np

    flat_index = np.arange(int(np.prod(INPUT_SHAPE)), dtype=np.float64)
    return np.sin(INPUT_STEP * flat_index).astype(np.float32).reshape(INPUT_SHAPE)


# MARK: - Seeded weights

def seeded_value(rng, consumer, input_index: int, shape: list[int], feeds_residual_sum: bool):
    """A deterministic stand-in for a trained weight, by the role the tensor plays:
    convolution and Gemm weights He-normal (std sqrt(2 / fan_in)) so activations keep
    their scale through a layer; biases and batch-norm shifts and means small; batch-norm
    scales and variances in [0.5, 1.5], except the scales of a batch-norm that feeds a
    residual Sum, in [0.1, 0.3]: otherwise every block doubles the variance and ResNet-50's
    logits reach 1e5, which saturates the softmax into a one-hot vector."""
    import numpy as np

    op = consumer.op_type
    if op == "Conv" and input_index == 1:
        fan_in = int(np.prod(shape[1:]))
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    if op == "Gemm" and input_index == 1:
        transposed = any(attribute.name == "transB" and attribute.i == 1 for attribute in consumer.attribute)
        fan_in = shape[1] if transposed else shape[0]
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    if op == "Reshape" and input_index == 0:
        # A weight reshaped on its way to a layer (Inception v1's classifier): He-normal over
        # the fan-in of its trailing dims.
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    if (op in ("Conv", "Gemm") and input_index == 2) or (op == "BatchNormalization" and input_index in (2, 3)):
        return rng.normal(0.0, 0.1, shape)
    if op == "BatchNormalization" and input_index == 1 and feeds_residual_sum:
        return rng.uniform(0.1, 0.3, shape)
    if op == "BatchNormalization" and input_index in (1, 4):
        return rng.uniform(0.5, 1.5, shape)
    raise ReferenceError(f"no seeding rule for input {input_index} of {op} node {consumer.name!r}")


def seeded_model(source_path: Path):
    """The source graph with each ConstantOfShape replaced by a seeded initializer (in node
    order, so the values depend only on the graph and SEED)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(source_path))
    graph = model.graph
    initializers = {initializer.name: initializer for initializer in graph.initializer}
    consumers = {}  # tensor name -> (first consuming node, input index)
    consumers_of = {}  # tensor name -> every consuming node
    for node in graph.node:
        for index, name in enumerate(node.input):
            consumers.setdefault(name, (node, index))
            consumers_of.setdefault(name, []).append(node)

    rng = np.random.default_rng(SEED)
    generated = []
    removed_names = set()
    kept_nodes = []
    for node in graph.node:
        if node.op_type != "ConstantOfShape":
            kept_nodes.append(node)
            continue
        shape_name, output_name = node.input[0], node.output[0]
        if shape_name not in initializers or output_name not in consumers:
            raise ReferenceError(f"{source_path}: ConstantOfShape {output_name!r} has no constant shape or no consumer")
        shape = [int(dim) for dim in numpy_helper.to_array(initializers[shape_name])]
        consumer, input_index = consumers[output_name]
        feeds_residual_sum = any(node.op_type == "Sum" for node in consumers_of.get(consumer.output[0], []))
        values = seeded_value(rng, consumer, input_index, shape, feeds_residual_sum).astype(np.float32)
        generated.append(numpy_helper.from_array(values, output_name))
        removed_names.add(shape_name)

    del graph.node[:]
    graph.node.extend(kept_nodes)
    kept_initializers = [initializer for initializer in graph.initializer if initializer.name not in removed_names]
    del graph.initializer[:]
    graph.initializer.extend(kept_initializers + generated)
    # These models are IR version 3, where every initializer is also listed as a graph input.
    kept_inputs = [value for value in graph.input if value.name not in removed_names]
    generated_inputs = [onnx.helper.make_tensor_value_info(tensor.name, onnx.TensorProto.FLOAT, tensor.dims)
                        for tensor in generated]
    del graph.input[:]
    graph.input.extend(kept_inputs + generated_inputs)
    onnx.checker.check_model(model)
    return model


# MARK: - Running ONNX Runtime

def with_logits_output(model, model_name: str):
    """Adds the tensor feeding the output's Softmax to the graph outputs; returns
    (input name, output name, logits name)."""
    import onnx

    graph = model.graph
    initializer_names = {initializer.name for initializer in graph.initializer}
    data_inputs = [value.name for value in graph.input if value.name not in initializer_names]
    if len(data_inputs) != 1 or len(graph.output) != 1:
        raise ReferenceError(f"{model_name}: expected one data input and one output, found inputs "
                             f"{data_inputs} and outputs {[value.name for value in graph.output]}")
    output_name = graph.output[0].name
    producers = [node for node in graph.node if output_name in node.output]
    if len(producers) != 1 or producers[0].op_type != "Softmax":
        raise ReferenceError(f"{model_name}: output {output_name} is not produced by a Softmax node")
    logits_name = producers[0].input[0]

    inferred = onnx.shape_inference.infer_shapes(model)
    logits_info = [value for value in inferred.graph.value_info if value.name == logits_name]
    if not logits_info:
        raise ReferenceError(f"{model_name}: shape inference gives no type for {logits_name}")
    graph.output.append(logits_info[0])
    return data_inputs[0], output_name, logits_name


def run_onnxruntime(serialized_model: bytes, input_name: str, output_names: list[str], model_input):
    import onnxruntime as ort

    options = ort.SessionOptions()
    # The reference follows the graph op by op: no fusions (e.g. batch-norm into conv)
    # that would change the rounding, one thread so reruns give the same bits.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # the light models carry one unused initializer; ORT warns about it
    session = ort.InferenceSession(serialized_model, options, providers=["CPUExecutionProvider"])
    return session.run(output_names, {input_name: model_input})


def load_labels() -> list[str] | None:
    path = ASSETS_DIR / "imagenet_labels.txt"
    return path.read_text().splitlines() if path.is_file() else None


def describe(name: str, probabilities, logits, labels: list[str] | None) -> None:
    import numpy as np

    flat_probabilities = probabilities.reshape(-1)
    flat_logits = logits.reshape(-1).astype(np.float64)  # float32 sums of 1e9-sized logits lose the std
    top = np.argsort(-flat_logits, kind="stable")[:TOP_K]
    log(f"{name}: logits min {flat_logits.min():.6g} max {flat_logits.max():.6g} std {flat_logits.std():.6g}; "
        f"softmax sum {flat_probabilities.sum():.6f}")
    if flat_logits.min() == flat_logits.max():
        log("  every class has the same logit")
        return
    for rank, index in enumerate(top, start=1):
        label = labels[index] if labels is not None and index < len(labels) else "?"
        log(f"  top{rank}: class {index:4d} {label!r:24} p={flat_probabilities[index]:.6g} logit={flat_logits[index]:.6g}")


def make_references() -> None:
    REFERENCES_DIR.mkdir(parents=True, exist_ok=True)
    MANIFEST.unlink(missing_ok=True)  # until rewritten below, the files are not known complete
    import onnx
    import onnxruntime as ort

    model_input = make_input()
    labels = load_labels()
    entries = []
    for case in CASES:
        source_path = ASSETS_DIR / case.source
        if not source_path.is_file():
            raise ReferenceError(f"{source_path} is missing; run scripts/fetch_assets.py first")
        model_path = ASSETS_DIR / case.model
        if case.seeded:
            model = seeded_model(source_path)
            temporary = model_path.with_name(model_path.name + ".partial")
            onnx.save(model, str(temporary))
            os.replace(temporary, model_path)
            log(f"wrote {case.model} ({model_path.stat().st_size:,} bytes, seed {SEED})")
        else:
            model = onnx.load(str(model_path))
        input_name, output_name, logits_name = with_logits_output(model, case.model)
        probabilities, logits = run_onnxruntime(
            model.SerializeToString(), input_name, [output_name, logits_name], model_input)
        tensors = [
            {"role": "input", "onnx_name": input_name, **save_tensor(REFERENCES_DIR, f"{case.name}_input", model_input)},
            {"role": "output", "onnx_name": output_name, **save_tensor(REFERENCES_DIR, f"{case.name}_output", probabilities)},
            {"role": "logits", "onnx_name": logits_name, **save_tensor(REFERENCES_DIR, f"{case.name}_logits", logits)},
        ]
        entries.append({
            "name": case.name,
            "model": case.model,
            "model_size": model_path.stat().st_size,
            "source_model": case.source,
            "source_sha256": sha256_of_file(source_path),
            "seed": SEED if case.seeded else None,
            "tensors": tensors,
        })
        describe(case.name, probabilities, logits, labels)

    manifest = {
        "generator_version": GENERATOR_VERSION,
        "onnxruntime_version": ort.__version__,
        "input_formula": INPUT_FORMULA,
        "raw_format": RAW_FORMAT,
        "tolerance": TOLERANCE,
        "references": entries,
    }
    write_manifest(MANIFEST, manifest)
    log(f"wrote {MANIFEST.relative_to(REPO_ROOT)} ({len(entries)} references, onnxruntime {ort.__version__})")


if __name__ == "__main__":
    sys.exit(run_generator("make_references", references_are_current, make_references))
