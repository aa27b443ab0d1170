import IR

/// Walks an ONNX graph's nodes in order and appends their IR equivalents to a `Graph`,
/// keeping the map from ONNX value names to IR values. Initializers become `const`
/// weights the first time a node reads them, so unused ones leave no trace.
///
/// Values of a storage type (f16, bf16, f64, the narrow integers: `DType.arithmetic`) are
/// held in their arithmetic type, with the ONNX type remembered per name: a graph input is
/// cast where it enters, a weight is decoded widened, each op result of a narrower type is
/// rounded (or wrapped) to it and widened again, so it holds what ONNX Runtime computes in
/// that type (an f16 op computed in f32 and rounded once is the correctly rounded f16
/// result for + − × ÷ √, f32 having more than 2·11 + 2 bits), and a graph output is cast
/// back to its type where it leaves.
struct ModelImporter {
    var graph: Graph
    /// Opset of the default ONNX domain: the op semantics converters follow.
    let opset: Int
    private var values: [String: ValueID] = [:]
    /// The ONNX element type of values held in a wider arithmetic type, by name.
    private var storage: [String: DType] = [:]
    private let initializers: [String: Onnx_TensorProto]
    /// Value names some node reads: an optional output nobody reads (Dropout's mask) may go unproduced.
    private var read: Set<String> = []

