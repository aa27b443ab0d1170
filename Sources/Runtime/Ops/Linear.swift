import CKernels
import IR
import Kernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ONNX Gemm: `Y = alpha * op(A) * op(B) + beta * C`, C broadcast to [M, N], then the fused
/// activation. C is written into Y first so one sgemm (beta = 1) accumulates onto it.
enum GemmKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let a = n.attributes
        let transA = a.int("transA", default: 0) != 0, transB = a.int("transB", default: 0) != 0
        let alpha = a.float("alpha", default: 1), beta = a.float("beta", default: 1)
        let aShape = n.inShape(0), bShape = n.inShape(1), y = n.outShape(0)
        let (m, cols) = (y[0], y[1])
        let depth = transA ? aShape[0] : aShape[1]
        let activation = Activation(attributes: a)
        var bias: (slot: Int, rowStride: Int, colStride: Int)?
        if n.inputs.count == 3, beta != 0 {
            let c = n.inShape(2)
            guard c.count <= 2 else { throw n.unsupported("bias C of rank \(c.count) does not broadcast to [\(m), \(cols)]") }
            let padded = Array(repeating: 1, count: 2 - c.count) + c
            guard padded[0] == 1 || padded[0] == m, padded[1] == 1 || padded[1] == cols else {
                throw n.unsupported("bias C of shape \(c) does not broadcast to [\(m), \(cols)]")
            }
            bias = (n.inputs[2], padded[0] == 1 ? 0 : padded[1], padded[1] == 1 ? 0 : 1)
        }
        let (aSlot, bSlot, ySlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        let aCount = aShape.product, bCount = bShape.product

        return { ctx in
            guard let blas = ctx.blas else { throw RuntimeError.blasUnavailable("not loaded") }
            let out = ctx.f32(ySlot, count: m * cols)
            if let bias {
                let c = ctx.f32(bias.slot)
                for row in 0..<m {
                    for col in 0..<cols { out[row * cols + col] = beta * c[row * bias.rowStride + col * bias.colStride] }
                }
            }
            try ctx.sgemm(
                blas, transA: transA, transB: transB, m: m, n: cols, k: depth, alpha: alpha,
                a: UnsafeBufferPointer(ctx.f32(aSlot, count: aCount)), lda: transA ? m : depth,
                b: UnsafeBufferPointer(ctx.f32(bSlot, count: bCount)), ldb: transB ? depth : cols,
                beta: bias == nil ? 0 : 1, c: out, ldc: cols)
            if activation != .none {
                try F32Kernels.biasActivation(out, bias: nil, plane: cols, channels: 0..<m, activation: activation)
            }
        }
    }
}

/// Batched matrix product with NumPy broadcasting of the batch dims. When B has no batch
/// (the usual weight operand), A's batch folds into the rows of a single sgemm.
enum MatMulKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let aShape = n.inShape(0), bShape = n.inShape(1), y = n.outShape(0)
        let rows = aShape[aShape.count - 2], depth = aShape[aShape.count - 1], cols = bShape[bShape.count - 1]
        let outBatch = Array(y.dropLast(2))
        let batchCount = outBatch.product
        let aBatch = Array(repeating: 1, count: outBatch.count - (aShape.count - 2)) + aShape.dropLast(2)
        let bBatch = Array(repeating: 1, count: outBatch.count - (bShape.count - 2)) + bShape.dropLast(2)
        let aStrides = batchStrides(aBatch, matrix: rows * depth), bStrides = batchStrides(bBatch, matrix: depth * cols)
        let foldsIntoRows = bBatch.allSatisfy { $0 == 1 } && aBatch == outBatch
        let (aSlot, bSlot, ySlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        let aCount = aShape.product, bCount = bShape.product, yCount = y.product

        return { ctx in
            guard let blas = ctx.blas else { throw RuntimeError.blasUnavailable("not loaded") }
            let aAll = UnsafeBufferPointer(ctx.f32(aSlot, count: aCount)), bAll = UnsafeBufferPointer(ctx.f32(bSlot, count: bCount))
            let yAll = ctx.f32(ySlot, count: yCount)
            if foldsIntoRows {
                try ctx.sgemm(
                    blas, transA: false, transB: false, m: batchCount * rows, n: cols, k: depth, alpha: 1,
                    a: aAll, lda: depth, b: bAll, ldb: cols, beta: 0, c: yAll, ldc: cols)
                return
            }
            for index in 0..<batchCount {
                var rest = index, aOffset = 0, bOffset = 0
                for axis in stride(from: outBatch.count - 1, through: 0, by: -1) {
                    let coordinate = rest % outBatch[axis]
                    rest /= outBatch[axis]
                    aOffset += coordinate * aStrides[axis]
                    bOffset += coordinate * bStrides[axis]
                }
                try ctx.sgemm(
                    blas, transA: false, transB: false, m: rows, n: cols, k: depth, alpha: 1,
                    a: UnsafeBufferPointer(rebasing: aAll[aOffset..<(aOffset + rows * depth)]), lda: depth,
                    b: UnsafeBufferPointer(rebasing: bAll[bOffset..<(bOffset + depth * cols)]), ldb: cols, beta: 0,
                    c: UnsafeMutableBufferPointer(rebasing: yAll[(index * rows * cols)..<((index + 1) * rows * cols)]), ldc: cols)
            }
        }
    }

    /// Element stride of each batch axis; 0 where the operand broadcasts (extent 1).
    private static func batchStrides(_ batch: [Int], matrix: Int) -> [Int] {
        var strides = Array(repeating: 0, count: batch.count)
        var step = matrix
        for axis in batch.indices.reversed() {
            strides[axis] = batch[axis] == 1 ? 0 : step
            step *= batch[axis]
        }
        return strides
    }
}

