import CKernels
import IR
import Kernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// relu, clip and sigmoid on f32. relu and clip copy then run the activation epilogue kernel
/// in place; clip's bounds come from its optional operands (ONNX ≥ 11) or its `min`/`max`
/// attributes (ONNX 6). clip on i32, i64 or u8 clamps to its attributes' bounds.
enum UnaryKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        switch n.inputTypes[0].dtype {
        case .i32: return integerClip(n, Int32.self)
        case .i64: return integerClip(n, Int64.self)
        case .u8: return integerClip(n, UInt8.self)
        default: break
        }
        let count = n.outCount(0)
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        let boundSlots = Array(n.inputs.dropFirst())
        let minAttribute = n.attributes.float("min", default: -.infinity)
        let maxAttribute = n.attributes.float("max", default: .infinity)
        for i in boundSlots.indices where n.inCount(i + 1) != 1 {
            throw n.unsupported("clip bound operand \(i + 1) has \(n.inCount(i + 1)) elements, expected a scalar")
        }
        let op = n.op
        return { ctx in
            let x = ctx.f32(xSlot), y = ctx.f32(ySlot)
            var activation = Activation.relu
            if op == .clip {
                let lo = boundSlots.count > 0 ? ctx.f32(boundSlots[0]).pointee : minAttribute
                let hi = boundSlots.count > 1 ? ctx.f32(boundSlots[1]).pointee : maxAttribute
                activation = .clip(lo: lo, hi: hi)
            }
            let yAll = UnsafeMutableBufferPointer(start: y, count: count)
            try ctx.pool.parallelRanges(count: count, minChunk: OpKernels.minElementsPerTask) { range in
                if op == .sigmoid {
                    for i in range { y[i] = 1 / (1 + expf(-x[i])) }
                    return
                }
                (y + range.lowerBound).update(from: x + range.lowerBound, count: range.count)
                let part = UnsafeMutableBufferPointer(rebasing: yAll[range])
                try F32Kernels.biasActivation(part, bias: nil, plane: range.count, channels: 0..<1, activation: activation)
            }
        }
    }
}

extension UnaryKernel {
    /// Clamp to `min`/`max`, each rounded inward to the type (absent: the type's own range).
    private static func integerClip<T: FixedWidthInteger>(_ n: NodeContext, _: T.Type) -> StepBody {
        func bound(_ key: String, _ rounding: FloatingPointRoundingRule, _ unbounded: T) -> T {
            guard let v = n.attributes.float(key) else { return unbounded }
            return v <= Float(T.min) ? T.min : v >= Float(T.max) ? T.max : T(v.rounded(rounding))
        }
        let lo = bound("min", .up, T.min), hi = bound("max", .down, T.max)
        let count = n.outCount(0), (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        return { ctx in
            let x = ctx.raw(xSlot).assumingMemoryBound(to: T.self), y = ctx.raw(ySlot).assumingMemoryBound(to: T.self)
            for i in 0..<count { y[i] = Swift.min(Swift.max(x[i], lo), hi) }
        }
    }
}

/// How operands broadcast onto an output, with adjacent axes merged wherever every operand
/// walks them contiguously (or not at all), so the inner loop is as long as possible.
struct BroadcastLayout: Equatable {
    /// Merged output extents; the last is the inner loop. Never empty.
    let dims: [Int]
    /// Per operand, the element stride of each merged axis (0 where it broadcasts).
    let strides: [[Int]]

    init(output: [Int], operands: [[Int]]) {
        let rank = output.count
        var full = operands.map { shape -> [Int] in
            let padded = Array(repeating: 1, count: rank - shape.count) + shape
            var strides = Array(repeating: 0, count: rank)
            var step = 1
            for axis in (0..<rank).reversed() {
                strides[axis] = padded[axis] == 1 ? 0 : step
                step *= padded[axis]
            }
            return strides
        }
        let kept = (0..<rank).filter { output[$0] != 1 }
        var dims = kept.map { output[$0] }
        full = full.map { s in kept.map { s[$0] } }
        if dims.isEmpty {
            dims = [1]
            full = full.map { _ in [0] }
        }
        var mergedDims = [dims[0]]
        var merged = full.map { [$0[0]] }
        for axis in 1..<dims.count {
            let contiguous = full.indices.allSatisfy { merged[$0][merged[$0].count - 1] == full[$0][axis] * dims[axis] }
            if contiguous {
                mergedDims[mergedDims.count - 1] *= dims[axis]
                for op in merged.indices { merged[op][merged[op].count - 1] = full[op][axis] }
            } else {
                mergedDims.append(dims[axis])
                for op in merged.indices { merged[op].append(full[op][axis]) }
            }
        }
        self.dims = mergedDims
        self.strides = merged
    }

