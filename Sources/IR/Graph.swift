/// Identity of an SSA value inside one `Graph`.
public struct ValueID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: ValueID, b: ValueID) -> Bool { a.index < b.index }
    public var description: String { "v\(index)" }
}

/// An SSA value: defined once (by a node or as a graph input), typed fully.
public struct Value: Hashable, Sendable {
    /// Unique within the graph; printed as `%name`. Also the name users give to `--save`.
    public var name: String
    public var type: TensorType
}

/// The one node type of the IR (tinygrad's UOp): an op, its operands, its results, its attributes.
public struct Node: Hashable, Sendable {
    public var op: Op
    public var inputs: [ValueID]
    public var outputs: [ValueID]
    public var attributes: Attributes
    /// For `const` nodes: the name of the weight in `Graph.weights`.
    public var weight: String?

    public init(op: Op, inputs: [ValueID], outputs: [ValueID], attributes: Attributes = [:], weight: String? = nil) {
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.weight = weight
    }
}

/// A whole pipeline: image ops and model ops in one SSA graph, nodes in topological order.
/// Weights are held by name and printed as references, never as numbers.
public struct Graph: Sendable {
    public var name: String
    public private(set) var values: [Value] = []
    public var nodes: [Node] = []
    public var inputs: [ValueID] = []
    public var outputs: [ValueID] = []
    public var weights: [String: Tensor] = [:]
    private var namesInUse: Set<String> = []

    public init(name: String) { self.name = name }

    public subscript(id: ValueID) -> Value { values[id.index] }

    public func type(of id: ValueID) -> TensorType { values[id.index].type }

    public mutating func setType(_ type: TensorType, of id: ValueID) { values[id.index].type = type }

    /// Adds a value, making the name unique (`x`, `x.1`, `x.2`, …) and legal in the text form.
    public mutating func addValue(name: String, type: TensorType) -> ValueID {
        values.append(Value(name: claimName(name), type: type))
        return ValueID(values.count - 1)
    }

    /// Renames a value (keeping names unique). Returns the name actually given.
    @discardableResult
    public mutating func rename(_ id: ValueID, to name: String) -> String {
        let old = values[id.index].name
        if old == name { return old }
        namesInUse.remove(old)
        values[id.index].name = claimName(name)
        return values[id.index].name
    }

    /// The legal form of `name`, suffixed `.1`, `.2`, … until no value has it; marked in use.
    private mutating func claimName(_ name: String) -> String {
        let base = Graph.legalName(name)
        var candidate = base
        var suffix = 1
        while namesInUse.contains(candidate) {
            candidate = "\(base).\(suffix)"
            suffix += 1
        }
        namesInUse.insert(candidate)
        return candidate
    }

    /// Adds a graph input.
    public mutating func addInput(name: String, type: TensorType) -> ValueID {
        let id = addValue(name: name, type: type)
        inputs.append(id)
        return id
    }

    /// Appends a node whose result types are given. Returns its results.
    @discardableResult
    public mutating func append(
        _ op: Op, _ inputs: [ValueID], attributes: Attributes = [:],
        results: [(name: String, type: TensorType)], weight: String? = nil
    ) -> [ValueID] {
        let outs = results.map { addValue(name: $0.name, type: $0.type) }
        nodes.append(Node(op: op, inputs: inputs, outputs: outs, attributes: attributes, weight: weight))
        return outs
    }

    /// Appends a node, inferring its result types. Results are named `name`, `name.1`, ….
    @discardableResult
    public mutating func append(
        _ op: Op, _ inputs: [ValueID], attributes: Attributes = [:], name: String
    ) throws -> [ValueID] {
        let types = try inferTypes(op: op, inputs: inputs, attributes: attributes)
        let results = types.enumerated().map { (i, t) in (name: i == 0 ? name : "\(name).\(i)", type: t) }
        return append(op, inputs, attributes: attributes, results: results)
    }

    /// Adds a weight and the `const` node that references it; returns the constant's value.
    @discardableResult
    public mutating func addConstant(name: String, tensor: Tensor, layout: Layout = .none) -> ValueID {
        let weightName = addWeight(name: name, tensor: tensor)
        return append(.const, [], results: [(name, tensor.type(layout: layout))], weight: weightName)[0]
    }

    /// Adds a weight under a unique legal name derived from `name` (`w`, `w.1`, …) without a
    /// node; returns the name given. Passes that place `const` nodes themselves use it.
    public mutating func addWeight(name: String, tensor: Tensor) -> String {
        var weightName = Graph.legalName(name)
        var suffix = 1
        while weights[weightName] != nil {
            weightName = "\(Graph.legalName(name)).\(suffix)"
            suffix += 1
        }
        weights[weightName] = tensor
        return weightName
    }

