import IR

/// `fuse-residual-add`: folds the residual `add` after a convolution placed on `dnnl` into
/// that convolution, as oneDNN's binary-add post-op, with the add's own fused activation after it.
///
/// ```
/// %c : f32[1,256,56,56] NCHW = conv(%x, %w, %b) {backend="dnnl", …}           %r : f32[1,256,56,56] NCHW = conv(%x, %w, %b, %skip)
/// %r : f32[1,256,56,56] NCHW = add(%c, %skip) {activation="relu"}      ──►        {activation="relu", backend="dnnl", residual=1, …}
/// ```
///
/// Legal when the conv's result is read only by the add, carries no activation of its own
/// (oneDNN would apply it before the sum, the graph after), the other operand has the result's
/// exact type (no broadcast) and is defined before the conv (the conv now reads it). Of two
/// conv operands, the later conv takes the add. A conv without bias gets a zero bias, so the
/// operand positions stay x, w, bias, residual. Exact: each output is the same conv value plus
/// the same residual element, rounded once more in the same order.
public struct FuseResidualAddPass: Pass {
    public let name = "fuse-residual-add"
    public let summary = "fold a residual add (and its activation) into the dnnl conv producing one operand"
    public let fidelity = Fidelity.exact

    public init() {}

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        let users = graph.users(), uses = graph.useCounts(), producers = graph.producers()
        // conv index → (add index, residual operand); each conv takes at most one add.
        var fusions: [Int: (add: Int, skip: ValueID)] = [:]
        for (addIndex, add) in graph.nodes.enumerated() where add.op == .add && add.inputs.count == 2 {
            guard let (convIndex, skip) = Self.match(add: add, in: graph, users: users, uses: uses, producers: producers),
                  fusions[convIndex] == nil else { continue }
            fusions[convIndex] = (addIndex, skip)
        }
        guard !fusions.isEmpty else { return graph }
        var g = graph
        let absorbed = Set(fusions.values.map(\.add))
        var nodes: [Node] = []
        for (index, node) in graph.nodes.enumerated() where !absorbed.contains(index) {
            guard let (addIndex, skip) = fusions[index] else {
                nodes.append(node)
                continue
            }
            let add = graph.nodes[addIndex]
            var conv = node
            if conv.inputs.count == 2 {
                let channels = g.type(of: conv.inputs[1]).shape[0].value ?? 0
                let zero = g.makeConstant(name: g[conv.outputs[0]].name + ".bias", tensor: Tensor(shape: [channels], floats: Array(repeating: 0, count: channels)))
                nodes.append(zero)
                conv.inputs.append(zero.outputs[0])
            }
            conv.inputs.append(skip)
            conv.attributes["residual"] = .int(1)
            for key in ["activation", "clip_min", "clip_max"] { conv.attributes[key] = add.attributes[key] }
            conv.outputs = add.outputs
            nodes.append(conv)
            statistics.count("fused # residual add into conv")
        }
        g.nodes = nodes
        return g
    }

    /// The conv whose result `add` may absorb and the add's other operand.
    static func match(
        add: Node, in g: Graph, users: [ValueID: [Int]], uses: [ValueID: Int], producers: [ValueID: Int]
    ) -> (conv: Int, skip: ValueID)? {
        var best: (conv: Int, skip: ValueID)?
        for (value, skip) in [(add.inputs[0], add.inputs[1]), (add.inputs[1], add.inputs[0])] {
            guard let index = producers[value], g.soleUser(of: value, users: users, useCounts: uses) != nil else { continue }
            let conv = g.nodes[index]
            guard conv.op == .conv, conv.backend == .dnnl, conv.inputs.count <= 3, conv.attributes["activation"] == nil,
                  conv.attributes["residual"] == nil, g.type(of: skip) == g.type(of: value) else { continue }
            // The residual must exist before the conv runs.
            if let skipProducer = producers[skip], skipProducer >= index { continue }
            if best == nil || index > best!.conv { best = (index, skip) }
        }
        return best
    }
}
