import IR

/// `fuse-epilogue`: moves the chain of scalar elementwise ops after a conv into the conv's
/// `epilogue`, which the conv applies to each finished tile while it is in cache (native
/// kernels) or as post-ops (oneDNN), writing the chain's last value directly.
///
/// Exported detectors and recognizers (PP-OCR's PP-LCNetV3 above all) follow nearly every conv
/// with a learnable scalar affine that `fold-conv-affine` could not fold (a scale on a value
/// the conv's bias does not reach, or after an activation), HardSwish spelled out as
/// `x * clip(x + 3, 0, 6) / 6`, and another scalar affine: eight passes over a large tensor
/// for one conv, and seven stored intermediates.
///
/// ```
/// %c : f32[1,16,8,8] NCHW = conv(%x, %w, %b)                 %m : f32[1,16,8,8] NCHW = conv(%x, %w, %b)
/// %a : f32[1,16,8,8] NCHW = add(%c, %three)                       {epilogue=["save","add(3.0)","clip(0.0,6.0)",
/// %k : f32[1,16,8,8] NCHW = clip(%a, %zero, %six)      ──►                   "mul_saved","div(6.0)"]}
/// %g : f32[1,16,8,8] NCHW = mul(%c, %k)
/// %m : f32[1,16,8,8] NCHW = div(%g, %six)
/// ```
///
/// Legal when every absorbed value is read by the chain alone (no other user, not a graph
/// output), each op's other operand is a constant f32 scalar (so moving the op up to the conv
/// changes no data dependence and no shape), and the result keeps the conv result's exact type
/// (f32, same shape and layout: a bf16 result has no f32 epilogue). The gate form is the one
/// HardSwish takes: the value read by exactly a `mul` and a chain that ends in the `mul`'s other
/// operand. Exact: each step is the replaced op on the same f32 value in the same order, and
/// the kernels compute each step as that op's own kernel does (bit for bit, tested).
///
/// Runs last (before dead code elimination), after the passes that give convs their residual,
/// layout and precision: it absorbs only what they left, as oneDNN applies a residual and
/// the conv's `activation` before the epilogue.
public struct FuseEpiloguePass: Pass {
    public let name = "fuse-epilogue"
    public let summary = "fuse the scalar elementwise chain after a conv (affines, clip, HardSwish) into its epilogue"
    public let fidelity = Fidelity.exact

