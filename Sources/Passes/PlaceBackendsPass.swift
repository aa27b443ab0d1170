import IR

/// `place-backends`: gives each convolution (plain or transposed) and pooling the backend that runs it fastest
/// among those the target has, as the node's `backend` attribute (absent means `native`).
///
/// ```
/// %c : f32[1,64,112,112] NCHW = conv(%x, %w, %b) {pads=[3,3,3,3], strides=[2,2]}
///   ──►  %c : f32[1,64,112,112] NCHW = conv(%x, %w, %b) {backend="dnnl", pads=[3,3,3,3], strides=[2,2]}
/// ```
///
/// The cost rule: oneDNN's convolution kernels (JIT, blocked and channels-last, fused
/// post-ops) beat the native im2col + GEMM on every 2-D convolution the models here have,
/// so every legal conv goes to `dnnl` when the target has it, and so does every transposed conv
/// (oneDNN's deconvolution against the native scatter loop). A pooling goes along only when
/// its operand comes from a node already on `dnnl` (possibly through elementwise ops, which
/// follow its layout): alone it would cost two layout changes
/// for a memory-bound op. Legal: f32, constant weights (reordered once per plan), a 2-D
/// window; poolings without ceil mode (oneDNN's padding would count the ceil windows as
/// padding), dilation or storage order. Exact: placement changes no arithmetic (both
/// backends compute each output as the same dot product, summed in another order).
public struct PlaceBackendsPass: Pass {
    public let name = "place-backends"
    public let summary = "place convolutions and poolings on the fastest backend the target has (dnnl where present)"
    public let fidelity = Fidelity.exact
    public let target: Target

    public init(target: Target) { self.target = target }

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        guard target.backends.contains(.dnnl) else { return graph }
        var g = graph
        let constants = graph.constantValues()
        // Values a dnnl node produced, directly or through elementwise ops (which follow a
        // channels-last layout, see assign-layouts): a pooling reading one stays in that layout.
        var fromDNNL: Set<ValueID> = []
        for index in g.nodes.indices {
            let node = g.nodes[index]
            if node.attributes["backend"] == nil,
               Self.dnnlRuns(node, in: g, constants: constants, operandOnDNNL: node.inputs.first.map(fromDNNL.contains) ?? false) {
                g.nodes[index].attributes["backend"] = .string(Backend.dnnl.rawValue)
                statistics.count("placed # \(node.op.rawValue) on dnnl")
            }
            if g.nodes[index].backend == .dnnl
                || (AssignLayoutsPass.layoutFree.contains(node.op) && node.inputs.contains(where: fromDNNL.contains)) {
                fromDNNL.formUnion(node.outputs)
            }
        }
        return g
    }

    /// Legality (and, for poolings, the neighbour rule) of placing `node` on oneDNN.
    static func dnnlRuns(_ node: Node, in g: Graph, constants: [ValueID: Tensor], operandOnDNNL: Bool) -> Bool {
        guard let x = node.inputs.first.map(g.type(of:)), x.dtype == .f32, x.rank == 4,
              node.outputs.count == 1 else { return false }
        let a = node.attributes
        switch node.op {
        case .conv:
            guard node.inputs.count <= 3, let w = constants[node.inputs[1]], w.dtype == .f32, w.shape.count == 4 else { return false }
            if node.inputs.count == 3 { guard let b = constants[node.inputs[2]], b.dtype == .f32 else { return false } }
            return (a.ints("strides") ?? [1, 1]).count == 2 && (a.ints("pads") ?? [0, 0, 0, 0]).count == 4
        case .convTranspose:
            // oneDNN's deconvolution takes no output padding (its right padding would be negative).
            guard let w = constants[node.inputs[1]], w.dtype == .f32, w.shape.count == 4 else { return false }
            if node.inputs.count == 3 { guard let b = constants[node.inputs[2]], b.dtype == .f32 else { return false } }
            return (a.ints("output_padding") ?? [0, 0]).allSatisfy { $0 == 0 } && (a.ints("pads") ?? [0, 0, 0, 0]).count == 4
        case .maxPool, .averagePool:
            return operandOnDNNL && a.int("ceil_mode", default: 0) == 0 && a.int("storage_order", default: 0) == 0
                && (a.ints("dilations") ?? [1, 1]).allSatisfy { $0 == 1 } && a.ints("kernel_shape")?.count == 2
        case .globalAveragePool:
            return operandOnDNNL
        default:
            return false
        }
    }
}
