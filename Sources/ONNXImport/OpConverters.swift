import IR

/// Converts one ONNX node into IR nodes appended to the importer's graph. Returns the IR
/// values of the node's outputs, in ONNX output order (trailing optional outputs the
/// converter does not produce may be left off; naming one of them is an error).
typealias Converter = @Sendable (inout ModelImporter, ONNXNode) throws -> [ValueID]

/// The ONNX op set the importer understands: one small converter per ONNX op type.
/// Add an op by writing its converter and listing it here.
enum OpConverters {
    static let table: [String: Converter] = [
        "Add": binary(.add),
        "And": binary(.and),
        "AveragePool": averagePool,
        "BatchNormalization": batchNormalization,
        "Cast": cast,
        "Clip": clip,
        "Concat": concat,
        "Constant": constant,
        "ConstantOfShape": constantOfShape,
        "Conv": conv,
        "ConvTranspose": convTranspose,
        "DequantizeLinear": dequantizeLinear,
        "Div": binary(.div),
        "Dropout": dropout,
        "Equal": binary(.equal),
        "Flatten": flatten,
        "Gather": gather,
        "Gemm": gemm,
        "GlobalAveragePool": direct(.globalAveragePool, inputs: 1),
        "Greater": binary(.greater),
        "GreaterOrEqual": binary(.greaterOrEqual),
        "HardSigmoid": hardSigmoid,
        "LRN": lrn,
        "HardSwish": direct(.hardSwish, inputs: 1),
        "Identity": direct(.identity, inputs: 1),
        "Less": binary(.less),
        "LessOrEqual": binary(.lessOrEqual),
        "MatMul": matmul,
        "MaxPool": maxPool,
        "Mul": binary(.mul),
        "Not": direct(.not, inputs: 1),
        "Or": binary(.or),
        "PRelu": direct(.prelu, inputs: 2),
        "Pow": direct(.pow, inputs: 2),
        "QuantizeLinear": quantizeLinear,
        "ReduceMean": reduceMean,
        "Relu": direct(.relu, inputs: 1),
        "Reshape": reshape,
        "Resize": resize,
        "Round": direct(.round, inputs: 1),
        "Shape": shape,
        "Sigmoid": direct(.sigmoid, inputs: 1),
        "Slice": slice,
        "Softmax": softmax,
        "Split": split,
        "Sqrt": direct(.sqrt, inputs: 1),
        "Squeeze": squeeze,
        "Sub": binary(.sub),
        "Sum": sum,
        "Min": { try variadic(&$0, $1, .min) },
        "Max": { try variadic(&$0, $1, .max) },
        "Transpose": transpose,
        "Unsqueeze": unsqueeze,
        "Where": direct(.select, inputs: 3),
        "Xor": binary(.xor),
    ]

    // MARK: - One-to-one ops

    /// An ONNX op that maps onto one IR op with the same operands and no attributes.
    static func direct(_ op: Op, inputs count: Int) -> Converter {
        { importer, node in
            try node.expectInputs(count...count)
            let inputs = try (0..<count).map { try importer.input(node, $0) }
            return [try importer.emit(op, inputs, name: node.resultName)]
        }
    }

    /// Add, Sub, Mul, Div, the comparisons and the logic ops with NumPy broadcasting. Before opset 7 these ops could broadcast
    /// the second operand from a given `axis`, which the IR has no form for.
    static func binary(_ op: Op) -> Converter {
        { importer, node in
            try node.expectInputs(2...2)
            if importer.opset < 7, node.has("axis") {
                throw ONNXImportError(.unsupportedAttribute(name: "axis", "legacy broadcasting along an axis is not supported"))
            }
            let a = try importer.input(node, 0)
            let b = try importer.input(node, 1)
            return [try importer.emit(op, [a, b], name: node.resultName)]
        }
    }

    /// Sum of one operand is that operand, of two an `add`, of more an n-ary `sum`.
    static func sum(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try variadic(&importer, node, node.proto.input.count == 2 ? .add : .sum)
    }

    /// An n-ary elementwise op (Sum, Min, Max): of one operand, that operand.
    static func variadic(_ importer: inout ModelImporter, _ node: ONNXNode, _ op: Op) throws -> [ValueID] {
        try node.expectInputs(1...Int.max)
        let inputs = try node.proto.input.indices.map { try importer.input(node, $0) }
        return [try importer.emit(inputs.count == 1 ? .identity : op, inputs, name: node.resultName)]
    }

    static func batchNormalization(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(5...5)
        if try node.int("training_mode", default: 0) != 0 {
            throw ONNXImportError(.unsupportedAttribute(name: "training_mode", "training mode is not supported; export the model for inference"))
        }
        if importer.opset < 9, try node.int("spatial", default: 1) != 1 {
            throw ONNXImportError(.unsupportedAttribute(name: "spatial", "per-activation batch normalization (spatial=0) is not supported"))
        }
        let epsilon = try node.float("epsilon", default: 1e-5)
        let inputs = try (0..<5).map { try importer.input(node, $0) }
        return [try importer.emit(.batchNorm, inputs, ["epsilon": .float(epsilon)], name: node.resultName)]
    }

