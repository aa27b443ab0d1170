import IR

/// `fold-batch-norm`: folds an inference-mode `batch_norm` into the convolution (or one-group
/// transposed convolution) feeding it, rescaling the weights and bias per output channel.
///
/// ```
/// %c : f32[1,64,56,56] NCHW = conv(%x, %w) {…}                      %bn.weight : f32[64,64,3,3] = const @bn.weight
/// %bn : f32[1,64,56,56] NCHW = batch_norm(%c, %s, %B, %m, %v)  ──►  %bn.bias : f32[64] = const @bn.bias
///                                                                    %bn : f32[1,64,56,56] NCHW = conv(%x, %bn.weight, %bn.bias) {…}
/// ```
///
/// Correct because batch_norm is affine per channel: `s·(y − m)/√(v+ε) + B` with
/// `y = W∗x + b` equals `(W·k)∗x + (b − m)·k + B` for `k = s/√(v+ε)`, and convolution is
/// linear in `W`. Legal when the conv result feeds only the batch_norm, every parameter is
/// a constant of one value per output channel, and the conv has no activation yet. The
/// conv takes the batch_norm's result (and name). Exact up to float rounding (`k` is
/// computed in double precision, the products rounded once to f32).
public struct FoldBatchNormPass: Pass {
    public let name = "fold-batch-norm"
    public let summary = "fold batch_norm after conv into the conv's weights and bias"
    public let fidelity = Fidelity.exact

    public init() {}

    /// A conv + batch_norm pair that may be folded, with the constants the fold reads.
    struct Match {
        let batchNormIndex: Int
        let weight: Tensor
        let channels: OutputChannelMap
        let bias: [Float]?
        /// The batch_norm as `scale[c]·y + offset[c]` (`channelAffine`).
        let scale: [Double], offset: [Double]
    }

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        let users = graph.users(), uses = graph.useCounts(), constants = graph.constantValues()
        var g = graph
        var rewritten: [Node] = []
        var foldedAway: Set<Int> = []
        for (index, node) in graph.nodes.enumerated() where !foldedAway.contains(index) {
            guard let match = Self.match(conv: node, in: graph, users: users, uses: uses, constants: constants) else {
                rewritten.append(node)
                continue
            }
            let result = graph.nodes[match.batchNormIndex].outputs[0]
            let (weight, bias) = Self.foldedParameters(match)
            let w = g.makeConstant(name: "\(g[result].name).weight", tensor: weight, layout: g.type(of: node.inputs[1]).layout)
            let b = g.makeConstant(name: "\(g[result].name).bias", tensor: bias)
            rewritten += [w, b, Node(op: node.op, inputs: [node.inputs[0], w.outputs[0], b.outputs[0]], outputs: [result], attributes: node.attributes)]
            foldedAway.insert(match.batchNormIndex)
            statistics.count("folded # batch_norm")
        }
        g.nodes = rewritten
        return g
    }

    /// Legality: the pattern, the single use, constant per-channel parameters, positive variance.
    static func match(
        conv: Node, in g: Graph, users: [ValueID: [Int]], uses: [ValueID: Int], constants: [ValueID: Tensor]
    ) -> Match? {
        guard [.conv, .convTranspose].contains(conv.op), conv.attributes["activation"] == nil, conv.inputs.count <= 3,
              let bnIndex = g.soleUser(of: conv.outputs[0], users: users, useCounts: uses) else { return nil }
        let bn = g.nodes[bnIndex]
        guard bn.outputs.count == 1, bn.inputs.first == conv.outputs[0],
              let weight = constants[conv.inputs[1]], weight.dtype == .f32, let map = OutputChannelMap(conv, weight: weight) else { return nil }
        let channels = map.channels
        let bias = conv.inputs.count == 3 ? constants[conv.inputs[2]].flatMap { $0.dtype == .f32 && $0.count == channels ? $0.floats : nil } : nil
        guard conv.inputs.count == 2 || bias != nil,
              let (scale, offset) = channelAffine(bn, constants: constants, channels: channels) else { return nil }
        return Match(batchNormIndex: bnIndex, weight: weight, channels: map, bias: bias, scale: scale, offset: offset)
    }

    /// An inference-mode batch_norm as the per-channel affine `k·y + (B − m·k)`, when its
    /// parameters are constants of `channels` values and the variance is positive.
    static func channelAffine(_ bn: Node, constants: [ValueID: Tensor], channels: Int) -> (scale: [Double], offset: [Double])? {
        guard bn.op == .batchNorm, bn.inputs.count == 5, bn.attributes.int("training_mode", default: 0) == 0 else { return nil }
        func perChannel(_ id: ValueID) -> [Float]? {
            guard let t = constants[id], t.dtype == .f32, t.count == channels else { return nil }
            return t.floats
        }
        guard let scale = perChannel(bn.inputs[1]), let shift = perChannel(bn.inputs[2]),
              let mean = perChannel(bn.inputs[3]), let variance = perChannel(bn.inputs[4]) else { return nil }
        let epsilon = bn.attributes.float("epsilon", default: 1e-5)
        guard variance.allSatisfy({ $0 + epsilon > 0 }) else { return nil }
        let k = zip(scale, variance).map { Double($0) / (Double($1) + Double(epsilon)).squareRoot() }
        return (k, (0..<channels).map { Double(shift[$0]) - Double(mean[$0]) * k[$0] })
    }

    /// `W'[c] = W[c]·k[c]`, `b'[c] = b[c]·k[c] + (B[c] − m[c]·k[c])` with `k = s/√(v+ε)`.
    static func foldedParameters(_ m: Match) -> (weight: Tensor, bias: Tensor) {
        m.channels.folding(weight: m.weight, bias: m.bias, scale: m.scale, offset: m.offset)
    }
}