    init(graph: Graph, opset: Int, initializers: [Onnx_TensorProto]) {
        self.graph = graph
        self.opset = opset
        // ONNX requires unique initializer names; on a duplicate the last one wins, as in ONNX Runtime.
        self.initializers = Dictionary(initializers.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
    }

    /// Makes `name` refer to an existing graph value (a bound model input).
    mutating func bind(_ name: String, to id: ValueID) throws {
        guard values[name] == nil, initializers[name] == nil else {
            throw ONNXImportError(.invalidModel("value '\(name)' is defined twice"))
        }
        let dtype = graph.type(of: id).dtype
        if dtype.arithmetic != dtype {
            storage[name] = dtype
            values[name] = try graph.append(.cast, [id], attributes: ["to": .string(dtype.arithmetic.rawValue)], name: name + "_" + dtype.arithmetic.rawValue)[0]
        } else {
            values[name] = id
        }
    }

    /// Whether a node or the graph's outputs read the value `name`.
    func isRead(_ name: String) -> Bool { read.contains(name) }

    /// The ONNX element type of a value (its IR dtype unless held in a wider one).
    mutating func storageType(of name: String) throws -> DType {
        let id = try value(named: name)
        return storage[name] ?? graph.type(of: id).dtype
    }

    /// The IR value of a graph output, cast back to its ONNX element type.
    mutating func output(named name: String) throws -> ValueID {
        let id = try value(named: name)
        guard let dtype = storage[name] else { return id }
        return try graph.append(.cast, [id], attributes: ["to": .string(dtype.rawValue)], name: name + "_" + dtype.rawValue)[0]
    }

    /// The IR value of an ONNX value name, materializing an initializer on first use.
    mutating func value(named name: String) throws -> ValueID {
        if let id = values[name] { return id }
        guard let proto = initializers[name] else {
            throw ONNXImportError(.invalidModel("'\(name)' is used before any node, input or initializer defines it"))
        }
        let id = graph.addConstant(name: name, tensor: try TensorDecoding.tensor(proto, name: name))
        values[name] = id
        if let dtype = try? TensorDecoding.dtype(proto.dataType), dtype.arithmetic != dtype { storage[name] = dtype }
        return id
    }

    /// Imports every node; errors name the node they are about.
    mutating func importNodes(_ nodes: [Onnx_NodeProto], graphOutputs: [String]) throws {
        read = Set(nodes.flatMap(\.input) + graphOutputs)
        for (index, proto) in nodes.enumerated() {
            let node: ONNXNode
            do {
                node = try ONNXNode(proto, index: index)
            } catch let e as ONNXImportError {
                throw located(e, at: ONNXNode.description(of: proto, index: index))
            }
            do {
                try importNode(node)
            } catch let e as ONNXImportError {
                throw located(e, at: node.description)
            } catch {
                throw ONNXImportError(.invalidNode("\(error)"), node: node.description)
            }
        }
    }

    private func located(_ e: ONNXImportError, at node: String) -> ONNXImportError {
        var e = e
        if e.node == nil { e.node = node }
        return e
    }

    private mutating func importNode(_ node: ONNXNode) throws {
        guard node.proto.domain.isEmpty || node.proto.domain == "ai.onnx" else {
            throw ONNXImportError(.nonDefaultDomain(node.proto.domain))
        }
        guard let convert = OpConverters.table[node.opType] else {
            throw ONNXImportError(.unsupportedOp(node.opType))
        }
        let results = try convert(&self, node)
        for (i, name) in node.proto.output.enumerated() where !name.isEmpty {
            guard i < results.count else {
                if read.contains(name) { throw ONNXImportError(.unsupportedOutput(index: i, name: name)) }
                continue
            }
            guard values[name] == nil, initializers[name] == nil else {
                throw ONNXImportError(.invalidModel("value '\(name)' is defined twice"))
            }
            let dtype = try resultStorageType(node, i, ir: graph.type(of: results[i]).dtype)
            values[name] = results[i]
            guard dtype != graph.type(of: results[i]).dtype else { continue }
            storage[name] = dtype
            if dtype.narrowsArithmetic, !Self.keepsOperandElements.contains(node.opType) {
                let narrowed = try emit(.cast, [results[i]], ["to": .string(dtype.rawValue)], name: name + "_" + dtype.rawValue)
                values[name] = try emit(.cast, [narrowed], ["to": .string(dtype.arithmetic.rawValue)], name: name + "_" + dtype.arithmetic.rawValue)
            }
        }
    }

    /// ONNX ops whose results hold only their operands' elements, or (Cast, QuantizeLinear)
    /// values their converter already made fit their type: nothing to round to a storage type.
    private static let keepsOperandElements: Set<String> = [
        "Cast", "Concat", "Constant", "Dropout", "Flatten", "Gather", "Identity", "Max", "MaxPool", "Min", "QuantizeLinear",
        "Relu", "Reshape", "Slice", "Split", "Squeeze", "Transpose", "Unsqueeze", "Where",
    ]

    /// The ONNX element type of result `i` of a node whose IR result has dtype `ir`: the type
    /// the op defines for it, or else that of its first operand held in `ir` (the result type
    /// of an elementwise op is its operands').
    private mutating func resultStorageType(_ node: ONNXNode, _ i: Int, ir: DType) throws -> DType {
        func declared(_ raw: Int) throws -> DType { try TensorDecoding.dtype(Int32(clamping: raw)) }
        switch node.opType {
        case "Cast":
            return try node.int("to").map(declared) ?? ir
        case "Constant", "ConstantOfShape":
            return try node.tensorAttributes["value"].map { try TensorDecoding.dtype($0.dataType) } ?? ir
        case "QuantizeLinear":
            if node.proto.input.count > 2, !node.proto.input[2].isEmpty { return try storageType(of: node.proto.input[2]) }
            return try node.int("output_dtype").flatMap { $0 == 0 ? nil : try declared($0) } ?? .u8
        case "DequantizeLinear":
            return try storageType(of: node.proto.input[1])
        case "Shape", "Size":
            return ir
        default:
            for name in node.proto.input where !name.isEmpty {
                let dtype = try storageType(of: name)
                if dtype.arithmetic == ir { return dtype }
            }
            return ir
        }
    }

    // MARK: - Operand access for converters

    /// Operand `i`, which must be present.
    mutating func input(_ node: ONNXNode, _ i: Int) throws -> ValueID {
        guard let id = try optionalInput(node, i) else {
            throw ONNXImportError(.unsupportedInput(index: i, "required input is missing"))
        }
        return id
    }

    /// Operand `i`, or nil when it is omitted (absent or named "").
    mutating func optionalInput(_ node: ONNXNode, _ i: Int) throws -> ValueID? {
        guard i < node.proto.input.count, !node.proto.input[i].isEmpty else { return nil }
        return try value(named: node.proto.input[i])
    }

    /// Operand `i` as a compile-time constant tensor, or nil when omitted. Throws when the
    /// operand is computed, since `role` must be known to build the IR node.
    mutating func constantInput(_ node: ONNXNode, _ i: Int, role: String) throws -> Tensor? {
        guard let id = try optionalInput(node, i) else { return nil }
        guard let tensor = graph.knownValue(of: id) else {
            throw ONNXImportError(.unsupportedInput(
                index: i, "\(role) '\(node.proto.input[i])' must be a constant (an initializer, a Constant output, or computed from known shapes)"))
        }
        return tensor
    }

    /// Appends one single-result IR node named after the ONNX node's result.
    mutating func emit(_ op: Op, _ inputs: [ValueID], _ attributes: Attributes = [:], name: String) throws -> ValueID {
        try graph.append(op, inputs, attributes: attributes, name: name)[0]
    }
}
