import IR

/// `fold-normalize`: folds the per-channel affine of a fused `preprocess` (its normalize:
/// `v·scale[c] + bias[c]`) into the weights and bias of the convolutions reading it, so the
/// preprocess writes raw pixel values.
///
/// ```
/// %p : f32[1,3,224,224] NCHW = preprocess(%img) {scale=[s…], bias=[b…], …}              %p : f32[1,3,224,224] NCHW = preprocess(%img) {scale=[1,1,1], bias=[0,0,0], …}
/// %c : f32[1,32,112,112] NCHW = conv(%p, %w, %b) {pads=[1,1,1,1], strides=[2,2]}  ──►  %p.padded : f32[1,3,226,226] NCHW = pad_spatial(%p) {pads=[1,1,1,1], value=[−b/s…]}
///                                                                                        %c : f32[1,32,112,112] NCHW = conv(%p.padded, %c.weight, %c.bias) {pads=[0,0,0,0], …}
/// ```
///
/// Correct because convolution is linear: `W∗(s·x + b) = (W·s)∗x + Σ W·b`, with
/// `W'[o,c,…] = W[o,c,…]·s[c]` and `b'[o] = b[o] + Σ_{c,kh,kw} W[o,c,kh,kw]·b[c]`. That holds
/// at every output only if each tap reads a normalized value, and the conv's zero padding
/// is a normalized 0. After the fold the padding must be the raw value that normalizes to
/// 0, `−b[c]/s[c]` (the per-channel mean in raw pixel units), not 0: so the pass pads
/// explicitly with it and removes the conv's padding. Exact up to float rounding.
///
/// The preprocess result, now raw pixel values, is renamed `<name>.raw`.
///
/// Legal when every user of the preprocess result is a `conv` reading it as its input, with
/// `group` 1, constant f32 weights (and bias), the same explicit `pads`, and no `auto_pad`;
/// and the affine is not already the identity and has no zero scale.
public struct FoldNormalizePass: Pass {
    public let name = "fold-normalize"
    public let summary = "fold the preprocess normalization into the first convolutions (padding with the raw mean)"
    public let fidelity = Fidelity.exact

    public init() {}

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        let users = graph.users(), constants = graph.constantValues()
        var g = graph
        var inserted: [(before: Int, nodes: [Node])] = []
        for (index, node) in graph.nodes.enumerated() where node.op == .preprocess {
            let value = node.outputs[0]
            let type = graph.type(of: value)
            guard type.layout == .nchw, !graph.outputs.contains(value),
                  let convs = users[value], !convs.isEmpty,
                  let scale = node.attributes.floats("scale"), let bias = node.attributes.floats("bias"),
                  scale.count == bias.count, !scale.contains(0),
                  scale.contains(where: { $0 != 1 }) || bias.contains(where: { $0 != 0 }) else { continue }
            let pads = convs.map { graph.nodes[$0].attributes.ints("pads") ?? [0, 0, 0, 0] }
            guard convs.allSatisfy({ Self.isFoldable(graph.nodes[$0], reading: value, channels: scale.count, constants: constants) }),
                  pads.allSatisfy({ $0 == pads[0] }) else { continue }
            // The value no longer holds the normalized tensor: it must not keep that name (--save).
            g.rename(value, to: "\(graph[value].name).raw")
            var preprocess = node
            preprocess.attributes["scale"] = .floats(Array(repeating: 1, count: scale.count))
            preprocess.attributes["bias"] = .floats(Array(repeating: 0, count: scale.count))
            g.nodes[index] = preprocess
            var convInput = value
            var newNodes: [Node] = []
            if pads[0].contains(where: { $0 != 0 }) {
                let padAttributes: Attributes = [
                    "pads": .ints(pads[0]), "value": .floats(zip(scale, bias).map { -$1 / $0 }),
                ]
                let padType = try g.inferTypes(op: .padSpatial, inputs: [value], attributes: padAttributes)[0]
                convInput = g.addValue(name: "\(graph[value].name).padded", type: padType)
                newNodes.append(Node(op: .padSpatial, inputs: [value], outputs: [convInput], attributes: padAttributes))
                statistics.count("padded # inputs with the raw mean")
            }
            for convIndex in convs {
                var conv = graph.nodes[convIndex]
                let (weight, folded) = Self.foldedParameters(
                    weight: constants[conv.inputs[1]]!, bias: conv.inputs.count > 2 ? constants[conv.inputs[2]]! : nil,
                    scale: scale, shift: bias)
                let name = g[conv.outputs[0]].name
                let w = g.makeConstant(name: "\(name).weight", tensor: weight, layout: g.type(of: conv.inputs[1]).layout)
                let b = g.makeConstant(name: "\(name).bias", tensor: folded)
                conv.inputs = [convInput, w.outputs[0], b.outputs[0]]
                if conv.attributes["pads"] != nil { conv.attributes["pads"] = .ints([0, 0, 0, 0]) }
                g.nodes[convIndex] = conv
                inserted.append((convIndex, [w, b]))
                statistics.count("folded normalize into # convs")
            }
            inserted.append((index + 1, newNodes))
        }
        for (position, nodes) in inserted.sorted(by: { $0.before > $1.before }) {
            g.nodes.insert(contentsOf: nodes, at: position)
        }
        return g
    }

    static func isFoldable(_ conv: Node, reading value: ValueID, channels: Int, constants: [ValueID: Tensor]) -> Bool {
        guard conv.op == .conv, conv.inputs.first == value, !conv.inputs.dropFirst().contains(value),
              conv.attributes.int("group", default: 1) == 1,
              (conv.attributes.string("auto_pad") ?? "NOTSET") == "NOTSET",
              let weight = constants[conv.inputs[1]], weight.dtype == .f32, weight.shape.count == 4,
              weight.shape[1] == channels else { return false }
        guard conv.inputs.count > 2 else { return true }
        guard let bias = constants[conv.inputs[2]] else { return false }
        return bias.dtype == .f32 && bias.count == weight.shape[0]
    }

    /// `W'[o,c,…] = W[o,c,…]·s[c]`, `b'[o] = b[o] + Σ W[o,c,…]·t[c]` (sums in double precision).
    static func foldedParameters(weight: Tensor, bias: Tensor?, scale: [Float], shift: [Float]) -> (Tensor, Tensor) {
        let (outputs, channels) = (weight.shape[0], weight.shape[1])
        let taps = weight.shape[2] * weight.shape[3]
        var w = weight.floats
        var b = (bias?.floats ?? Array(repeating: 0, count: outputs)).map(Double.init)
        for o in 0..<outputs {
            for c in 0..<channels {
                let base = (o * channels + c) * taps
                for i in base..<(base + taps) {
                    b[o] += Double(w[i]) * Double(shift[c])
                    w[i] = Float(Double(w[i]) * Double(scale[c]))
                }
            }
        }
        return (Tensor(shape: weight.shape, floats: w), Tensor(shape: [outputs], floats: b.map(Float.init)))
    }
}
