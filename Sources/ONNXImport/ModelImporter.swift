import IR

/// Walks an ONNX graph's nodes in order and appends their IR equivalents to a `Graph`,
/// keeping the map from ONNX value names to IR values. Initializers become `const`
/// weights the first time a node reads them, so unused ones leave no trace.
struct ModelImporter {
    var graph: Graph
    /// Opset of the default ONNX domain: the op semantics converters follow.
    let opset: Int
    private var values: [String: ValueID] = [:]
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
        values[name] = id
    }

    /// The IR value of an ONNX value name, materializing an initializer on first use.
    mutating func value(named name: String) throws -> ValueID {
        if let id = values[name] { return id }
        guard let proto = initializers[name] else {
            throw ONNXImportError(.invalidModel("'\(name)' is used before any node, input or initializer defines it"))
        }
        let id = graph.addConstant(name: name, tensor: try TensorDecoding.tensor(proto, name: name))
        values[name] = id
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
            values[name] = results[i]
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
