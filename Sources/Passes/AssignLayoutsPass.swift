import IR

/// `assign-layouts`: runs the convolutions and poolings placed on `dnnl` channels-last (NHWC),
/// carries that layout through the elementwise ops between them, and converts back to NCHW
/// only where a neighbour needs it, with one `transpose` per value and direction.
///
/// ```
/// %x : f32[1,3,224,224] NCHW = preprocess(%img) {layout="NCHW", …}          %x.nhwc : f32[1,224,224,3] NHWC = preprocess(%img) {layout="NHWC", …}
/// %c : f32[1,32,112,112] NCHW = conv(%x, %w, %b) {backend="dnnl", …}   ──►  %c : f32[1,112,112,32] NHWC = conv(%x.nhwc, %w, %b) {backend="dnnl", layout="NHWC", …}
/// %r : f32[1,32,112,112] NCHW = add(%c, %s)                                  %r : f32[1,112,112,32] NHWC = add(%c, %s.nhwc)
/// %f : f32[1,32] = flatten(%g)                                               %g.nchw : … = transpose(%g) {perm=[0,3,1,2]}; %f = flatten(%g.nchw)
/// ```
///
/// Why NHWC and not oneDNN's blocked formats: oneDNN's `brgconv` and `brdgmm` kernels run
/// channels-last natively on AVX-512 (with format `any` it picks NHWC for these nets itself),
/// and NHWC is a layout every other op of the IR can also name and the fused `preprocess`
/// kernel can write, so the model's first conversion folds into the preprocessing
/// (`cancel-transposes`, run after this pass) instead of costing a pass over the input.
///
/// What follows a channels-last value: unary elementwise ops, binary ones whose other
/// operands are constants (permuted here, once) or rank-4 values (transposed in), nearest
/// `interpolate` (its per-axis scales and sizes permuted) and `concat` (its axis moved).
/// Anything else reads the value's NCHW copy. Exact: only where elements are stored changes; every op computes
/// the same values. Statistics count the nodes converted and the transposes inserted.
public struct AssignLayoutsPass: Pass {
    public let name = "assign-layouts"
    public let summary = "run dnnl convolutions and poolings channels-last (NHWC); transposes only at the boundaries"
    public let fidelity = Fidelity.exact

    public init() {}

    static let toNHWC = [0, 2, 3, 1]
    static let toNCHW = [0, 3, 1, 2]
    /// Ops that compute each element from the same-index elements of their operands.
    static let layoutFree: Set<Op> = [.relu, .clip, .sigmoid, .hardSigmoid, .hardSwish, .sqrt, .add, .sub, .mul, .div, .sum]

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        guard graph.nodes.contains(where: { $0.backend == .dnnl }) else { return graph }
        var g = graph
        let constants = graph.constantValues()
        var nodes: [Node] = []
        /// NCHW value → the NHWC value standing for it (a transposed copy or a permuted constant).
        var channelsLast: [ValueID: ValueID] = [:]
        /// NHWC value → its NCHW copy, made on first need.
        var channelsFirst: [ValueID: ValueID] = [:]
        /// Values this rewrite defines as NHWC.
        var isChannelsLast: Set<ValueID> = []
        /// Results of converted nodes, by the value they replace.
        var replaced: [ValueID: ValueID] = [:]

        func transpose(_ value: ValueID, perm: [Int], suffix: String) throws -> ValueID {
            let attributes: Attributes = ["perm": .ints(perm)]
            let type = try g.inferTypes(op: .transpose, inputs: [value], attributes: attributes)[0]
            let result = g.addValue(name: g[value].name + suffix, type: type)
            nodes.append(Node(op: .transpose, inputs: [value], outputs: [result], attributes: attributes))
            statistics.count("inserted # transpose")
            return result
        }
        /// The NHWC form of an operand: itself, a transposed copy, or (constants) permuted once.
        func channelsLastOperand(_ value: ValueID) throws -> ValueID {
            if isChannelsLast.contains(value) { return value }
            if let done = channelsLast[value] { return done }
            let result: ValueID
            if let tensor = constants[value], tensor.shape.count <= 4 {
                // Broadcasting aligns trailing axes: pad to rank 4 with leading ones, then permute.
                let padded = tensor.reshaped(Array(repeating: 1, count: 4 - tensor.shape.count) + tensor.shape)
                let shape = Self.toNHWC.map { padded.shape[$0] }
                guard let permuted = ConstantEvaluator.evaluate(
                    .transpose, operands: [padded], attributes: ["perm": .ints(Self.toNHWC)], resultShape: shape)
                else { throw IRError.invalidShape("assign-layouts: cannot permute constant %\(g[value].name)") }
                let node = g.makeConstant(name: g[value].name + ".nhwc", tensor: permuted)
                nodes.append(node)
                result = node.outputs[0]
            } else {
                result = try transpose(value, perm: Self.toNHWC, suffix: ".nhwc")
            }
            channelsLast[value] = result
            isChannelsLast.insert(result)
            return result
        }
        /// The operand as a node that reads NCHW needs it.
        func channelsFirstOperand(_ value: ValueID) throws -> ValueID {
            guard isChannelsLast.contains(value) else { return value }
            if let done = channelsFirst[value] { return done }
            let back = try transpose(value, perm: Self.toNCHW, suffix: ".nchw")
            channelsFirst[value] = back
            return back
        }