    var inner: Int { dims[dims.count - 1] }
    var rows: Int { dims.dropLast().reduce(1, *) }

    /// Element offset of operand `op` at the start of outer row `row`.
    func offset(_ op: Int, row: Int) -> Int {
        var rest = row, offset = 0
        for axis in stride(from: dims.count - 2, through: 0, by: -1) {
            offset += (rest % dims[axis]) * strides[op][axis]
            rest /= dims[axis]
        }
        return offset
    }

    func innerStride(_ op: Int) -> Int { strides[op][dims.count - 1] }
}

/// add, sub, mul, div and n-ary sum, min and max with NumPy broadcasting. Same-shape f32 operands take the
/// SIMD kernel over the whole tensor; otherwise rows of the merged layout run the kernel
/// (both operands contiguous), the SIMD affine kernel (one operand a scalar over the row,
/// as in a per-channel scale), or a strided loop. Integer dtypes run scalar loops with
/// wrapping arithmetic (division by zero gives 0).
enum BinaryKernel {
    enum Operator {
        case add, sub, mul, div, min, max

        /// The operator of a binary elementwise IR op (an n-ary op: the one that chains its
        /// operands); nil for any other op.
        init?(_ op: Op) {
            switch op {
            case .add, .sum: self = .add
            case .sub: self = .sub
            case .mul: self = .mul
            case .div: self = .div
            case .min: self = .min
            case .max: self = .max
            default: return nil
            }
        }
    }

    /// One `y = a op b` pass over the output; `sum` chains passes with `a` = the output so far.
    struct Pass {
        let a: Int, b: Int
        let op: Operator
        let layout: BroadcastLayout
        let activation: Activation
    }

    static func make(_ n: NodeContext) throws -> StepBody {
        let out = n.outShape(0)
        let count = out.product
        let dtype = n.outputTypes[0].dtype
        let activation = Activation(attributes: n.attributes)
        if dtype != .f32, activation != .none { throw n.unsupported("a fused activation needs f32, found \(dtype)") }
        let ySlot = n.outputs[0]
        let op = Operator(n.op) ?? .add
        var passes: [Pass] = []
        if n.inputs.count >= 2 {
            passes.append(Pass(
                a: n.inputs[0], b: n.inputs[1], op: op,
                layout: BroadcastLayout(output: out, operands: [n.inShape(0), n.inShape(1)]),
                activation: n.inputs.count == 2 ? activation : .none))
            for i in 2..<max(2, n.inputs.count) {
                passes.append(Pass(
                    a: ySlot, b: n.inputs[i], op: op, layout: BroadcastLayout(output: out, operands: [out, n.inShape(i)]),
                    activation: i == n.inputs.count - 1 ? activation : .none))
            }
        }
        let single = n.inputs.count == 1 ? n.inputs[0] : nil
        let byteCount = count * dtype.byteSize

        return { ctx in
            if let single {
                ctx.raw(ySlot).copyMemory(from: ctx.raw(single), byteCount: byteCount)
                if activation != .none {
                    try F32Kernels.biasActivation(ctx.f32(ySlot, count: count), bias: nil, plane: count, channels: 0..<1, activation: activation)
                }
                return
            }
            for pass in passes {
                switch dtype {
                case .f32: try runF32(pass, ctx, y: ySlot)
                case .i32: runInteger(pass, ctx, y: ySlot, as: Int32.self)
                case .i64: runInteger(pass, ctx, y: ySlot, as: Int64.self)
                case .u8: runInteger(pass, ctx, y: ySlot, as: UInt8.self)
                default: break  // rejected by OpSupport
                }
            }
        }
    }

    /// Work items: (row, tile of the row), so one long row still spreads over threads.
    private static func tiles(_ layout: BroadcastLayout) -> (perRow: Int, length: Int) {
        let perRow = max(1, layout.inner / OpKernels.minElementsPerTask)
        return (perRow, (layout.inner + perRow - 1) / perRow)
    }

