import CDNNL
import IR
import Kernels

/// Steps of the nodes placed on the `dnnl` backend: 2-D convolutions (bias, residual add,
/// activation and the conv's `epilogue` as oneDNN post-ops), transposed convolutions (oneDNN's
/// deconvolution, or matmuls where the kernel equals the stride: see the shim) and poolings, in the
/// layout the IR gives them (NHWC after `assign-layouts`, else NCHW).
///
/// The primitive, its JIT code and its reordered weights are built here, once per plan; a
/// request only binds pointers (arena slots, and one scratch slot for oneDNN's scratchpad and
/// the bf16 copy of the input) and runs it on the calling thread's OpenMP team, sized to the
/// executable's thread count. The runtime's own pool sleeps meanwhile, so the two never hold
/// more threads than the budget.
enum DNNLKernels {
    static func make(_ n: NodeContext) throws -> StepBody {
        let dnnl: DNNL
        do {
            dnnl = try DNNL.load()
        } catch {
            throw n.unsupported("is placed on dnnl, but oneDNN is not available: \(error.message)")
        }
        dnnl.setThreads(n.threads)
        let primitive: DNNLPrimitive
        var remainder = EpilogueProgram()
        do {
            switch n.op {
            case .conv, .convTranspose:
                (primitive, remainder) = try convolution(n)
            case .maxPool, .averagePool, .globalAveragePool:
                primitive = try pooling(n)
            default:
                throw n.unsupported("has no oneDNN implementation here")
            }
        } catch let error as KernelError {
            throw RuntimeError.kernel(value: n.name, error)
        }
        let scratchSlot = primitive.scratchBytes > 0 ? n.scratch(bytes: primitive.scratchBytes) : nil
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        let residualSlot = n.op == .conv && n.attributes.int("residual", default: 0) != 0 ? n.inputs[3] : nil
        let yCount = n.outCount(0), threads = n.threads
        return { ctx in
            dnnl.setThreads(threads)
            try primitive.run(
                source: ctx.raw(xSlot), destination: ctx.raw(ySlot), residual: residualSlot.map { UnsafePointer(ctx.f32($0)) },
                scratch: scratchSlot.map(ctx.raw))
            if !remainder.isEmpty {
                let y = ctx.f32(ySlot, count: yCount)
                ctx.pool.parallelRanges(count: yCount, minChunk: OpKernels.minElementsPerTask) { range in
                    remainder.apply(UnsafeMutableBufferPointer(rebasing: y[range]))
                }
            }
        }
    }

    /// The convolution primitive, and the part of the fused chain it could not take as
    /// post-ops (run natively on its output; empty when oneDNN takes it all).
    private static func convolution(_ n: NodeContext) throws -> (DNNLPrimitive, EpilogueProgram) {
        let a = n.attributes
        let nhwc = ShapeInference.channelsLast(a)
        let x = n.inShape(0), w = n.inShape(1), y = n.outShape(0)
        let (channelAxis, heightAxis) = nhwc ? (3, 1) : (1, 2)
        guard let weights = n.known[1], weights.dtype == .f32 else { throw n.unsupported("needs constant f32 weights on dnnl") }
        let bias = n.inputs.count >= 3 ? n.known[2] : nil
        if n.inputs.count >= 3, bias == nil { throw n.unsupported("needs a constant bias on dnnl") }
        let strides = a.ints("strides") ?? [1, 1], dilations = a.ints("dilations") ?? [1, 1], pads = a.ints("pads") ?? [0, 0, 0, 0]

        var fused: [vc_dnnl_post_op] = []
        if a.int("residual", default: 0) != 0 { fused.append(vc_dnnl_post_op(kind: VC_DNNL_POST_ADD, alpha: 0, beta: 0)) }
        if let activation = postOp(Activation(attributes: a)) { fused.append(activation) }
        let (translated, remainder) = postOps(of: n.epilogue)
        fused += translated
        let (sourceBF16, resultBF16) = (n.inputTypes[0].dtype == .bf16, n.outputTypes[0].dtype == .bf16)
        if resultBF16, !remainder.isEmpty { throw n.unsupported("stores bf16 but has an elementwise chain oneDNN cannot fuse") }
        let weightData = weights.floats, biasData = bias?.floats
        let primitive = try weightData.withUnsafeBufferPointer { wp in
            try withOptionalPointer(biasData) { bp in
                try fused.withUnsafeBufferPointer { ops in
                    try DNNLPrimitive(convolution: vc_dnnl_conv_params(
                        batch: Int32(x[0]), in_channels: Int32(x[channelAxis]), in_height: Int32(x[heightAxis]),
                        in_width: Int32(x[heightAxis + 1]), out_channels: Int32(y[channelAxis]), out_height: Int32(y[heightAxis]),
                        out_width: Int32(y[heightAxis + 1]), groups: Int32(a.int("group", default: 1)),
                        kernel_height: Int32(w[2]), kernel_width: Int32(w[3]), stride_height: Int32(strides[0]),
                        stride_width: Int32(strides[1]), dilation_height: Int32(dilations[0]), dilation_width: Int32(dilations[1]),
                        pad_top: Int32(pads[0]), pad_left: Int32(pads[1]), pad_bottom: Int32(pads[2]), pad_right: Int32(pads[3]),
                        nhwc: nhwc ? 1 : 0, bf16: a.string("precision") == "bf16" ? 1 : 0, src_bf16: sourceBF16 ? 1 : 0,
                        dst_bf16: resultBF16 ? 1 : 0, transposed: n.op == .convTranspose ? 1 : 0,
                        weights: wp.baseAddress, bias: bp, post_ops: ops.baseAddress, post_op_count: Int32(ops.count)))
                }
            }
        }
        return (primitive, remainder)
    }

