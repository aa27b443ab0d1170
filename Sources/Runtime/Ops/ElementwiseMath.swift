import Foundation
import IR

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// hard_sigmoid, hard_swish, sqrt and round (ties to even) on f32, split into chunks over the thread pool. The
/// loops are branch-free min/max arithmetic, which the compiler vectorizes.
enum MathUnaryKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let count = n.outCount(0)
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        let alpha = n.attributes.float("alpha", default: 0.2), beta = n.attributes.float("beta", default: 0.5)
        let op = n.op
        return { ctx in
            let x = ctx.f32(xSlot), y = ctx.f32(ySlot)
            ctx.pool.parallelRanges(count: count, minChunk: OpKernels.minElementsPerTask) { range in
                switch op {
                case .hardSigmoid:
                    for i in range { y[i] = min(max(alpha * x[i] + beta, 0), 1) }
                case .hardSwish:
                    // ONNX HardSwish: x · HardSigmoid(x) with alpha = 1/6, beta = 0.5.
                    for i in range {
                        let v = x[i]
                        y[i] = v * min(max(v * (1 / 6 as Float) + 0.5, 0), 1)
                    }
                case .round:
                    for i in range { y[i] = x[i].rounded(.toNearestOrEven) }
                default:
                    for i in range { y[i] = x[i].squareRoot() }
                }
            }
        }
    }
}

/// prelu and pow with NumPy broadcasting over the merged layout of `BroadcastLayout`.
/// pow's exponent may be f32, i32 or i64 (ONNX allows mixed types); integer exponents are
/// converted to f32 once per run. A constant exponent of exactly 2 squares (exact). An
/// integer base (i32, i64) gives its own type: a whole non-negative exponent by repeated
/// squaring (wrapping, as NumPy's integer power), any other in Double, truncated toward zero
/// (NumPy's pow then astype, ONNX's reference).
enum MathBinaryKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let out = n.outShape(0)
        let layout = BroadcastLayout(output: out, operands: [n.inShape(0), n.inShape(1)])
        switch n.inputTypes[0].dtype {
        case .i32: return integerPow(n, layout, base: Int32.self)
        case .i64: return integerPow(n, layout, base: Int64.self)
        default: break
        }
        let (aSlot, bSlot, ySlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        let exponentType = n.inputTypes[1].dtype
        let exponentCount = n.inCount(1)
        let converted = exponentType == .f32 ? nil : n.scratch(bytes: exponentCount * 4)
        let squares = n.op == .pow && n.known[1].map { $0.count == 1 && $0.floats[0] == 2 } == true
        let isPrelu = n.op == .prelu
        let strideA = layout.innerStride(0), strideB = layout.innerStride(1)
        let perTask = max(1, OpKernels.minElementsPerTask / max(1, layout.inner))
        return { ctx in
            let a = ctx.f32(aSlot), y = ctx.f32(ySlot)
            var b = ctx.f32(bSlot)
            if let converted {
                let f = ctx.f32(converted)
                switch exponentType {
                case .i32:
                    let s = ctx.raw(bSlot).assumingMemoryBound(to: Int32.self)
                    for i in 0..<exponentCount { f[i] = Float(s[i]) }
                case .i64:
                    let s = ctx.raw(bSlot).assumingMemoryBound(to: Int64.self)
                    for i in 0..<exponentCount { f[i] = Float(s[i]) }
                default:
                    let s = ctx.u8(bSlot)
                    for i in 0..<exponentCount { f[i] = Float(s[i]) }
                }
                b = f
            }
            let exponents = b
            ctx.pool.parallelRanges(count: layout.rows, minChunk: perTask) { rows in
                for row in rows {
                    let pa = a + layout.offset(0, row: row), pb = exponents + layout.offset(1, row: row)
                    let py = y + row * layout.inner
                    if isPrelu {
                        for i in 0..<layout.inner {
                            let v = pa[i * strideA]
                            py[i] = v < 0 ? v * pb[i * strideB] : v
                        }
                    } else if squares {
                        for i in 0..<layout.inner { py[i] = pa[i * strideA] * pa[i * strideA] }
                    } else {
                        for i in 0..<layout.inner { py[i] = powf(pa[i * strideA], pb[i * strideB]) }
                    }
                }
            }
        }
    }
}