    public init() {}

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        let matcher = ChainMatcher(graph: graph)
        var chains: [Int: Chain] = [:]
        for (index, node) in graph.nodes.enumerated()
        where node.op == .conv && node.outputs.count == 1 && node.attributes["epilogue"] == nil {
            if let chain = matcher.chain(from: node.outputs[0]) { chains[index] = chain }
        }
        guard !chains.isEmpty else { return graph }
        let absorbed = Set(chains.values.flatMap(\.nodes))
        var nodes: [Node] = []
        for (index, node) in graph.nodes.enumerated() where !absorbed.contains(index) {
            guard let chain = chains[index] else {
                nodes.append(node)
                continue
            }
            var fused = node
            fused.outputs = [chain.result]
            fused.attributes["epilogue"] = .strings(chain.steps.map(\.description))
            nodes.append(fused)
            statistics.count("fused # elementwise ops into conv epilogues", by: chain.nodes.count)
        }
        var g = graph
        g.nodes = nodes
        return g
    }

    /// What one conv absorbs: its steps, the chain's nodes and the value the conv now writes.
    struct Chain {
        var steps: [EpilogueStep]
        var nodes: [Int]
        var result: ValueID
    }

    private struct ChainMatcher {
        let graph: Graph
        let users: [ValueID: [Int]]
        let uses: [ValueID: Int]
        let constants: [ValueID: Tensor]
        let outputs: Set<ValueID>

        init(graph: Graph) {
            self.graph = graph
            users = graph.users()
            uses = graph.useCounts()
            constants = graph.constantValues()
            outputs = Set(graph.outputs)
        }

        func chain(from start: ValueID) -> Chain? {
            let type = graph.type(of: start)
            guard type.dtype == .f32 else { return nil }
            var steps: [EpilogueStep] = []
            var nodes: [Int] = []
            var value = start
            while !outputs.contains(value) {
                if let (index, next, more) = single(after: value, type: type) {
                    steps += more
                    nodes.append(index)
                    value = next
                } else if let (gateNodes, gateSteps, multiply, next) = gate(after: value, type: type) {
                    steps += [.save] + gateSteps + [.mulSaved]
                    nodes += gateNodes + [multiply]
                    value = next
                } else {
                    break
                }
            }
            return nodes.isEmpty ? nil : Chain(steps: steps, nodes: nodes, result: value)
        }

        /// The sole user of `value` when it is a fusible elementwise op: its index, result and steps.
        private func single(after value: ValueID, type: TensorType) -> (Int, ValueID, [EpilogueStep])? {
            guard let index = graph.soleUser(of: value, users: users, useCounts: uses),
                  let steps = steps(of: graph.nodes[index], reading: value, type: type) else { return nil }
            return (index, graph.nodes[index].outputs[0], steps)
        }

        /// HardSwish's shape: `value` read by exactly two nodes, a chain of fusible ops starting
        /// at one of them and `mul(value, end of chain)` (either order) as the other.
        private func gate(after value: ValueID, type: TensorType) -> (nodes: [Int], steps: [EpilogueStep], multiply: Int, result: ValueID)? {
            guard uses[value] == 2, let readers = users[value], readers.count == 2 else { return nil }
            for (multiply, first) in [(readers[0], readers[1]), (readers[1], readers[0])] {
                let product = graph.nodes[multiply]
                guard product.op == .mul, product.inputs.count == 2, product.inputs.contains(value),
                      product.attributes["activation"] == nil, graph.type(of: product.outputs[0]) == type,
                      var steps = steps(of: graph.nodes[first], reading: value, type: type) else { continue }
                var nodes = [first]
                var end = graph.nodes[first].outputs[0]
                // The gate's chain runs until the value the product multiplies by.
                while !outputs.contains(end), !product.inputs.contains(end) {
                    guard let (index, next, more) = single(after: end, type: type) else { break }
                    steps += more
                    nodes.append(index)
                    end = next
                }
                guard !outputs.contains(end), product.inputs.contains(end), uses[end] == 1 else { continue }
                return (nodes, steps, multiply, product.outputs[0])
            }
            return nil
        }

        /// Steps of `node` applied to `value` (its only non-constant operand), or nil when the
        /// node is not a fusible elementwise op keeping `type`.
        private func steps(of node: Node, reading value: ValueID, type: TensorType) -> [EpilogueStep]? {
            guard node.outputs.count == 1, graph.type(of: node.outputs[0]) == type,
                  let tail = Self.activationSteps(node.attributes) else { return nil }
            switch node.op {
            case .relu:
                guard node.inputs == [value] else { return nil }
                return [.relu]
            case .clip:
                guard node.inputs.first == value, !node.inputs.dropFirst().contains(value) else { return nil }
                var bounds: [Float] = []
                for operand in node.inputs.dropFirst() {
                    guard let bound = scalar(operand) else { return nil }
                    bounds.append(bound)
                }
                let lo = bounds.count > 0 ? bounds[0] : node.attributes.float("min", default: -.infinity)
                let hi = bounds.count > 1 ? bounds[1] : node.attributes.float("max", default: .infinity)
                return [.clip(lo: lo, hi: hi)]
            case .add, .sub, .mul, .div:
                guard node.inputs.count == 2, node.inputs.filter({ $0 == value }).count == 1 else { return nil }
                let valueFirst = node.inputs[0] == value
                guard let s = scalar(valueFirst ? node.inputs[1] : node.inputs[0]) else { return nil }
                let step: EpilogueStep
                switch (node.op, valueFirst) {
                case (.add, _): step = .add(s)
                case (.mul, _): step = .mul(s)
                case (.sub, true): step = .sub(s)
                case (.sub, false): step = .rsub(s)
                case (.div, true): step = .div(s)
                default: return nil  // s / v: not a step
                }
                return [step] + tail
            default:
                return nil
            }
        }

        /// The node's own fused `activation` as steps ([] when it has none; nil when unknown).
        static func activationSteps(_ attributes: Attributes) -> [EpilogueStep]? {
            switch attributes.string("activation").map(FusedActivation.init(rawValue:)) {
            case nil: return []
            case .relu?: return [.relu]
            case .clip?:
                return [.clip(lo: attributes.float("clip_min", default: -.infinity), hi: attributes.float("clip_max", default: .infinity))]
            case nil?: return nil
            }
        }

        /// A constant f32 scalar (one element, broadcast onto the whole value).
        private func scalar(_ id: ValueID) -> Float? {
            guard let t = constants[id], t.dtype == .f32, t.count == 1 else { return nil }
            return t.floats[0]
        }
    }
}
