import CKernels
import IR
import Kernels
import Synchronization

/// 2-D convolution, NCHW, as GEMM: per image and group, `y[Mg, OH*OW] = W[Mg, K] · col[K, OH*OW]`
/// with `K = Cg*KH*KW`. The weight's row-major layout [M, Cg, KH, KW] already is the GEMM's A
/// matrix, so it is used as pre-packed. `col` comes from im2col, except for 1x1 stride-1 unpadded
/// convolutions, whose input plane already is that matrix. The GEMM runs in tiles on the pool
/// (`RunContext.sgemm`), or, for pointwise convs over a batch, each image's GEMM is one task;
/// bias and activation run on each tile right after it, while it is still in cache.
///
/// A `col` larger than the cache (`ConvBands`) is never built whole: the output is cut into
/// bands of output rows, and each running chunk of bands lowers one band at a time into its
/// own cache-sized slice of `col` (a lane) and multiplies it right away. A whole `col` would be
/// written to and read back from memory (117 MB for the PP-OCR detector's 3x3 head convs at
/// 736², which made those two convs a third of the model's time). Each output is the same
/// k-long dot product either way.
///
/// On AVX-512, pointwise convs (group 1) skip OpenBLAS for `F32Kernels.conv1x1`: weights packed
/// once per plan, the input read in place (OpenBLAS packs it on every call and zeroes the
/// output before accumulating), bias, activation and the fused program applied before the one
/// store of each output. These layers are most of PP-OCR's and MobileNet-style models'
/// multiply-adds. Stride-1, dilation-1 convs (the detector's 3x3 head) likewise run
/// `F32Kernels.conv2d`, which reads each tap's pixels from the input row instead of a `col`.
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
        // On AVX-512, pointwise and stride-1 convs run the packed kernels (weights packed here,
        // once per plan); the direct one needs no `col` at all.
        let direct = !pointwise && strides == [1, 1] && dilations == [1, 1] && kernelW <= Int(VC_CONV2D_MAX_KW)
        let packed: PackedConvWeights?
        if pointwise || direct, group == 1, KernelISA.active == .avx512, let w = n.known[1], w.dtype == .f32 {
            packed = try w.floats.withUnsafeBufferPointer { try PackedConvWeights($0, outChannels: outChannels, depth: depth) }
        } else {
            packed = nil
        }
        let directPacked = direct && packed != nil
        let bands = pointwise || directPacked ? nil : ConvBands(depth: depth, outputHeight: y[2], outputWidth: y[3], threads: n.threads)
        let bandElements = bands.map { depth * $0.rowsPerBand * y[3] } ?? 0
        // The whole `col`, or one band's slice per lane; none where the kernel reads x in place.
        let colElements = pointwise || directPacked ? 0 : bands.map { $0.lanes * bandElements } ?? depth * plane
        guard colElements <= Int(Int32.max) else { throw RuntimeError.tensorTooLarge(value: n.name, elements: colElements) }
        let colSlot = colElements > 0 ? n.scratch(bytes: colElements * 4) : nil
        let laneClaims = bands.map { LaneClaims(count: $0.lanes) }
        let activation = Activation(attributes: a)
        let hasBias = n.inputs.count == 3
        let program = n.epilogue
        let needsEpilogue = hasBias || activation != .none || !program.isEmpty
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
            /// Every output channel of one image, [outChannels, plane].
            func output(_ image: Int) -> UnsafeMutableBufferPointer<Float> {
                UnsafeMutableBufferPointer(rebasing: yAll[(image * outChannels * plane)..<((image + 1) * outChannels * plane)])
            }
            /// One (image, group) GEMM and its epilogue; `tiled` splits it over the pool.
            func product(_ image: Int, _ g: Int, _ matrix: UnsafeBufferPointer<Float>, tiled: Bool) throws {
                let yStart = (image * outChannels + g * groupOut) * plane
                let yGroup = UnsafeMutableBufferPointer(rebasing: yAll[yStart..<(yStart + groupOut * plane)])
                let wGroup = UnsafeBufferPointer(rebasing: weights[(g * groupOut * depth)..<((g + 1) * groupOut * depth)])
                let groupBias = bias.map { UnsafeBufferPointer(rebasing: $0[(g * groupOut)..<((g + 1) * groupOut)]) }
                let epilogue: ((Range<Int>, Range<Int>) throws -> Void)? = needsEpilogue ? { rows, columns in
                    try epilogueTile(yGroup, bias: groupBias, plane: plane, rows: rows, columns: columns, activation, program)
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
            if let packed, directPacked {
                // One task per output row (or a few), each all output channels of it.
                let rowsPerTask = max(1, PackedConvTiles.pixels / max(1, geometry.outputWidth))
                let tasks = (geometry.outputHeight + rowsPerTask - 1) / rowsPerTask
                try ctx.pool.parallelRanges(count: batch * tasks) { items in
                    for item in items {
                        let image = item / tasks, task = item % tasks
                        let rows = (task * rowsPerTask)..<min(geometry.outputHeight, (task + 1) * rowsPerTask)
                        try F32Kernels.conv2d(
                            packed, input(image, 0), inChannels: channels, geometry: geometry, output(image), bias: bias,
                            activation: activation, program: program, rows: rows)
                    }
                }
                return
            }
            if let packed {
                let width = PackedConvTiles.pixels
                let chunks = (plane + width - 1) / width
                try ctx.pool.parallelRanges(count: batch * chunks) { items in
                    for item in items {
                        let image = item / chunks, chunk = item % chunks
                        let columns = (chunk * width)..<min(plane, (chunk + 1) * width)
                        try F32Kernels.conv1x1(
                            packed, input(image, 0), output(image), plane: plane, bias: bias, activation: activation, program: program,
                            pixels: columns)
                    }
                }
                return
            }
            if let bands, let col, let laneClaims {
                let width = geometry.outputWidth
                // Bands are claimed dynamically (a busy core just takes fewer); each chunk borrows a lane.
                try ctx.pool.parallelRanges(count: batch * bands.count) { items in
                    let lane = laneClaims.claim()
                    defer { laneClaims.release(lane) }
                    let laneCol = UnsafeMutableBufferPointer(rebasing: col[(lane * bandElements)..<((lane + 1) * bandElements)])
                    for item in items {
                        let image = item / bands.count
                        let rows = bands.outputRows(item % bands.count)
                        let columns = (rows.lowerBound * width)..<(rows.upperBound * width)
                        for g in 0..<group {
                            try F32Kernels.im2col(
                                input(image, g), channels: groupChannels, geometry: geometry, col: laneCol,
                                rows: 0..<depth, outputRows: rows)
                            let yStart = (image * outChannels + g * groupOut) * plane
                            let yGroup = UnsafeMutableBufferPointer(rebasing: yAll[yStart..<(yStart + groupOut * plane)])
                            try blas.sgemm(
                                transA: false, transB: false, m: groupOut, n: columns.count, k: depth, alpha: 1,
                                a: UnsafeBufferPointer(rebasing: weights[(g * groupOut * depth)..<((g + 1) * groupOut * depth)]),
                                lda: depth, b: UnsafeBufferPointer(laneCol), ldb: columns.count, beta: 0,
                                c: UnsafeMutableBufferPointer(rebasing: yGroup[columns.lowerBound...]), ldc: plane)
                            if needsEpilogue {
                                try epilogueTile(
                                    yGroup, bias: bias.map { UnsafeBufferPointer(rebasing: $0[(g * groupOut)..<((g + 1) * groupOut)]) },
                                    plane: plane, rows: 0..<groupOut, columns: columns, activation, program)
                            }
                        }
                    }
                }
                return
            }
            if col == nil, batch * group > 1, batch * group >= ctx.pool.threadCount * GEMMTiling.tilesPerThread {
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

    /// Bias, activation and the fused elementwise program on the tile `rows` x `columns` of one
    /// group's output [rows, plane].
    private static func epilogueTile(
        _ y: UnsafeMutableBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?, plane: Int,
        rows: Range<Int>, columns: Range<Int>, _ activation: Activation, _ program: EpilogueProgram
    ) throws {
        let biasOrActivation = bias != nil || activation != .none
        if columns.count == plane {
            if biasOrActivation { try F32Kernels.biasActivation(y, bias: bias, plane: plane, channels: rows, activation: activation) }
            program.apply(UnsafeMutableBufferPointer(rebasing: y[(rows.lowerBound * plane)..<(rows.upperBound * plane)]))
            return
        }
        for row in rows {
            let start = row * plane + columns.lowerBound
            let part = UnsafeMutableBufferPointer(rebasing: y[start..<(start + columns.count)])
            if biasOrActivation {
                try F32Kernels.biasActivation(
                    part, bias: bias.map { UnsafeBufferPointer(rebasing: $0[row..<(row + 1)]) }, plane: columns.count,
                    channels: 0..<1, activation: activation)
            }
            program.apply(part)
        }
    }
}

/// How a conv whose `col` would outgrow the cache is cut into bands of output rows (nil from
/// `init` when the whole `col` is small enough to build at once, which keeps the pooled GEMM).
struct ConvBands {
    /// Largest whole `col` built at once; larger ones are banded.
    static let maxWholeColBytes = 2 << 20
    /// Aim for a band's slice of `col` about this size, so it stays in a core's L2 between the
    /// im2col that writes it and the GEMM that reads it.
    static let targetBandBytes = 384 << 10

    let rowsPerBand: Int
    let count: Int
    /// Chunks of bands running at once (one per thread), each with its own slice of `col`.
    let lanes: Int
    let outputHeight: Int

    init?(depth: Int, outputHeight: Int, outputWidth: Int, threads: Int) {
        let rowBytes = depth * outputWidth * 4
        guard rowBytes * outputHeight > Self.maxWholeColBytes, outputHeight > 1 else { return nil }
        let lanes = max(1, threads)
        // At least one band per lane, or some thread would idle.
        rowsPerBand = max(1, min(Self.targetBandBytes / max(rowBytes, 1), (outputHeight + lanes - 1) / lanes))
        count = (outputHeight + rowsPerBand - 1) / rowsPerBand
        self.lanes = min(lanes, count)
        self.outputHeight = outputHeight
    }

    /// Output rows of band `band`.
    func outputRows(_ band: Int) -> Range<Int> {
        (band * rowsPerBand)..<min(outputHeight, (band + 1) * rowsPerBand)
    }
}

/// Hands each running chunk of a parallel loop a lane of its own (an index into per-lane
/// scratch) and takes it back when the chunk ends. No more chunks run at once than the pool
/// has threads, so `count` = threads lanes never run out.
final class LaneClaims: Sendable {
    private let free: Mutex<[Int]>

    init(count: Int) { free = Mutex(Array((0..<max(1, count)).reversed())) }

    func claim() -> Int {
        free.withLock { lanes in
            guard let lane = lanes.popLast() else { preconditionFailure("more concurrent chunks than lanes") }
            return lane
        }
    }

    func release(_ lane: Int) { free.withLock { $0.append(lane) } }
}

/// Pool items of the packed kernels: each computes every output channel of about this many
/// pixels (a few of the kernels' 48-pixel panels, enough to amortise the hand-off; the direct
/// kernel takes whole output rows).
enum PackedConvTiles {
    static let pixels = 192
}