    /// LRN: `size` is required; alpha, beta and bias keep ONNX's defaults when absent.
    static func lrn(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...1)
        let size = try node.int("size", default: 0)
        guard size >= 1 else {
            throw ONNXImportError(.unsupportedAttribute(name: "size", "LRN needs a positive 'size'"))
        }
        let attributes: Attributes = [
            "size": .int(size), "alpha": .float(try node.float("alpha", default: 1e-4)),
            "beta": .float(try node.float("beta", default: 0.75)), "bias": .float(try node.float("bias", default: 1)),
        ]
        return [try importer.emit(.lrn, [try importer.input(node, 0)], attributes, name: node.resultName)]
    }

    /// Gemm keeps `alpha`/`beta` only when they are not 1, and `transA`/`transB` only when set.
    static func gemm(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(2...3)
        var attributes = Attributes()
        for key in ["alpha", "beta"] {
            let v = try node.float(key, default: 1)
            if v != 1 { attributes[key] = .float(v) }
        }
        for key in ["transA", "transB"] where try node.int(key, default: 0) != 0 {
            attributes[key] = .int(1)
        }
        var inputs = [try importer.input(node, 0), try importer.input(node, 1)]
        if let c = try importer.optionalInput(node, 2) { inputs.append(c) }
        return [try importer.emit(.gemm, inputs, attributes, name: node.resultName)]
    }

    /// Clip bounds come from attributes before opset 11 and from constant operands since;
    /// either way they become the IR's `min` / `max` attributes (absent = unbounded).
    static func clip(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...3)
        let x = try importer.input(node, 0)
        var attributes = Attributes()
        for (index, key) in [(1, "min"), (2, "max")] {
            if importer.opset < 11 {
                if let bound = try node.float(key) { attributes[key] = .float(bound) }
            } else if let bound = try importer.constantInput(node, index, role: key) {
                guard bound.count == 1 else {
                    throw ONNXImportError(.unsupportedInput(index: index, "\(key) must be a scalar, found shape \(bound.shape)"))
                }
                attributes[key] = .float(bound.floats[0])
            }
        }
        return [try importer.emit(.clip, [x], attributes, name: node.resultName)]
    }

    /// Before opset 13 Softmax flattens its input to 2-D at `axis` (default 1) and normalizes
    /// each row; from 13 on it normalizes along `axis` (default -1) alone. The old form is the
    /// IR's last-axis softmax when `axis` is the last axis, else flatten → softmax → reshape.
    static func softmax(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...1)
        let x = try importer.input(node, 0)
        let type = importer.graph.type(of: x)
        let name = node.resultName
        var axis = try node.int("axis", default: importer.opset >= 13 ? -1 : 1)
        guard (-type.rank..<type.rank).contains(axis) else {
            throw ONNXImportError(.unsupportedAttribute(name: "axis", "\(axis) is out of range for input \(type)"))
        }
        if axis < 0 { axis += type.rank }
        if axis == type.rank - 1 {
            return [try importer.emit(.softmax, [x], ["axis": .int(-1)], name: name)]
        }
        if importer.opset >= 13 {
            return [try importer.emit(.softmax, [x], ["axis": .int(axis)], name: name)]
        }
        let rows = try importer.emit(.flatten, [x], ["axis": .int(axis)], name: name + "_2d")
        let normalized = try importer.emit(.softmax, [rows], ["axis": .int(-1)], name: name + "_2d_softmax")
        let originalShape: ValueID
        if let dims = type.knownShape {
            originalShape = importer.graph.addConstant(name: name + "_shape", tensor: Tensor(shape: [dims.count], int64s: dims.map(Int64.init)))
        } else {
            originalShape = try importer.emit(.shape, [x], name: name + "_shape")
        }
        return [try importer.emit(.reshape, [normalized, originalShape], name: name)]
    }

    // MARK: - Constants

    static func constant(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(0...0)
        let name = node.resultName
        let tensor: Tensor
        if let proto = node.tensorAttributes["value"] {
            tensor = try TensorDecoding.tensor(proto, name: name)
        } else if let v = try node.float("value_float") {
            tensor = Tensor(shape: [], floats: [v])
        } else if let v = try node.floats("value_floats") {
            tensor = Tensor(shape: [v.count], floats: v)
        } else if let v = try node.int("value_int") {
            tensor = Tensor(shape: [], int64s: [Int64(v)])
        } else if let v = try node.ints("value_ints") {
            tensor = Tensor(shape: [v.count], int64s: v.map(Int64.init))
        } else if node.has("value_string") || node.has("value_strings") {
            throw ONNXImportError(.unsupportedDType("STRING constant '\(name)'"))
        } else {
            throw ONNXImportError(.unsupportedAttribute(name: "value", "Constant has no supported value attribute"))
        }
        return [importer.graph.addConstant(name: name, tensor: tensor)]
    }

    /// The fill value is a one-element tensor whose type is the result's dtype (default f32 0).
    static func constantOfShape(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...1)
        var value: Float = 0
        var dtype = DType.f32
        if let proto = node.tensorAttributes["value"] {
            let fill = try TensorDecoding.tensor(proto, name: node.resultName + ".value")
            guard fill.count == 1 else {
                throw ONNXImportError(.unsupportedAttribute(name: "value", "expected one element, found \(fill.count)"))
            }
            value = fill.floats[0]
            dtype = fill.dtype
        }
        let shape = try importer.input(node, 0)
        if let dims = importer.graph.constantValue(of: shape) {
            _ = try TensorDecoding.elementCount(dims.integers.map(Int64.init), tensor: node.proto.input[0])
        }
        return [try importer.emit(.constantOfShape, [shape], ["dtype": .string(dtype.rawValue), "value": .float(value)], name: node.resultName)]
    }
}