    private static func runF32(_ pass: Pass, _ ctx: RunContext, y ySlot: Int) throws {
        let a = ctx.f32(pass.a), b = ctx.f32(pass.b), y = ctx.f32(ySlot)
        let layout = pass.layout
        let (perRow, tileLength) = tiles(layout)
        let strideA = layout.innerStride(0), strideB = layout.innerStride(1)
        // min and max have no SIMD kernel: the strided loop (which vectorizes at unit stride).
        let kernelOp: vc_binary_op? = switch pass.op {
        case .add: VC_BINARY_ADD
        case .sub: VC_BINARY_SUB
        case .mul: VC_BINARY_MUL
        case .div: VC_BINARY_DIV
        case .min, .max: nil
        }
        let (act, lo, hi): (vc_activation, Float, Float) = switch pass.activation {
        case .none: (VC_ACT_NONE, 0, 0)
        case .relu: (VC_ACT_RELU, 0, 0)
        case .clip(let lo, let hi): (VC_ACT_CLIP, lo, hi)
        }
        let rowsPerTask = max(1, OpKernels.minElementsPerTask / max(1, layout.inner))
        ctx.pool.parallelRanges(count: layout.rows * perRow, minChunk: perRow == 1 ? rowsPerTask : 1) { items in
            for item in items {
                let row = item / perRow
                let start = (item % perRow) * tileLength
                let length = min(tileLength, layout.inner - start)
                guard length > 0 else { continue }
                let pa = a + layout.offset(0, row: row) + start * strideA
                let pb = b + layout.offset(1, row: row) + start * strideB
                let py = y + row * layout.inner + start
                if strideA == 1 && strideB == 1, let kernelOp {
                    vc_f32_binary(kernelOp, pa, pb, py, 0, length, act, lo, hi)
                    continue
                }
                if strideA + strideB == 1, let affine = scalarAffine(pass.op, scalar: strideA == 0 ? pa.pointee : pb.pointee, scalarFirst: strideA == 0) {
                    var (scale, offset) = affine
                    vc_f32_channel_affine_hwc(strideA == 0 ? pb : pa, py, 0, length, 1, &scale, &offset)
                } else {
                    apply(pass.op, pa, strideA, pb, strideB, py, length)
                }
                if act != VC_ACT_NONE { vc_f32_bias_act(py, nil, length, 0, 1, act, lo, hi) }
            }
        }
    }

    /// `x op s` (or `s op x` when `scalarFirst`) as the SIMD affine `x * scale + offset`
    /// (multiply then add, never fused), where that is exact: adding -0 is the identity and
    /// multiplying by ±1 only flips the sign, so every element rounds as `op` would. Division
    /// has no exact affine form (x * (1/s) rounds twice).
    static func scalarAffine(_ op: Operator, scalar s: Float, scalarFirst: Bool) -> (scale: Float, offset: Float)? {
        switch op {
        case .add: (1, s)
        case .sub: scalarFirst ? (-1, s) : (1, -s)
        case .mul: (s, -0.0)
        case .div, .min, .max: nil
        }
    }

    private static func apply(
        _ op: Operator, _ a: UnsafeMutablePointer<Float>, _ sa: Int, _ b: UnsafeMutablePointer<Float>, _ sb: Int,
        _ y: UnsafeMutablePointer<Float>, _ length: Int
    ) {
        if op == .div, sa == 1, sb == 0 {
            // Division by a scalar (HardSwish's / 6): unit stride, so the loop vectorizes.
            let divisor = b.pointee
            for i in 0..<length { y[i] = a[i] / divisor }
            return
        }
        switch op {
        case .add: for i in 0..<length { y[i] = a[i * sa] + b[i * sb] }
        case .sub: for i in 0..<length { y[i] = a[i * sa] - b[i * sb] }
        case .mul: for i in 0..<length { y[i] = a[i * sa] * b[i * sb] }
        case .div: for i in 0..<length { y[i] = a[i * sa] / b[i * sb] }
        // NaN wins, as NumPy's minimum and maximum (ONNX's reference) give it.
        case .min: for i in 0..<length { y[i] = a[i * sa].isNaN || b[i * sb].isNaN ? .nan : Swift.min(a[i * sa], b[i * sb]) }
        case .max: for i in 0..<length { y[i] = a[i * sa].isNaN || b[i * sb].isNaN ? .nan : Swift.max(a[i * sa], b[i * sb]) }
        }
    }

    private static func runInteger<T: FixedWidthInteger>(_ pass: Pass, _ ctx: RunContext, y ySlot: Int, as: T.Type) {
        let a = ctx.raw(pass.a).assumingMemoryBound(to: T.self), b = ctx.raw(pass.b).assumingMemoryBound(to: T.self)
        let y = ctx.raw(ySlot).assumingMemoryBound(to: T.self)
        let layout = pass.layout
        let sa = layout.innerStride(0), sb = layout.innerStride(1)
        for row in 0..<layout.rows {
            let pa = a + layout.offset(0, row: row), pb = b + layout.offset(1, row: row), py = y + row * layout.inner
            for i in 0..<layout.inner {
                let l = pa[i * sa], r = pb[i * sb]
                py[i] = switch pass.op {
                case .add: l &+ r
                case .sub: l &- r
                case .mul: l &* r
                case .div: r == 0 ? 0 : l.dividedReportingOverflow(by: r).partialValue
                case .min: Swift.min(l, r)
                case .max: Swift.max(l, r)
                }
            }
        }
    }
}
