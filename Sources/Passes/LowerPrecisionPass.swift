import IR

/// `lower-precision` (fidelity fast): runs the convolutions placed on `dnnl` in bf16 — weights
/// and input rounded to bf16, products accumulated in f32, the result stored in f32 — on
/// targets whose CPU has bf16 instructions (AVX512-BF16 or AMX), where it about halves the
/// time of the heavy layers.
///
/// ```
/// %c : f32[1,112,112,32] NHWC = conv(%x, %w, %b) {backend="dnnl", …}
///   ──►  %c : f32[1,112,112,32] NHWC = conv(%x, %w, %b) {backend="dnnl", precision="bf16", …}
/// ```
///
/// The cost rule: a bf16 conv first converts its f32 input (one pass over it), so only convs
/// doing enough work per input element gain: group 1 and at least `minimumWorkPerInput`
/// multiply-adds per input element (output channels × kernel area / stride area). Depthwise
/// convs and thin pointwise ones stay f32: there the conversion costs what bf16 saves.
///
/// Approximate: bf16 keeps 8 bits of mantissa, so each product carries a relative error up to
/// 2⁻⁸ before the f32 sum; `visionc bench` reports top-1 agreement and the largest output
/// difference against the exact variant, `scripts/fast-agreement` top-1/top-5 over the
/// project's photos. Never on a target without native bf16 (emulation is slower than f32).
public struct LowerPrecisionPass: Pass {
    public let name = "lower-precision"
    public let summary = "run dnnl convolutions in bf16 with f32 accumulation where the CPU has bf16 instructions"
    public let fidelity = Fidelity.fast
    public let target: Target

    public init(target: Target) { self.target = target }

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        guard target.bf16 else { return graph }
        var g = graph
        for index in g.nodes.indices where g.nodes[index].op == .conv && g.nodes[index].backend == .dnnl {
            guard Self.gains(g.nodes[index], in: g) else {
                statistics.count("kept # conv in f32 (too little work per input element)")
                continue
            }
            g.nodes[index].attributes["precision"] = .string("bf16")
            statistics.count("lowered # conv to bf16")
        }
        return g
    }

    /// Multiply-adds per input element below which converting the input costs what bf16 saves.
    static let minimumWorkPerInput = 128

    static func gains(_ conv: Node, in g: Graph) -> Bool {
        let a = conv.attributes
        guard a.int("group", default: 1) == 1, let w = g.type(of: conv.inputs[1]).knownShape, w.count == 4 else { return false }
        let strides = a.ints("strides") ?? [1, 1]
        return w[0] * w[2] * w[3] >= minimumWorkPerInput * max(1, strides.reduce(1, *))
    }
}