    /// Infers result types of a prospective node from the graph's values and constants.
    public func inferTypes(op: Op, inputs: [ValueID], attributes: Attributes) throws -> [TensorType] {
        try ShapeInference.resultTypes(
            op: op, inputs: inputs.map(type(of:)), attributes: attributes,
            constants: inputs.map(constantValue(of:)))
    }

    // MARK: - Use-def queries

    /// Index of the node producing each value (nil for graph inputs).
    public func producers() -> [ValueID: Int] {
        var map: [ValueID: Int] = [:]
        for (i, node) in nodes.enumerated() {
            for o in node.outputs { map[o] = i }
        }
        return map
    }

    /// Number of uses of every value (node operands and graph outputs).
    public func useCounts() -> [ValueID: Int] {
        var counts: [ValueID: Int] = [:]
        for node in nodes {
            for i in node.inputs { counts[i, default: 0] += 1 }
        }
        for o in outputs { counts[o, default: 0] += 1 }
        return counts
    }

    /// Indices of the nodes that read each value.
    public func users() -> [ValueID: [Int]] {
        var map: [ValueID: [Int]] = [:]
        for (i, node) in nodes.enumerated() {
            for v in node.inputs where map[v]?.last != i { map[v, default: []].append(i) }
        }
        return map
    }

    /// The tensor behind a value when it is produced by a `const` node.
    public func constantValue(of id: ValueID) -> Tensor? {
        for node in nodes where node.op == .const && node.outputs.first == id {
            return node.weight.flatMap { weights[$0] }
        }
        return nil
    }

    /// The value of `id` when it is a constant or follows from constants and known shapes
    /// alone: a `shape` of a value whose dims are all known, then what `ConstantEvaluator`
    /// folds (the Shape → Gather → Unsqueeze → Concat → Cast chains exporters write for a
    /// Resize's sizes). Nil otherwise.
    public func knownValue(of id: ValueID) -> Tensor? {
        let producers = producers()
        func evaluate(_ id: ValueID, depth: Int) -> Tensor? {
            guard depth < 64, let index = producers[id] else { return nil }
            let node = nodes[index]
            if node.op == .const { return node.weight.flatMap { weights[$0] } }
            if node.op == .shape { return ConstantEvaluator.shape(of: type(of: node.inputs[0])) }
            guard node.outputs.count == 1, node.attributes["activation"] == nil, let shape = type(of: id).knownShape,
                  shape.reduce(1, *) <= ConstantEvaluator.maxElements else { return nil }
            var operands: [Tensor] = []
            for input in node.inputs {
                guard let operand = evaluate(input, depth: depth + 1) else { return nil }
                operands.append(operand)
            }
            return ConstantEvaluator.evaluate(node.op, operands: operands, attributes: node.attributes, resultShape: shape)
        }
        return evaluate(id, depth: 0)
    }

    /// Constant tensors of every `const` value, for passes that look up many at once.
    public func constantValues() -> [ValueID: Tensor] {
        var map: [ValueID: Tensor] = [:]
        for node in nodes where node.op == .const {
            if let w = node.weight, let t = weights[w] { map[node.outputs[0]] = t }
        }
        return map
    }

    /// Points every use (node operands and graph outputs) of `old` at `new`.
    public mutating func replaceAllUses(of old: ValueID, with new: ValueID) {
        for n in nodes.indices {
            for i in nodes[n].inputs.indices where nodes[n].inputs[i] == old {
                nodes[n].inputs[i] = new
            }
        }
        for i in outputs.indices where outputs[i] == old { outputs[i] = new }
    }

    /// Drops values no node or input defines, weights no `const` references, and renumbers
    /// values in definition order, so two graphs built differently print alike.
    public func compacted() -> Graph {
        var out = Graph(name: name)
        var remap: [ValueID: ValueID] = [:]
        for id in inputs {
            remap[id] = out.addInput(name: self[id].name, type: self[id].type)
        }
        for node in nodes {
            let ins = node.inputs.map { remap[$0] ?? $0 }
            let outs = node.outputs.map { o -> ValueID in
                let n = out.addValue(name: self[o].name, type: self[o].type)
                remap[o] = n
                return n
            }
            out.nodes.append(Node(op: node.op, inputs: ins, outputs: outs, attributes: node.attributes, weight: node.weight))
            if let w = node.weight, let t = weights[w] { out.weights[w] = t }
        }
        out.outputs = outputs.map { remap[$0] ?? $0 }
        return out
    }

    /// Text-form names allow letters, digits and `_ . / -`; anything else becomes `_`.
    public static func legalName(_ name: String) -> String {
        var s = String(name.unicodeScalars.map { isNameScalar($0) ? Character($0) : "_" })
        if s.isEmpty { s = "_" }
        return s
    }

    static func isNameScalar(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "/", "-": true
        default: false
        }
    }
}
