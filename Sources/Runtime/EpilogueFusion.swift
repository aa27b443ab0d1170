import IR
import Kernels

/// Plan-time fusion of the elementwise chains that follow a conv into its epilogue.
///
/// Exported detectors and recognizers (PP-OCR's PP-LCNetV3 above all) follow nearly every conv
/// with a learnable scalar affine (`mul` by a scalar, `add` a scalar), HardSwish spelled out as
/// `x * clip(x + 3, 0, 6) / 6`, and another scalar affine: eight passes over a large tensor for
/// one conv. Here the chain becomes an `EpilogueProgram` the conv runs on each finished tile
/// while it is in cache, and the conv writes the chain's last value directly; the values in
/// between are never stored. Each step of the program computes what the op's own kernel
/// computes, so the result is bit for bit the same.
///
/// A value is absorbed only when the chain is its every use: it is not a graph output, not
/// captured, and read by no other node. The other operand of each op is a plan-time f32
/// scalar, so moving the chain up to the conv changes no data dependence.
struct EpilogueFusion {
    /// What one producer absorbs.
    struct Chain {
        var program: EpilogueProgram
        /// The value the producer now writes (the chain's last result).
        var result: ValueID
        /// Absorbed nodes (they get no step).
        var nodes: [Int]
        /// Values never stored: the producer's own result and every intermediate.
        var elided: [ValueID]
    }

    /// Producers whose epilogue runs programs: every conv kernel (GEMM and depthwise).
    static let producers: Set<Op> = [.conv]

    private let graph: Graph
    private let types: [TensorType?]
    private let known: [ValueID: Tensor]
    private let users: [ValueID: [Int]]
    private let uses: [ValueID: Int]
    private let pinned: Set<ValueID>

    /// - Parameter pinned: values that must be stored (graph outputs, captured values).
    init(graph: Graph, types: [TensorType?], known: [ValueID: Tensor], pinned: Set<ValueID>) {
        self.graph = graph
        self.types = types
        self.known = known
        users = graph.users()
        uses = graph.useCounts()
        self.pinned = pinned
    }

    /// Chains by producer node index.
    func chains() -> [Int: Chain] {
        var result: [Int: Chain] = [:]
        for (index, node) in graph.nodes.enumerated() where Self.producers.contains(node.op) && node.outputs.count == 1 {
            if let chain = chain(from: node.outputs[0]) { result[index] = chain }
        }
        return result
    }

    private func chain(from start: ValueID) -> Chain? {
        guard let type = types[start.index], type.dtype == .f32, let shape = type.knownShape else { return nil }
        var steps: [EpilogueProgram.Step] = []
        var nodes: [Int] = []
        var elided: [ValueID] = []
        var value = start
        while !pinned.contains(value) {
            if let (index, next, stepsOfNode) = single(after: value, shape: shape) {
                steps += stepsOfNode
                nodes.append(index)
                elided.append(value)
                value = next
            } else if let (gateNodes, gateSteps, multiply, next) = gate(after: value, shape: shape) {
                steps += [.save] + gateSteps + [.multiplySaved]
                nodes += gateNodes + [multiply]
                elided.append(value)
                elided += gateNodes.map { graph.nodes[$0].outputs[0] }
                value = next
            } else {
                break
            }
        }
        guard !nodes.isEmpty else { return nil }
        return Chain(program: EpilogueProgram(steps), result: value, nodes: nodes, elided: elided)
    }

    /// The sole user of `value` when it is a fusible elementwise op: its index, result and steps.
    private func single(after value: ValueID, shape: [Int]) -> (Int, ValueID, [EpilogueProgram.Step])? {
        guard uses[value] == 1, let readers = users[value], readers.count == 1 else { return nil }
        let index = readers[0]
        guard let steps = steps(of: graph.nodes[index], reading: value, shape: shape) else { return nil }
        return (index, graph.nodes[index].outputs[0], steps)
    }

    /// HardSwish's shape: `value` read by exactly two nodes, a chain of fusible ops starting at
    /// one of them and `mul(value, end of chain)` (either order) as the other.
    private func gate(after value: ValueID, shape: [Int]) -> (nodes: [Int], steps: [EpilogueProgram.Step], multiply: Int, result: ValueID)? {
        guard uses[value] == 2, let readers = users[value], readers.count == 2 else { return nil }
        for (multiply, first) in [(readers[0], readers[1]), (readers[1], readers[0])] {
            let product = graph.nodes[multiply]
            guard product.op == .mul, product.inputs.count == 2, product.inputs.contains(value),
                  product.attributes["activation"] == nil, sameShape(product.outputs[0], shape),
                  var steps = steps(of: graph.nodes[first], reading: value, shape: shape) else { continue }
            var nodes = [first]
            var end = graph.nodes[first].outputs[0]
            // The gate's chain runs until the value the product multiplies by.
            while !pinned.contains(end), !product.inputs.contains(end) {
                guard let (index, next, more) = single(after: end, shape: shape) else { break }
                steps += more
                nodes.append(index)
                end = next
            }
            guard !pinned.contains(end), product.inputs.contains(end), uses[end] == 1 else { continue }
            return (nodes, steps, multiply, product.outputs[0])
        }
        return nil
    }

    /// Program steps of `node` applied to `value` (its only non-constant operand), or nil when
    /// the node is not a fusible elementwise op on a result of the same shape.
    private func steps(of node: Node, reading value: ValueID, shape: [Int]) -> [EpilogueProgram.Step]? {
        guard node.outputs.count == 1, sameShape(node.outputs[0], shape) else { return nil }
        let fused = Activation(attributes: node.attributes)
        let tail: [EpilogueProgram.Step] = fused == .none ? [] : [.activate(fused)]
        switch node.op {
        case .relu:
            guard node.inputs == [value] else { return nil }
            return [.activate(.relu)]
        case .clip:
            guard node.inputs.first == value, node.inputs.dropFirst().allSatisfy({ $0 != value }) else { return nil }
            var bounds: [Float] = []
            for operand in node.inputs.dropFirst() {
                guard let bound = scalar(operand) else { return nil }
                bounds.append(bound)
            }
            let lo = bounds.count > 0 ? bounds[0] : node.attributes.float("min", default: -.infinity)
            let hi = bounds.count > 1 ? bounds[1] : node.attributes.float("max", default: .infinity)
            return [.activate(.clip(lo: lo, hi: hi))]
        case .add, .sub, .mul, .div:
            guard let op = BinaryKernel.Operator(node.op), node.inputs.count == 2, node.inputs.filter({ $0 == value }).count == 1
            else { return nil }
            let valueFirst = node.inputs[0] == value
            guard let s = scalar(valueFirst ? node.inputs[1] : node.inputs[0]) else { return nil }
            // The affine form the op's own kernel uses, so the rounding is the same; division
            // has none (and only `value / s` divides by a scalar).
            if let (scale, offset) = BinaryKernel.scalarAffine(op, scalar: s, scalarFirst: !valueFirst) {
                return [.affine(scale: scale, offset: offset)] + tail
            }
            guard valueFirst else { return nil }
            return [.divide(s)] + tail
        default:
            return nil
        }
    }

    /// A plan-time f32 scalar (one element, broadcast onto the whole value).
    private func scalar(_ id: ValueID) -> Float? {
        guard let t = known[id], t.dtype == .f32, t.count == 1 else { return nil }
        return t.floats[0]
    }

    private func sameShape(_ id: ValueID, _ shape: [Int]) -> Bool {
        guard let type = types[id.index] else { return false }
        return type.dtype == .f32 && type.knownShape == shape
    }
}
