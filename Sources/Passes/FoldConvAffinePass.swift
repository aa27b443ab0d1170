import IR

/// `fold-conv-affine`: folds a multiplication, division, addition or subtraction by a constant
/// scalar or per-channel value, applied to a convolution's (or one-group transposed
/// convolution's) result, into its weights and bias, repeatedly (a `mul` then an `add` both
/// fold). A `batch_norm` folds the same way once such an op has gone: PP-OCR's detector adds
/// its ConvTranspose bias as an `add`, with the batch_norm after it.
///
/// ```
/// %c : f32[1,16,64,64] NCHW = conv(%x, %w, %b)                  %a.weight : f32[16,16,3,3] = const @a.weight
/// %m : f32[1,16,64,64] NCHW = mul(%c, %s)            ──►         %a.bias : f32[16] = const @a.bias
/// %a : f32[1,16,64,64] NCHW = add(%m, %t)                        %a : f32[1,16,64,64] NCHW = conv(%x, %a.weight, %a.bias)
/// ```
///
/// Exported PP-OCR models (PP-LCNetV3's learnable affine blocks) follow almost every conv with
/// `mul` and `add` by scalars: folded, they cost nothing, and oneDNN gets the chain after them
/// (HardSwish and one more affine) as post-ops it computes right. Correct because convolution
/// is linear in its weights: `s·(W∗x + b) + t = (s·W)∗x + (s·b + t)`, per output channel;
/// `y / s` is `y · (1/s)`, and `t − y` negates the weights. Legal when the conv's result feeds
/// only that op, the conv carries no activation, and the other operand is a constant with one
/// value, or one per output channel ([C,1,1] or [1,C,1,1]); never division by zero. The conv
/// takes the op's result (and name). Exact up to float rounding (the products rounded once
/// to f32; a division becomes a multiplication by the reciprocal, computed in double) — so
/// never an op whose result is rounded to an integer (`round`: a QuantizeLinear's `x / scale`),
/// where a last-bit difference at a .5 boundary would move the value by a whole step.
public struct FoldConvAffinePass: Pass {
    public let name = "fold-conv-affine"
    public let summary = "fold mul/div/add/sub by a constant scalar or per-channel value after a conv into its weights and bias"
    public let fidelity = Fidelity.exact

    public init() {}

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        var g = graph
        while let (convIndex, opIndex, weight, bias) = Self.nextFold(in: g) {
            let op = g.nodes[opIndex], conv = g.nodes[convIndex]
            let result = op.outputs[0]
            let w = g.makeConstant(name: "\(g[result].name).weight", tensor: weight, layout: g.type(of: conv.inputs[1]).layout)
            let b = g.makeConstant(name: "\(g[result].name).bias", tensor: bias)
            // The folded conv stands where the op was (its operands are all defined by then).
            g.nodes[opIndex] = Node(op: conv.op, inputs: [conv.inputs[0], w.outputs[0], b.outputs[0]], outputs: [result], attributes: conv.attributes)
            g.nodes.insert(contentsOf: [w, b], at: opIndex)
            g.nodes.remove(at: convIndex)
            statistics.count("folded # \(op.op.rawValue) into \(conv.op.rawValue)")
        }
        return g
    }

    /// The first conv + op pair to fold, with the folded weight and bias.
    static func nextFold(in g: Graph) -> (conv: Int, op: Int, weight: Tensor, bias: Tensor)? {
        let users = g.users(), uses = g.useCounts(), constants = g.constantValues()
        for (index, conv) in g.nodes.enumerated() where [.conv, .convTranspose].contains(conv.op) && conv.attributes["activation"] == nil {
            guard conv.inputs.count <= 3, let opIndex = g.soleUser(of: conv.outputs[0], users: users, useCounts: uses),
                  let weight = constants[conv.inputs[1]], weight.dtype == .f32, let map = OutputChannelMap(conv, weight: weight)
            else { continue }
            let channels = map.channels
            let bias = conv.inputs.count == 3 ? constants[conv.inputs[2]].flatMap { $0.count == channels ? $0.floats : nil } : Array(repeating: 0, count: channels)
            let op = g.nodes[opIndex]
            // A batch_norm that fold-batch-norm could not reach (a transposed conv's bias add between).
            if let bias, let (scale, offset) = FoldBatchNormPass.channelAffine(op, constants: constants, channels: channels),
               op.inputs[0] == conv.outputs[0] {
                let (w, b) = map.folding(weight: weight, bias: bias, scale: scale, offset: offset)
                return (index, opIndex, w, b)
            }
            guard let bias, [.mul, .div, .add, .sub].contains(op.op), op.inputs.count == 2, op.attributes["activation"] == nil,
                  op.inputs.filter({ $0 == conv.outputs[0] }).count == 1,
                  !(users[op.outputs[0]] ?? []).contains(where: { g.nodes[$0].op == .round }) else { continue }
            let convFirst = op.inputs[0] == conv.outputs[0]
            guard let values = perChannel(constants[op.inputs[convFirst ? 1 : 0]], channels: channels),
                  g.type(of: op.outputs[0]) == g.type(of: conv.outputs[0]) else { continue }
            // y' = scale[c]·y + offset[c], in double.
            var scale = Array(repeating: 1.0, count: channels), offset = Array(repeating: 0.0, count: channels)
            switch (op.op, convFirst) {
            case (.mul, _): scale = values
            case (.div, true):
                guard values.allSatisfy({ $0 != 0 }) else { continue }
                scale = values.map { 1 / $0 }
            case (.add, _): offset = values
            case (.sub, true): offset = values.map { -$0 }
            case (.sub, false): (scale, offset) = (Array(repeating: -1, count: channels), values)
            default: continue
            }
            let (w, b) = map.folding(weight: weight, bias: bias, scale: scale, offset: offset)
            return (index, opIndex, w, b)
        }
        return nil
    }

    /// One value per output channel from a constant of one element, [C,1,1] or [1,C,1,1].
    private static func perChannel(_ tensor: Tensor?, channels: Int) -> [Double]? {
        guard let tensor, tensor.dtype == .f32 else { return nil }
        let values = tensor.floats.map(Double.init)
        if tensor.count == 1 { return Array(repeating: values[0], count: channels) }
        guard tensor.count == channels, [[channels, 1, 1], [1, channels, 1, 1]].contains(tensor.shape) else { return nil }
        return values
    }
}
