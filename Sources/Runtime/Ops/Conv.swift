import IR
import Kernels

/// 2-D convolution, NCHW, as GEMM: per image and group, `y[Mg, OH*OW] = W[Mg, K] · col[K, OH*OW]`
/// with `K = Cg*KH*KW`. The weight's row-major layout [M, Cg, KH, KW] already is the GEMM's A
/// matrix, so it is used as pre-packed. `col` comes from im2col, except for 1x1 stride-1 unpadded
/// convolutions, whose input plane already is that matrix. The GEMM runs in tiles on the pool
/// (`RunContext.sgemm`), or, for pointwise convs over a batch, each image's GEMM is one task;
/// bias and activation run on each tile right after it, while it is still in cache.
enum ConvKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), w = n.inShape(1), y = n.outShape(0)
        let a = n.attributes
        let (batch, channels, height, width) = (x[0], x[1], x[2], x[3])
        let (outChannels, groupChannels, kernelH, kernelW) = (w[0], w[1], w[2], w[3])
        let group = a.int("group", default: 1)
        guard group >= 1, outChannels % group == 0, channels == groupChannels * group else {
            throw n.unsupported("group \(group) does not divide \(outChannels) output and \(channels) input channels")
        }
        let strides = a.ints("strides") ?? [1, 1], dilations = a.ints("dilations") ?? [1, 1], pads = a.ints("pads") ?? [0, 0, 0, 0]
        let geometry = WindowGeometry(
            height: height, width: width, kernelHeight: kernelH, kernelWidth: kernelW,
            strideHeight: strides[0], strideWidth: strides[1], padTop: pads[0], padLeft: pads[1],
            dilationHeight: dilations[0], dilationWidth: dilations[1], outputHeight: y[2], outputWidth: y[3])
        let groupOut = outChannels / group
        let depth = groupChannels * kernelH * kernelW
        let plane = y[2] * y[3]
        let inPlane = height * width
        let pointwise = kernelH == 1 && kernelW == 1 && strides == [1, 1] && pads.allSatisfy { $0 == 0 }
        let colElements = depth * plane
        guard colElements <= Int(Int32.max) else { throw RuntimeError.tensorTooLarge(value: n.name, elements: colElements) }
        let colSlot = pointwise ? nil : n.scratch(bytes: colElements * 4)
        let activation = Activation(attributes: a)
        let hasBias = n.inputs.count == 3
        let needsEpilogue = hasBias || activation != .none
        let (xSlot, wSlot, ySlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        let bSlot = hasBias ? n.inputs[2] : nil
        let xCount = n.inCount(0), yCount = n.outCount(0)

        return { ctx in
            guard let blas = ctx.blas else { throw RuntimeError.blasUnavailable("not loaded") }
            let xAll = ctx.f32(xSlot), weights = UnsafeBufferPointer(ctx.f32(wSlot, count: outChannels * depth))
            let yAll = ctx.f32(ySlot, count: yCount)
            let bias = bSlot.map { UnsafeBufferPointer(ctx.f32($0, count: outChannels)) }
            let col = colSlot.map { ctx.f32($0, count: colElements) }
            func input(_ image: Int, _ g: Int) -> UnsafeBufferPointer<Float> {
                let xOffset = image * channels * inPlane + g * groupChannels * inPlane
                return UnsafeBufferPointer(start: xAll + xOffset, count: min(groupChannels * inPlane, xCount - xOffset))
            }
            /// One (image, group) GEMM and its epilogue; `tiled` splits it over the pool.
            func product(_ image: Int, _ g: Int, _ matrix: UnsafeBufferPointer<Float>, tiled: Bool) throws {
                let yStart = (image * outChannels + g * groupOut) * plane
                let yGroup = UnsafeMutableBufferPointer(rebasing: yAll[yStart..<(yStart + groupOut * plane)])
                let wGroup = UnsafeBufferPointer(rebasing: weights[(g * groupOut * depth)..<((g + 1) * groupOut * depth)])
                let groupBias = bias.map { UnsafeBufferPointer(rebasing: $0[(g * groupOut)..<((g + 1) * groupOut)]) }
                let epilogue: ((Range<Int>, Range<Int>) throws -> Void)? = needsEpilogue ? { rows, columns in
                    try biasActivation(yGroup, bias: groupBias, plane: plane, rows: rows, columns: columns, activation)
                } : nil
                if tiled {
                    try ctx.sgemm(
                        blas, transA: false, transB: false, m: groupOut, n: plane, k: depth, alpha: 1,
                        a: wGroup, lda: depth, b: matrix, ldb: plane, beta: 0, c: yGroup, ldc: plane, epilogue: epilogue)
                } else {
                    try blas.sgemm(
                        transA: false, transB: false, m: groupOut, n: plane, k: depth, alpha: 1,
                        a: wGroup, lda: depth, b: matrix, ldb: plane, beta: 0, c: yGroup, ldc: plane)
                    try epilogue?(0..<groupOut, 0..<plane)
                }
            }
            if col == nil, batch * group > 1, batch * group >= ctx.pool.threadCount {
                // Pointwise with a batch (or groups): every GEMM reads its input in place, so whole
                // GEMMs are the pool's tasks, one hand-off per conv instead of one per image.
                try ctx.pool.parallelRanges(count: batch * group) { items in
                    for item in items { try product(item / group, item % group, input(item / group, item % group), tiled: false) }
                }
                return
            }
            for image in 0..<batch {
                for g in 0..<group {
                    var matrix = input(image, g)
                    if let col {
                        let xGroup = matrix
                        try ctx.pool.parallelRanges(count: depth, minChunk: max(1, OpKernels.minElementsPerTask / max(plane, 1))) { rows in
                            try F32Kernels.im2col(xGroup, channels: groupChannels, geometry: geometry, col: col, rows: rows)
                        }
                        matrix = UnsafeBufferPointer(col)
                    }
                    try product(image, g, matrix, tiled: true)
                }
            }
        }
    }

    /// Bias and activation on the tile `rows` x `columns` of one group's output [rows, plane].
    private static func biasActivation(
        _ y: UnsafeMutableBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?, plane: Int,
        rows: Range<Int>, columns: Range<Int>, _ activation: Activation
    ) throws {
        if columns.count == plane {
            try F32Kernels.biasActivation(y, bias: bias, plane: plane, channels: rows, activation: activation)
            return
        }
        for row in rows {
            let start = row * plane + columns.lowerBound
            try F32Kernels.biasActivation(
                UnsafeMutableBufferPointer(rebasing: y[start..<(start + columns.count)]),
                bias: bias.map { UnsafeBufferPointer(rebasing: $0[row..<(row + 1)]) }, plane: columns.count,
                channels: 0..<1, activation: activation)
        }
    }
}
