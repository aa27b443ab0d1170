#!/usr/bin/env python3
"""Writes the ONNX backend node test cases for every op visionc claims, for the Swift
conformance test (Tests/ONNXImportTests/NodeConformanceTests.swift).

The cases are the `onnx` package's own definitions (onnx 1.23 ships no files; it builds
them in memory with `onnx.backend.test.loader.load_model_tests(kind="node")`). A case is
written when every node of its graph has an op type visionc claims: the keys of the
importer's table in Sources/ONNXImport/OpConverters.swift (what `visionc ops` prints).

Per case, under assets/onnx-node-cases/<case>/:
- model.onnx: the case's model; graph inputs that visionc needs as compile-time constants
  (the operands that decide shapes or attribute values, e.g. Reshape's shape, Slice's
  starts/ends, Resize's scales) are turned into initializers holding the case's data, as
  they are in exported models. The manifest lists them as `frozen_inputs`.
- input_<set>_<i>.npy, output_<set>_<i>.npy: the data sets, NumPy format as ONNX gives them.
- manifest.json: op types, opset, tolerances (rtol, atol), inputs and outputs with names,
  files, dtypes and shapes, and `unsupported_dtypes`: element types in the case that
  visionc's IR has no dtype for (float8, int4, int2, bfloat16 data, non-tensor values).
index.json at the top lists the cases and the claimed ops. A run whose index already has
the same onnx version, claimed ops and generator version does nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

GENERATOR_VERSION = 5
REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "assets" / "onnx-node-cases"
CONVERTERS = REPO / "Sources" / "ONNXImport" / "OpConverters.swift"

# Element types a case's inputs and outputs may have for visionc to run it, by NumPy name
# (the IR's dtypes; bf16 is left out because NumPy has no bfloat16 to write the files in).
SUPPORTED_DTYPES = {
    "bool", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
}

# Operand positions visionc needs as constants, per op type (importer: `constantInput`,
# and shape operands that the planner must know before a request runs).
CONSTANT_OPERANDS = {
    "Clip": [1, 2],
    "ConstantOfShape": [0],
    "ReduceMean": [1],
    "Reshape": [1],
    "Resize": [1, 2, 3],
    "Slice": [1, 2, 3, 4],
    "Split": [1],
    "Squeeze": [1],
    "Unsqueeze": [1],
}


def claimed_ops() -> list[str]:
    """The keys of `OpConverters.table`, read from the Swift source."""
    source = CONVERTERS.read_text()
    match = re.search(r"static let table: \[String: Converter\] = \[(.*?)\n    \]", source, re.S)
    if not match:
        sys.exit(f"make_onnx_node_cases: cannot find the converter table in {CONVERTERS}")
    return sorted(set(re.findall(r'^\s*"(\w+)":', match.group(1), re.M)))


def elem_dtype(elem_type: int) -> str:
    try:
        return str(onnx.helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, ValueError):
        return onnx.TensorProto.DataType.Name(elem_type).lower()


def model_dtypes(model: onnx.ModelProto) -> set[str]:
    """Element types named anywhere in the graph: values, initializers, Constant and Cast."""
    graph = model.graph
    found = set()
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        if value.type.HasField("tensor_type"):
            found.add(elem_dtype(value.type.tensor_type.elem_type))
        else:
            found.add("non-tensor")
    for tensor in graph.initializer:
        found.add(elem_dtype(tensor.data_type))
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR:
                found.add(elem_dtype(attribute.t.data_type))
            elif attribute.name == "to" and node.op_type == "Cast":
                found.add(elem_dtype(attribute.i))
            elif attribute.type == onnx.AttributeProto.GRAPH:
                found.add("subgraph")
    return found


def as_array(value) -> np.ndarray:
    """A data set entry as an array: the Cast cases give TensorProtos (their types have no
    NumPy dtype of their own in older NumPy), decoded here so f16 and the rest get files."""
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    return np.asarray(value)


def freeze_constant_operands(model: onnx.ModelProto, inputs: list[np.ndarray]) -> tuple[onnx.ModelProto, list[str]]:
    """Turns graph inputs that feed constant-only operands into initializers."""
    graph = model.graph
    input_names = [i.name for i in graph.input]
    wanted = set()
    for node in graph.node:
        for position in CONSTANT_OPERANDS.get(node.op_type, []):
            if position < len(node.input) and node.input[position] in input_names:
                wanted.add(node.input[position])
    if not wanted:
        return model, []
    frozen = onnx.ModelProto()
    frozen.CopyFrom(model)
    kept = [i for i in frozen.graph.input if i.name not in wanted]
    for name in sorted(wanted):
        frozen.graph.initializer.append(numpy_helper.from_array(inputs[input_names.index(name)], name))
    del frozen.graph.input[:]
    frozen.graph.input.extend(kept)
    return frozen, sorted(wanted)


def write_case(case, root: Path) -> dict:
    model = case.model
    ops = sorted({n.op_type for n in model.graph.node})
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    directory = root / case.name
    directory.mkdir(parents=True)
    dtypes = model_dtypes(model)
    manifest = {
        "name": case.name, "ops": ops, "opset": opset, "rtol": case.rtol, "atol": case.atol,
        "data_sets": [], "frozen_inputs": [],
    }
    graph_inputs = [i.name for i in model.graph.input]
    graph_outputs = [o.name for o in model.graph.output]
    written = model
    for index, (inputs, outputs) in enumerate(case.data_sets):
        inputs = [as_array(x) for x in inputs]
        outputs = [as_array(y) for y in outputs]
        if index == 0:
            written, frozen = freeze_constant_operands(model, inputs)
            manifest["frozen_inputs"] = frozen
        data_set = {"inputs": [], "outputs": []}
        # A few cases give a 1-element array for an input declared as a scalar: the data is
        # reshaped to the declared shape when the element counts agree.
        declared = {v.name: v for v in model.graph.input}
        for i, name in enumerate(graph_inputs):
            dims = declared[name].type.tensor_type.shape.dim if declared[name].type.HasField("tensor_type") else []
            if declared[name].type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
                shape = tuple(d.dim_value for d in dims)
                if inputs[i].shape != shape and inputs[i].size == int(np.prod(shape)):
                    inputs[i] = inputs[i].reshape(shape)
        for kind, names, arrays in (("input", graph_inputs, inputs), ("output", graph_outputs, outputs)):
            for i, (name, array) in enumerate(zip(names, arrays)):
                if kind == "input" and name in manifest["frozen_inputs"]:
                    continue
                dtypes.add(str(array.dtype))
                file = f"{kind}_{index}_{i}.npy"
                if array.dtype == object:
                    file = None
                else:
                    np.save(directory / file, np.ascontiguousarray(array) if array.ndim else array, allow_pickle=False)
                data_set[kind + "s"].append({"name": name, "file": file, "dtype": str(array.dtype), "shape": list(array.shape)})
        manifest["data_sets"].append(data_set)
    onnx.save(written, directory / "model.onnx")
    manifest["unsupported_dtypes"] = sorted(dtypes - SUPPORTED_DTYPES)
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main() -> None:
    claimed = claimed_ops()
    stamp = {"generator": GENERATOR_VERSION, "onnx": onnx.__version__, "claimed_ops": claimed}
    index_path = OUT / "index.json"
    if index_path.exists():
        try:
            if json.loads(index_path.read_text()).get("stamp") == stamp:
                print(f"make_onnx_node_cases: up to date ({index_path.relative_to(REPO)})")
                return
        except json.JSONDecodeError:
            pass
    from onnx.backend.test.loader import load_model_tests

    with warnings.catch_warnings():
        # The case generators overflow casts and divide by zero on purpose.
        warnings.simplefilter("ignore")
        cases = load_model_tests(kind="node")
    selected = [c for c in cases if c.model.graph.node and all(n.op_type in claimed for n in c.model.graph.node)]
    staging = OUT.with_name(OUT.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    manifests = [write_case(case, staging) for case in sorted(selected, key=lambda c: c.name)]
    index = {
        "stamp": stamp,
        "cases": [m["name"] for m in manifests],
        "unsupported_dtype_cases": [m["name"] for m in manifests if m["unsupported_dtypes"]],
    }
    (staging / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    shutil.rmtree(OUT, ignore_errors=True)
    staging.rename(OUT)
    print(f"make_onnx_node_cases: wrote {len(manifests)} cases for {len(claimed)} claimed ops "
          f"({len(index['unsupported_dtype_cases'])} use dtypes visionc lacks) to {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