/// Inference batch normalization, unfused (for -O0): `y = (x - mean) / sqrt(var + eps) * scale + B`,
/// run as a per-channel affine `y = x * a + b` over each [N, C, spatial…] plane.
/// ONNX LRN on `[N, C, …]`: each element divided by (bias + alpha/size · the sum of squares
/// over channels c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉ at its position)^beta. Parallel over
/// N × spatial positions; the channel window slides (one add and one subtract per channel),
/// accumulated in Double so the running sum does not drift.
enum LocalResponseNormKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0)
        guard x.count >= 3 else { throw n.unsupported("expected [N, C, …] input, found rank \(x.count)") }
        let size = n.attributes.int("size", default: 1)
        let alpha = Double(n.attributes.float("alpha", default: 1e-4)), beta = Double(n.attributes.float("beta", default: 0.75))
        let bias = Double(n.attributes.float("bias", default: 1))
        let channels = x[1], plane = x.dropFirst(2).reduce(1, *), batches = x[0]
        let before = (size - 1) / 2, after = size - 1 - before
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        return { ctx in
            let input = ctx.f32(xSlot), output = ctx.f32(ySlot)
            ctx.pool.parallelRanges(count: batches * plane, minChunk: max(1, OpKernels.minElementsPerTask / max(1, channels))) { range in
                for position in range {
                    let base = (position / plane) * channels * plane + position % plane
                    func square(_ c: Int) -> Double {
                        let v = Double(input[base + c * plane])
                        return v * v
                    }
                    // The window of channel 0: channels 0 … after.
                    var sum = 0.0
                    for c in 0...min(after, channels - 1) { sum += square(c) }
                    for c in 0..<channels {
                        let v = input[base + c * plane]
                        output[base + c * plane] = Float(Double(v) / pow(bias + alpha / Double(size) * sum, beta))
                        if c + after + 1 < channels { sum += square(c + after + 1) }
                        if c - before >= 0 { sum -= square(c - before) }
                    }
                }
            }
        }
    }
}

enum BatchNormKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0)
        guard x.count >= 2 else { throw n.unsupported("expected [N, C, …] input, found rank \(x.count)") }
        let channels = x[1]
        for i in 1...4 where n.inCount(i) != channels {
            throw n.unsupported("operand \(i) has \(n.inCount(i)) values for \(channels) channels")
        }
        let epsilon = n.attributes.float("epsilon", default: 1e-5)
        let planes = x[0] * channels, plane = x.dropFirst(2).reduce(1, *)
        let coefficients = n.scratch(bytes: 2 * channels * 4)
        let slots = n.inputs, ySlot = n.outputs[0]

        return { ctx in
            let scale = ctx.f32(slots[1]), shift = ctx.f32(slots[2]), mean = ctx.f32(slots[3]), variance = ctx.f32(slots[4])
            let multiplier = ctx.f32(coefficients), offset = multiplier + channels
            for c in 0..<channels {
                multiplier[c] = scale[c] / (variance[c] + epsilon).squareRoot()
                offset[c] = shift[c] - mean[c] * multiplier[c]
            }
            let xAll = ctx.f32(slots[0]), yAll = ctx.f32(ySlot)
            ctx.pool.parallelRanges(count: planes, minChunk: max(1, OpKernels.minElementsPerTask / max(plane, 1))) { range in
                for p in range {
                    let c = p % channels
                    vc_f32_channel_affine_hwc(xAll + p * plane, yAll + p * plane, 0, plane, 1, multiplier + c, offset + c)
                }
            }
        }
    }
}
