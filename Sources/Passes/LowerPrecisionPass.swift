import IR

/// `lower-precision` (fidelity fast): runs the convolutions placed on `dnnl` in bf16 — weights
/// and input rounded to bf16, products accumulated in f32, the result stored in f32 — on
/// targets whose CPU has bf16 instructions (AVX512-BF16 or AMX), where it about halves the
/// time of the heavy layers.
///
/// ```
/// %c : f32[1,64,56,56] NCHW = conv(%x, %w, %b) {backend="dnnl", …}        %c : bf16[1,64,56,56] NCHW = conv(%x, %w, %b) {backend="dnnl", precision="bf16", result_dtype="bf16", …}
/// %d : f32[1,64,56,56] NCHW = conv(%c, %w2, %b2) {backend="dnnl", …}  ──►  %d : f32[1,64,56,56] NCHW = conv(%c, %w2, %b2) {backend="dnnl", precision="bf16", …}
/// ```
///
/// A bf16 conv whose result is read only as the input of other bf16 convs stores it in bf16
/// (`result_dtype`, and the value's type says `bf16`): the reader then converts nothing, and
/// the tensor moves through memory at half the size. That rounding is the one the reader would
/// do itself, so it adds no error.
///
/// The cost rule: a bf16 conv first converts its f32 input (one pass over it), so only convs
/// doing enough work per input element gain: group 1 and at least `minimumWorkPerInput`
/// multiply-adds per input element (output channels × kernel area / stride area). Depthwise
/// convs and thin pointwise ones stay f32 — unless their input comes from a bf16 conv that
/// only convs read: then lowering them lets that input stay bf16, and nothing is converted.
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
        let dnnlConvs = g.nodes.indices.filter { g.nodes[$0].op == .conv && g.nodes[$0].backend == .dnnl }
        let isDNNLConv = Set(dnnlConvs)
        var lowered = Set(dnnlConvs.filter { Self.gains(g.nodes[$0], in: g) })
        let users = g.users(), producers = g.producers(), outputs = Set(g.outputs)
        /// The readers of `value` when every one is a node `qualifies` accepts, reading it only
        /// as its input (operand 0) and the graph does not return it; else nil.
        func inputOnlyReaders(of value: ValueID, _ qualifies: (Int) -> Bool) -> [Int]? {
            guard !outputs.contains(value), let readers = users[value], !readers.isEmpty,
                  readers.allSatisfy({ qualifies($0) && g.nodes[$0].inputs.firstIndex(of: value) == 0
                      && g.nodes[$0].inputs.dropFirst().allSatisfy { $0 != value } }) else { return nil }
            return readers
        }
        // Convs that read a lowered conv's result, when that result feeds only convs' inputs: with
        // them lowered too, it is stored in bf16 and nobody converts anything (a depthwise conv
        // between two wide pointwise ones), so there the cost rule does not apply.
        var grew = true
        while grew {
            grew = false
            for index in dnnlConvs where !lowered.contains(index) {
                guard let producer = producers[g.nodes[index].inputs[0]], lowered.contains(producer),
                      let readers = inputOnlyReaders(of: g.nodes[index].inputs[0], isDNNLConv.contains) else { continue }
                lowered.formUnion(readers)
                grew = true
            }
        }
        for index in dnnlConvs {
            guard lowered.contains(index) else {
                statistics.count("kept # conv in f32 (too little work per input element)")
                continue
            }
            g.nodes[index].attributes["precision"] = .string("bf16")
            statistics.count("lowered # conv to bf16")
        }
        // A bf16 conv whose result only bf16 convs read (as their input) stores it in bf16:
        // half the bytes written and read, and no conversion in the reader.
        let isBF16 = { (node: Node) in node.op == .conv && node.attributes.string("precision") == "bf16" }
        for index in g.nodes.indices where isBF16(g.nodes[index]) && g.nodes[index].outputs.count == 1 {
            let result = g.nodes[index].outputs[0]
            guard inputOnlyReaders(of: result, { isBF16(g.nodes[$0]) }) != nil else { continue }
            g.nodes[index].attributes["result_dtype"] = .string(DType.bf16.rawValue)
            var type = g.type(of: result)
            type.dtype = .bf16
            g.setType(type, of: result)
            statistics.count("stored # conv results in bf16")
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
