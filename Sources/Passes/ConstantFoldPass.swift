import IR

/// `constant-fold`: computes at compile time every node whose operands are all constants
/// (see `ConstantEvaluator` for the ops), and `shape` of any value whose shape is fully
/// known; then turns constant shape operands into attributes, so that after this pass
/// shapes are attributes and the runtime never reads a shape from a tensor.
///
/// ```
/// %dims : i64[2] = const @dims                          %w : f32[1000,2048] = const @w
/// %w : f32[1000,2048] = constant_of_shape(%dims)   ──►  %y : f32[1,2048] = reshape(%x) {shape=[1,-1]}
/// %target : i64[2] = const @target
/// %y : f32[1,2048] = reshape(%x, %target)
/// ```
///
/// A folded value keeps its name (its weight is named after it), so `--save` still finds
/// it; the constants it read become dead and `dead-code-elimination` drops them. Types of
/// later nodes are refined where folding made a symbolic dim known. Results larger than
/// `ConstantEvaluator.maxElements` are not folded.
///
/// Exact: integer ops fold only without overflow, casts only when the value fits, and f32
/// arithmetic is the same IEEE single-precision operation the runtime performs.
public struct ConstantFoldPass: Pass {
    public let name = "constant-fold"
    public let summary = "evaluate nodes on constants; turn constant shape operands into attributes"
    public let fidelity = Fidelity.exact

    public init() {}

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        var g = graph
        var constants = g.constantValues()
        for index in g.nodes.indices where g.nodes[index].op != .const {
            if refineResultTypes(of: index, in: &g, constants: constants) {
                statistics.count("refined # result types")
            }
            let node = g.nodes[index]
            if let folded = fold(node, in: g, constants: constants) {
                let out = node.outputs[0]
                var type = g.type(of: out)
                type.dtype = folded.dtype
                type.shape = folded.shape.map(Dim.known)
                g.setType(type, of: out)
                g.nodes[index] = Node(op: .const, inputs: [], outputs: [out], weight: g.addWeight(name: g[out].name, tensor: folded))
                constants[out] = folded
                statistics.count("folded # \(node.op.rawValue)")
            } else if let rewritten = shapeOperandAsAttribute(node, constants: constants) {
                g.nodes[index] = rewritten
                statistics.count("moved # shape operands into attributes")
            }
        }
        return g
    }

    /// The folded result of a single-result node, or nil when it is not foldable.
    private func fold(_ node: Node, in g: Graph, constants: [ValueID: Tensor]) -> Tensor? {
        // An op with a fused activation is computed by its kernel's epilogue, not here.
        guard node.outputs.count == 1, node.attributes["activation"] == nil else { return nil }
        if node.op == .shape, let dims = ConstantEvaluator.shape(of: g.type(of: node.inputs[0])) { return dims }
        let operands = node.inputs.compactMap { constants[$0] }
        guard !operands.isEmpty, operands.count == node.inputs.count,
              let types = try? ShapeInference.resultTypes(
                  op: node.op, inputs: node.inputs.map(g.type(of:)), attributes: node.attributes, constants: operands),
              let shape = types.first?.knownShape, Self.elementCount(shape).map({ $0 <= ConstantEvaluator.maxElements }) == true
        else { return nil }
        return ConstantEvaluator.evaluate(node.op, operands: operands, attributes: node.attributes, resultShape: shape)
    }

    /// `reshape(%x, %shape)` → `reshape(%x) {shape=[…]}`; `unsqueeze`/`squeeze` axes likewise.
    private func shapeOperandAsAttribute(_ node: Node, constants: [ValueID: Tensor]) -> Node? {
        let key: String
        switch node.op {
        case .reshape: key = "shape"
        case .unsqueeze, .squeeze: key = "axes"
        default: return nil
        }
        guard node.inputs.count == 2, node.attributes[key] == nil,
              let operand = constants[node.inputs[1]], operand.dtype == .i64 || operand.dtype == .i32 else { return nil }
        var rewritten = node
        rewritten.inputs.removeLast()
        rewritten.attributes[key] = .ints(operand.integers)
        return rewritten
    }

    /// Fills symbolic result dims that shape inference now knows (from newly folded operands);
    /// true when a type changed.
    private func refineResultTypes(of index: Int, in g: inout Graph, constants: [ValueID: Tensor]) -> Bool {
        let node = g.nodes[index]
        guard let inferred = try? ShapeInference.resultTypes(
                  op: node.op, inputs: node.inputs.map(g.type(of:)), attributes: node.attributes,
                  constants: node.inputs.map { constants[$0] }),
              inferred.count == node.outputs.count else { return false }
        var changed = false
        for (out, type) in zip(node.outputs, inferred) {
            var declared = g.type(of: out)
            guard declared.rank == type.rank else { continue }
            declared.shape = zip(declared.shape, type.shape).map { d, i in d.value == nil && i.value != nil ? i : d }
            if declared != g.type(of: out) {
                g.setType(declared, of: out)
                changed = true
            }
        }
        return changed
    }

    /// Product of the dims, nil on overflow.
    static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow else { return nil }
            n = p
        }
        return n
    }
}
