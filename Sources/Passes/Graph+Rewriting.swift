import IR

extension Graph {
    /// A `const` node defining a new value that holds `tensor`, its weight named after the
    /// value. The node is returned, not appended: the caller places it before its first use.
    mutating func makeConstant(name: String, tensor: Tensor, layout: Layout = .none) -> Node {
        let value = addValue(name: name, type: tensor.type(layout: layout))
        return Node(op: .const, inputs: [], outputs: [value], weight: addWeight(name: self[value].name, tensor: tensor))
    }

    /// The node reading `value` when it is its only use (not also a graph output), else nil.
    func soleUser(of value: ValueID, users: [ValueID: [Int]], useCounts: [ValueID: Int]) -> Int? {
        guard useCounts[value] == 1, let only = users[value], only.count == 1 else { return nil }
        return only[0]
    }
}

/// How a (transposed) convolution's weight elements map to its output channels, for the passes
/// that fold per-channel affines into weights. Conv weights are [M, C/group, KH, KW]: the
/// output channel is axis 0. Transposed-conv weights are [C, M/group, KH, KW]: with one group,
/// axis 1. Grouped transposed convs are left alone (nil).
struct OutputChannelMap {
    let channels: Int
    /// Elements per step of the output-channel axis, and whether that axis is the first.
    private let stride: Int
    private let leading: Bool

    init?(_ node: Node, weight: Tensor) {
        guard weight.shape.count == 4, weight.shape.allSatisfy({ $0 > 0 }) else { return nil }
        switch node.op {
        case .conv:
            (channels, leading, stride) = (weight.shape[0], true, weight.count / weight.shape[0])
        case .convTranspose where node.attributes.int("group", default: 1) == 1:
            (channels, leading, stride) = (weight.shape[1], false, weight.shape[2] * weight.shape[3])
        default:
            return nil
        }
    }

    /// The output channel weight element `index` (row-major) contributes to.
    func channel(ofElement index: Int) -> Int { leading ? index / stride : (index / stride) % channels }

    /// Weight and bias of the conv followed by `y ↦ scale[c]·y + offset[c]`: each output
    /// channel's weights times its scale, `bias·scale + offset` (in double, rounded once).
    func folding(weight: Tensor, bias: [Float]?, scale: [Double], offset: [Double]) -> (weight: Tensor, bias: Tensor) {
        let weights = weight.floats.enumerated().map { i, w in Float(Double(w) * scale[channel(ofElement: i)]) }
        let folded = (0..<channels).map { c in Float(Double(bias?[c] ?? 0) * scale[c] + offset[c]) }
        return (Tensor(shape: weight.shape, floats: weights), Tensor(shape: [channels], floats: folded))
    }
}