    private static func pooling(_ n: NodeContext) throws -> DNNLPrimitive {
        let a = n.attributes
        let nhwc = ShapeInference.channelsLast(a)
        let x = n.inShape(0), y = n.outShape(0)
        let (channelAxis, heightAxis) = nhwc ? (3, 1) : (1, 2)
        let global = n.op == .globalAveragePool
        let kernel = global ? [x[heightAxis], x[heightAxis + 1]] : a.ints("kernel_shape") ?? [1, 1]
        let strides = global ? [1, 1] : a.ints("strides") ?? [1, 1]
        let pads = global ? [0, 0, 0, 0] : a.ints("pads") ?? [0, 0, 0, 0]
        let kind = n.op == .maxPool ? VC_DNNL_POOL_MAX
            : a.int("count_include_pad", default: 0) != 0 ? VC_DNNL_POOL_AVG_INCLUDE_PAD : VC_DNNL_POOL_AVG_EXCLUDE_PAD
        return try DNNLPrimitive(pooling: vc_dnnl_pool_params(
            batch: Int32(x[0]), channels: Int32(x[channelAxis]), in_height: Int32(x[heightAxis]), in_width: Int32(x[heightAxis + 1]),
            out_height: Int32(y[heightAxis]), out_width: Int32(y[heightAxis + 1]), kernel_height: Int32(kernel[0]),
            kernel_width: Int32(kernel[1]), stride_height: Int32(strides[0]), stride_width: Int32(strides[1]),
            pad_top: Int32(pads[0]), pad_left: Int32(pads[1]), pad_bottom: Int32(pads[2]), pad_right: Int32(pads[3]),
            nhwc: nhwc ? 1 : 0, kind: kind))
    }

    private static func postOp(_ activation: Activation) -> vc_dnnl_post_op? {
        switch activation {
        case .none: nil
        case .relu: vc_dnnl_post_op(kind: VC_DNNL_POST_RELU, alpha: 0, beta: 0)
        case .clip(let lo, let hi): vc_dnnl_post_op(kind: VC_DNNL_POST_CLIP, alpha: lo, beta: hi)
        }
    }

    /// The longest prefix of `program` oneDNN can run as post-ops, and the rest (run natively
    /// on the conv's output). Activations translate as they are; the gate `x · clip(x + 3, 0, 6) / 6`
    /// — exported HardSwish, the division before or after the product — is `hardswish`; a run of
    /// scalar affines and divisions is one `linear` (composed: rounding moves by an ulp or so).
    /// At most one `linear` per conv: oneDNN 2.6's brgconv and brdgmm kernels compute a second
    /// `linear` post-op wrongly (two in a row, or around a hardswish; checked against the native
    /// program on PP-OCR), so the prefix ends before it.
    static func postOps(of program: EpilogueProgram) -> (ops: [vc_dnnl_post_op], rest: EpilogueProgram) {
        let hardSwish: [[EpilogueProgram.Step]] = [
            [.save, .affine(scale: 1, offset: 3), .activate(.clip(lo: 0, hi: 6)), .divide(6), .multiplySaved],
            [.save, .affine(scale: 1, offset: 3), .activate(.clip(lo: 0, hi: 6)), .multiplySaved, .divide(6)],
        ]
        var ops: [vc_dnnl_post_op] = []
        var linears = 0
        var steps = program.steps[...]
        translating: while let step = steps.first {
            if let gate = hardSwish.first(where: { steps.starts(with: $0) }) {
                ops.append(vc_dnnl_post_op(kind: VC_DNNL_POST_HARDSWISH, alpha: 0, beta: 0))
                steps = steps.dropFirst(gate.count)
                continue
            }
            switch step {
            case .activate(let activation):
                if let op = postOp(activation) { ops.append(op) }
                steps = steps.dropFirst()
            case .affine, .divide:
                guard linears == 0 else { break translating }
                var (scale, offset): (Float, Float) = (1, 0)
                affines: while let next = steps.first {
                    switch next {
                    case .affine(let s, let o): (scale, offset) = (scale * s, offset * s + o)
                    case .divide(let d): (scale, offset) = (scale / d, offset / d)
                    default: break affines
                    }
                    steps = steps.dropFirst()
                }
                ops.append(vc_dnnl_post_op(kind: VC_DNNL_POST_LINEAR, alpha: scale, beta: offset))
                linears += 1
            case .save, .multiplySaved:
                break translating
            }
        }
        return (ops, EpilogueProgram(Array(steps)))
    }

    private static func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        guard let array else { return try body(nil) }
        return try array.withUnsafeBufferPointer { try body($0.baseAddress) }
    }
}