extension MathBinaryKernel {
    private static func integerPow<T: FixedWidthInteger & SignedInteger>(_ n: NodeContext, _ layout: BroadcastLayout, base: T.Type) -> StepBody {
        let (aSlot, bSlot, ySlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        let exponentType = n.inputTypes[1].dtype
        let strideA = layout.innerStride(0), strideB = layout.innerStride(1)
        return { ctx in
            let a = ctx.raw(aSlot).assumingMemoryBound(to: T.self), y = ctx.raw(ySlot).assumingMemoryBound(to: T.self)
            let raw = ctx.raw(bSlot)
            func exponent(_ i: Int) -> Double {
                switch exponentType {
                case .i32: Double(raw.assumingMemoryBound(to: Int32.self)[i])
                case .i64: Double(raw.assumingMemoryBound(to: Int64.self)[i])
                case .u8: Double(raw.assumingMemoryBound(to: UInt8.self)[i])
                default: Double(raw.assumingMemoryBound(to: Float.self)[i])
                }
            }
            for row in 0..<layout.rows {
                let offsetA = layout.offset(0, row: row), offsetB = layout.offset(1, row: row)
                for i in 0..<layout.inner {
                    let x = a[offsetA + i * strideA], e = exponent(offsetB + i * strideB)
                    y[row * layout.inner + i] = power(x, e)
                }
            }
        }
    }

    private static func power<T: FixedWidthInteger & SignedInteger>(_ x: T, _ e: Double) -> T {
        guard e >= 0, e == e.rounded(), e < 64 else {
            let value = Foundation.pow(Double(x), e)
            return value.isFinite && abs(value) < Double(T.max) ? T(value.rounded(.towardZero)) : 0
        }
        var result: T = 1, square = x, remaining = Int(e)
        while remaining > 0 {
            if remaining & 1 == 1 { result = result &* square }
            square = square &* square
            remaining >>= 1
        }
        return result
    }
}

/// reduce_mean on f32: the input is read as [outer, reduced, inner] after merging adjacent
/// axes; a last-axis mean (LayerNorm in SVTR) sums contiguous rows, otherwise the reduced
/// axes are walked with strides. Sums accumulate in Double so long rows do not drift.
enum ReduceMeanKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0)
        let axes = try ShapeInference.reducedAxes(n.attributes, rank: x.count, op: n.op)
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        // Kept axes in order (the output's order) and reduced axes, each with its input stride.
        var strides = Array(repeating: 1, count: x.count)
        for axis in stride(from: x.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * x[axis + 1] }
        let kept = x.indices.filter { !axes.contains($0) }
        let reduced = x.indices.filter { axes.contains($0) }
        let keptDims = kept.map { x[$0] }, keptStrides = kept.map { strides[$0] }
        let reducedDims = reduced.map { x[$0] }, reducedStrides = reduced.map { strides[$0] }
        let outCount = keptDims.reduce(1, *), length = reducedDims.reduce(1, *)
        let contiguous = reduced == Array((x.count - reduced.count)..<x.count)
        let reducedOffsets = contiguous ? [] : stridedOffsets(reducedDims, reducedStrides)
        let perTask = max(1, OpKernels.minElementsPerTask / max(1, length))
        return { ctx in
            let input = ctx.f32(xSlot), output = ctx.f32(ySlot)
            guard length > 0 else {
                for i in 0..<outCount { output[i] = .nan }
                return
            }
            ctx.pool.parallelRanges(count: outCount, minChunk: perTask) { range in
                for o in range {
                    var total: Double = 0
                    if contiguous {
                        let row = input + o * length
                        for i in 0..<length { total += Double(row[i]) }
                    } else {
                        var rest = o, base = 0
                        for axis in stride(from: keptDims.count - 1, through: 0, by: -1) {
                            base += (rest % keptDims[axis]) * keptStrides[axis]
                            rest /= keptDims[axis]
                        }
                        for offset in reducedOffsets { total += Double(input[base + offset]) }
                    }
                    output[o] = Float(total / Double(length))
                }
            }
        }
    }

    /// Offsets of every index of `dims` (row-major) under `strides`.
    static func stridedOffsets(_ dims: [Int], _ strides: [Int]) -> [Int] {
        var offsets = [0]
        for (d, s) in zip(dims, strides) {
            offsets = offsets.flatMap { base in (0..<d).map { base + $0 * s } }
        }
        return offsets
    }
}