        for original in graph.nodes {
            var node = original
            node.inputs = node.inputs.map { replaced[$0] ?? $0 }
            guard let converted = try convert(node, in: g, constants: constants, isChannelsLast: isChannelsLast, operand: channelsLastOperand)
            else {
                node.inputs = try node.inputs.map(channelsFirstOperand)
                nodes.append(node)
                continue
            }
            // The NHWC result takes the old value's name; the old value loses its definition.
            let old = node.outputs[0], name = g[old].name
            let type = try g.inferTypes(op: converted.op, inputs: converted.inputs, attributes: converted.attributes)[0]
            g.rename(old, to: name + ".replaced")
            let result = g.addValue(name: name, type: type)
            nodes.append(Node(op: converted.op, inputs: converted.inputs, outputs: [result], attributes: converted.attributes))
            replaced[old] = result
            isChannelsLast.insert(result)
            statistics.count("converted # nodes to NHWC")
        }
        // Graph outputs keep their declared NCHW form.
        g.outputs = try g.outputs.map { try channelsFirstOperand(replaced[$0] ?? $0) }
        g.nodes = nodes
        return g.compacted()
    }

    /// The channels-last form of `node` (operands made NHWC through `operand`), or nil when it
    /// stays NCHW: dnnl convs and poolings always, layout-free elementwise ops when an operand
    /// already is channels-last and every other is rank 4 or a constant.
    private func convert(
        _ node: Node, in g: Graph, constants: [ValueID: Tensor], isChannelsLast: Set<ValueID>,
        operand: (ValueID) throws -> ValueID
    ) throws -> Node? {
        guard node.outputs.count == 1, g.type(of: node.outputs[0]).rank == 4 else { return nil }
        var converted = node
        switch node.op {
        case .conv, .convTranspose, .maxPool, .averagePool, .globalAveragePool:
            guard node.backend == .dnnl, !ShapeInference.channelsLast(node.attributes) else { return nil }
            converted.inputs[0] = try operand(node.inputs[0])
            if node.attributes.int("residual", default: 0) != 0 { converted.inputs[3] = try operand(node.inputs[3]) }
            converted.attributes["layout"] = .string(Layout.nhwc.rawValue)
            return converted
        case .interpolate:
            // Nearest resizing is per axis: the same op on NHWC with its per-axis lists permuted.
            guard isChannelsLast.contains(node.inputs[0]), (node.attributes.string("mode") ?? "nearest") == "nearest" else { return nil }
            for key in ["scales", "sizes"] {
                switch node.attributes[key] {
                case .floats(let values)? where values.count == 4: converted.attributes[key] = .floats(Self.toNHWC.map { values[$0] })
                case .ints(let values)? where values.count == 4: converted.attributes[key] = .ints(Self.toNHWC.map { values[$0] })
                case nil: break
                default: return nil
                }
            }
            // tf_crop_and_resize's region: the starts of every axis, then the ends.
            if let roi = node.attributes.floats("roi") {
                guard roi.count == 8 else { return nil }
                converted.attributes["roi"] = .floats(Self.toNHWC.map { roi[$0] } + Self.toNHWC.map { roi[4 + $0] })
            }
            return converted
        case .concat:
            guard node.inputs.contains(where: isChannelsLast.contains),
                  node.inputs.allSatisfy({ isChannelsLast.contains($0) || g.type(of: $0).rank == 4 }) else { return nil }
            let axis = node.attributes.int("axis", default: 0)
            guard let moved = Self.toNHWC.firstIndex(of: axis < 0 ? axis + 4 : axis) else { return nil }
            converted.inputs = try node.inputs.map(operand)
            converted.attributes["axis"] = .int(moved)
            return converted
        case _ where Self.layoutFree.contains(node.op):
            guard node.inputs.contains(where: isChannelsLast.contains) else { return nil }
            for input in node.inputs where !isChannelsLast.contains(input) {
                let rank = g.type(of: input).rank
                guard rank == 4 || (constants[input] != nil && rank < 4) else { return nil }
            }
            // A one-element constant (a clip bound, a scalar scale) broadcasts in any layout.
            converted.inputs = try node.inputs.map { constants[$0]?.count == 1 ? $0 : try operand($0) }
            return converted
        default:
            return nil
        }
    }
}
