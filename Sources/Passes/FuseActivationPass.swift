import IR

/// `fuse-activation`: moves a `relu`, or a `clip` with constant bounds, into the epilogue
/// of the conv / conv_transpose / gemm / add / sum producing its operand (`Op.acceptsFusedActivation`).
///
/// ```
/// %c : f32[1,64,56,56] NCHW = conv(%x, %w, %b) {…}        %r : f32[1,64,56,56] NCHW = conv(%x, %w, %b) {activation="relu", …}
/// %r : f32[1,64,56,56] NCHW = relu(%c)               ──►
/// %y : f32[1,8] = clip(%g, %zero, %six)                    %y : f32[1,8] = gemm(…) {activation="clip", clip_max=6.0, clip_min=0.0}
/// ```
///
/// Legal when the producer's result has no other use (nobody needs the value before the
/// activation) and it carries no activation yet. The producer takes the activation's result
/// (and name). Exact: the epilogue applies the same `max(x, 0)` / `min(max(x, lo), hi)` to the
/// same f32 value before it is stored. Absent clip bounds are written as ∓inf.
public struct FuseActivationPass: Pass {
    public let name = "fuse-activation"
    public let summary = "fuse relu / clip into the epilogue of conv, conv_transpose, gemm, add and sum"
    public let fidelity = Fidelity.exact

    public init() {}

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        let users = graph.users(), uses = graph.useCounts(), constants = graph.constantValues()
        var rewritten: [Node] = []
        var fusedAway: Set<Int> = []
        for (index, node) in graph.nodes.enumerated() where !fusedAway.contains(index) {
            guard let (activationIndex, attributes) = Self.match(producer: node, in: graph, users: users, uses: uses, constants: constants) else {
                rewritten.append(node)
                continue
            }
            var fused = node
            fused.outputs = graph.nodes[activationIndex].outputs
            for (key, value) in attributes.storage { fused.attributes[key] = value }
            rewritten.append(fused)
            fusedAway.insert(activationIndex)
            statistics.count("fused # \(graph.nodes[activationIndex].op.rawValue) into \(node.op.rawValue)")
        }
        var g = graph
        g.nodes = rewritten
        return g
    }

    /// Legality: the activation that may be fused into `producer`, and the epilogue attributes.
    static func match(
        producer: Node, in g: Graph, users: [ValueID: [Int]], uses: [ValueID: Int], constants: [ValueID: Tensor]
    ) -> (index: Int, attributes: Attributes)? {
        guard producer.op.acceptsFusedActivation, producer.outputs.count == 1, producer.attributes["activation"] == nil,
              let index = g.soleUser(of: producer.outputs[0], users: users, useCounts: uses) else { return nil }
        let activation = g.nodes[index]
        guard activation.inputs.first == producer.outputs[0] else { return nil }
        switch activation.op {
        case .relu:
            return (index, ["activation": .string(FusedActivation.relu.rawValue)])
        case .clip:
            func bound(_ operand: Int, attribute: String, default value: Float) -> Float? {
                guard operand < activation.inputs.count else { return activation.attributes.float(attribute) ?? value }
                guard let t = constants[activation.inputs[operand]], t.dtype == .f32, t.count == 1 else { return nil }
                return t.floats[0]
            }
            guard let low = bound(1, attribute: "min", default: -.infinity),
                  let high = bound(2, attribute: "max", default: .infinity) else { return nil }
            return (index, [
                "activation": .string(FusedActivation.clip.rawValue), "clip_min": .float(low), "clip_max": .float(high),
            ])
        default:
            return nil
        }
    }
}
