import IR
import Kernels

/// conv_transpose (NCHW, weight [C, M/group, KH, KW]) as GEMM + col2im: per image and group,
/// `col[Mg*KH*KW, H*W] = Wgᵀ · x_g`, then every column entry is added into the output pixel
/// its tap lands on: `y[m, iy*sh - pt + ky*dh, ix*sw - pl + kx*dw]`. The output starts as the
/// bias; col2im runs in parallel over output channels, each of which owns its plane. A fused
/// `activation` runs over the finished output.
enum ConvTransposeKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), w = n.inShape(1), y = n.outShape(0)
        let a = n.attributes
        let group = a.int("group", default: 1)
        let (batch, channels, height, width) = (x[0], x[1], x[2], x[3])
        let (groupOut, kernelH, kernelW) = (w[1], w[2], w[3])
        guard channels % group == 0 else { throw n.unsupported("group \(group) does not divide \(channels) input channels") }
        let groupIn = channels / group
        let outChannels = groupOut * group
        let strides = a.ints("strides") ?? [1, 1], dilations = a.ints("dilations") ?? [1, 1], pads = a.ints("pads") ?? [0, 0, 0, 0]
        let (outH, outW) = (y[2], y[3])
        let inPlane = height * width, outPlane = outH * outW
        let rows = groupOut * kernelH * kernelW
        let colElements = rows * inPlane
        guard colElements <= Int(Int32.max) else { throw RuntimeError.tensorTooLarge(value: n.name, elements: colElements) }
        let colSlot = n.scratch(bytes: colElements * 4)
        let (xSlot, wSlot, ySlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        let bSlot = n.inputs.count == 3 ? n.inputs[2] : nil
        let activation = Activation(attributes: a)
        let perTask = max(1, OpKernels.minElementsPerTask / max(1, inPlane * kernelH * kernelW))
        // Per kernel column, the input columns whose tap lands inside the output row.
        let strideW = strides[1]
        let columns = (0..<kernelW).map { kx -> Range<Int> in
            let offset = kx * dilations[1] - pads[1]
            let first = offset >= 0 ? 0 : (-offset + strideW - 1) / strideW
            let last = outW - 1 - offset < 0 ? 0 : min(width, (outW - 1 - offset) / strideW + 1)
            return first..<max(first, last)
        }

        return { ctx in
            guard let blas = ctx.blas else { throw RuntimeError.blasUnavailable("not loaded") }
            let xAll = ctx.f32(xSlot), weights = ctx.f32(wSlot), yAll = ctx.f32(ySlot), col = ctx.f32(colSlot)
            let bias = bSlot.map { ctx.f32($0) }
            for image in 0..<batch {
                for g in 0..<group {
                    let xGroup = UnsafeBufferPointer(start: xAll + (image * channels + g * groupIn) * inPlane, count: groupIn * inPlane)
                    let wGroup = UnsafeBufferPointer(start: weights + g * groupIn * rows, count: groupIn * rows)
                    try ctx.sgemm(
                        blas, transA: true, transB: false, m: rows, n: inPlane, k: groupIn, alpha: 1,
                        a: wGroup, lda: rows, b: xGroup, ldb: inPlane, beta: 0,
                        c: UnsafeMutableBufferPointer(start: col, count: colElements), ldc: inPlane)
                    ctx.pool.parallelRanges(count: groupOut, minChunk: perTask) { range in
                        for m in range {
                            let channel = g * groupOut + m
                            let plane = yAll + (image * outChannels + channel) * outPlane
                            plane.update(repeating: bias?[channel] ?? 0, count: outPlane)
                            for ky in 0..<kernelH {
                                for kx in 0..<kernelW {
                                    let source = col + ((m * kernelH + ky) * kernelW + kx) * inPlane
                                    for iy in 0..<height {
                                        let oy = iy * strides[0] - pads[0] + ky * dilations[0]
                                        guard oy >= 0, oy < outH else { continue }
                                        let row = plane + oy * outW - pads[1] + kx * dilations[1], sourceRow = source + iy * width
                                        for ix in columns[kx] { row[ix * strideW] += sourceRow[ix] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if activation != .none {
                try F32Kernels.biasActivation(
                    UnsafeMutableBufferPointer(start: yAll, count: batch * outChannels * outPlane), bias: nil, plane: outPlane,
                    channels: 0..<(batch * outChannels), activation: activation)
            }
        }
    }
}
