import IR
import TestSupport
@testable import Runtime
import XCTest

/// Model ops against naive Swift references on small shapes.
final class ModelOpTests: XCTestCase {
    /// Direct convolution, NCHW, ONNX semantics.
    private func naiveConv(
        x: [Float], _ xs: [Int], w: [Float], _ ws: [Int], bias: [Float]?, strides: [Int], pads: [Int],
        dilations: [Int], group: Int, out: [Int]
    ) -> [Float] {
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3])
        let (m, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3])
        let (oh, ow) = (out[2], out[3])
        let mg = m / group
        var y = [Float](repeating: 0, count: n * m * oh * ow)
        for b in 0..<n {
            for oc in 0..<m {
                let g = oc / mg
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var acc = bias?[oc] ?? 0
                        for ic in 0..<cg {
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let iy = oy * strides[0] + ky * dilations[0] - pads[0]
                                    let ix = ox * strides[1] + kx * dilations[1] - pads[1]
                                    guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                    acc += x[((b * c + g * cg + ic) * h + iy) * wd + ix] * w[((oc * cg + ic) * kh + ky) * kw + kx]
                                }
                            }
                        }
                        y[((b * m + oc) * oh + oy) * ow + ox] = acc
                    }
                }
            }
        }
        return y
    }

    private func checkConv(
        xs: [Int], ws: [Int], strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0], dilations: [Int] = [1, 1],
        group: Int = 1, bias: Bool = true, activation: String? = nil, seed: UInt32
    ) throws {
        var noise = Noise(seed: seed)
        let x = noise.floats(xs.reduce(1, *)), w = noise.floats(ws.reduce(1, *)), b = noise.floats(ws[0])
        var attributes: Attributes = ["strides": .ints(strides), "pads": .ints(pads), "dilations": .ints(dilations), "group": .int(group)]
        if let activation { attributes["activation"] = .string(activation) }
        let out = try runSingle(input: Tensor(shape: xs, floats: x), layout: .nchw) { g, input in
            let weight = g.addConstant(name: "w", tensor: Tensor(shape: ws, floats: w))
            var operands = [input, weight]
            if bias { operands.append(g.addConstant(name: "b", tensor: Tensor(shape: [ws[0]], floats: b))) }
            return try g.append(.conv, operands, attributes: attributes, name: "y")[0]
        }
        var expected = naiveConv(
            x: x, xs, w: w, ws, bias: bias ? b : nil, strides: strides, pads: pads, dilations: dilations, group: group, out: out.shape)
        if activation == "relu" { expected = expected.map { max($0, 0) } }
        assertClose(out.floats, expected)
    }

    func testConvWithStridePaddingDilation() throws {
        try checkConv(xs: [2, 3, 9, 8], ws: [4, 3, 3, 3], strides: [2, 1], pads: [1, 2, 0, 1], dilations: [1, 2], seed: 1)
        // Large enough for im2col to split over threads.
        try checkConv(xs: [1, 8, 30, 30], ws: [16, 8, 3, 3], pads: [1, 1, 1, 1], activation: "relu", seed: 11)
    }

    func testConvGEMMSplitIntoTilesOverThePool() throws {
        // Column tiles (plane 2025 > 16 channels; 2025 is not a multiple of the 16-column edge),
        // four per thread, each with its own bias + relu epilogue row by row.
        let columns = GEMMTiling(m: 16, n: 2025, k: 72, threads: 2)
        XCTAssertEqual([columns.rowTiles, columns.columnTiles, columns.columnStep], [1, 8, 256])
        XCTAssertEqual(GEMMTiling(m: 16, n: 2025, k: 72, threads: 1).columnTiles, 1, "one thread: one call")
        try checkConv(xs: [1, 8, 45, 45], ws: [16, 8, 3, 3], pads: [1, 1, 1, 1], activation: "relu", seed: 12)
        // Row tiles (200 channels > plane 49), pointwise: the input is B directly.
        let rows = GEMMTiling(m: 200, n: 49, k: 64, threads: 2)
        XCTAssertEqual([rows.rowTiles, rows.columnTiles, rows.rowStep], [2, 1, 112])
        try checkConv(xs: [1, 64, 7, 7], ws: [200, 64, 1, 1], activation: "relu", seed: 13)
        // Pointwise over a batch of 3: one whole-GEMM task per image instead.
        try checkConv(xs: [3, 64, 7, 7], ws: [200, 64, 1, 1], activation: "relu", seed: 14)
        // Too small to be worth a hand-off: one call.
        let whole = GEMMTiling(m: 8, n: 49, k: 9, threads: 2)
        XCTAssertEqual([whole.rowTiles, whole.columnTiles], [1, 1])
    }

    func testConvsWithALargeIm2colRunInBands() throws {
        // 288 x 70 floats per output row (78.75 KiB): 4 rows per ~315 KiB band, 18 bands, a lane per thread.
        let bands = try XCTUnwrap(ConvBands(depth: 288, outputHeight: 70, outputWidth: 70, threads: 2))
        XCTAssertEqual([bands.rowsPerBand, bands.count, bands.lanes], [4, 18, 2])
        XCTAssertEqual(bands.outputRows(17), 68..<70)
        XCTAssertNil(ConvBands(depth: 27, outputHeight: 30, outputWidth: 30, threads: 2), "a small col is built whole")
        // Stride 2 over a batch, dilation 2 (neither takes the direct kernel), and groups.
        try checkConv(xs: [2, 64, 70, 70], ws: [8, 64, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], activation: "relu", seed: 15)
        try checkConv(xs: [1, 32, 60, 60], ws: [8, 32, 3, 3], pads: [2, 2, 2, 2], dilations: [2, 2], seed: 16)
        try checkConv(xs: [1, 64, 48, 48], ws: [8, 32, 3, 3], pads: [2, 2, 2, 2], dilations: [2, 2], group: 2, seed: 17)
        // Stride 1: the direct kernel on AVX-512, bands elsewhere.
        try checkConv(xs: [1, 32, 70, 70], ws: [8, 32, 3, 3], pads: [1, 1, 1, 1], activation: "relu", seed: 18)
    }

    func testGroupedConvWithReLU() throws {
        try checkConv(xs: [1, 6, 7, 7], ws: [4, 3, 3, 3], pads: [1, 1, 1, 1], group: 2, activation: "relu", seed: 2)
        try checkConv(xs: [1, 4, 5, 5], ws: [4, 1, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 4, seed: 3)
    }

    func testPointwiseConvSkipsIm2col() throws {
        try checkConv(xs: [2, 5, 4, 3], ws: [7, 5, 1, 1], bias: false, seed: 4)
        var g = Graph(name: "pointwise")
        let x = g.addInput(name: "x", type: TensorType(.f32, [1, 5, 4, 3], layout: .nchw))
        let w = g.addConstant(name: "w", tensor: Tensor(shape: [7, 5, 1, 1], floats: Noise.floats(35, seed: 5)))
        g.outputs = [try g.append(.conv, [x, w], name: "y")[0]]
        let exe = try Executable(graph: g)
        _ = try exe.run(inputs: [Tensor(shape: [1, 5, 4, 3], floats: Noise.floats(60, seed: 6))])
        let withoutScratch = exe.plannedArenaBytes
        XCTAssertEqual(withoutScratch, 256 + 384, "input (240 B) + output (336 B), each 64-aligned, no im2col buffer")
    }

    func testGemmTransposesAlphaBetaAndBiasBroadcast() throws {
        var noise = Noise(seed: 7)
        let (m, k, n) = (3, 5, 4)
        let a = noise.floats(m * k), b = noise.floats(k * n), c = noise.floats(n)
        for (transA, transB) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let aShape = transA == 1 ? [k, m] : [m, k], bShape = transB == 1 ? [n, k] : [k, n]
            func at(_ i: Int, _ p: Int) -> Float { transA == 1 ? a[p * m + i] : a[i * k + p] }
            func bt(_ p: Int, _ j: Int) -> Float { transB == 1 ? b[j * k + p] : b[p * n + j] }
            let out = try runSingle(input: Tensor(shape: aShape, floats: a)) { g, x in
                let weight = g.addConstant(name: "b", tensor: Tensor(shape: bShape, floats: b))
                let bias = g.addConstant(name: "c", tensor: Tensor(shape: [n], floats: c))
                return try g.append(.gemm, [x, weight, bias], attributes: [
                    "transA": .int(transA), "transB": .int(transB), "alpha": .float(0.5), "beta": .float(2), "activation": .string("relu"),
                ], name: "y")[0]
            }
            var expected: [Float] = []
            for i in 0..<m {
                for j in 0..<n {
                    var acc: Float = 0
                    for p in 0..<k { acc += at(i, p) * bt(p, j) }
                    expected.append(max(0, 0.5 * acc + 2 * c[j]))
                }
            }
            XCTAssertEqual(out.shape, [m, n])
            assertClose(out.floats, expected)
        }
    }

    func testBatchedMatMulBroadcastsBatch() throws {
        var noise = Noise(seed: 8)
        let a = noise.floats(2 * 3 * 4 * 5), b = noise.floats(3 * 5 * 2), w = noise.floats(5 * 2)
        let out = try runSingle(input: Tensor(shape: [2, 3, 4, 5], floats: a)) { g, x in
            let rhs = g.addConstant(name: "b", tensor: Tensor(shape: [3, 5, 2], floats: b))
            return try g.append(.matmul, [x, rhs], name: "y")[0]
        }
        var expected: [Float] = []
        for batch in 0..<2 {
            for s in 0..<3 {
                for i in 0..<4 {
                    for j in 0..<2 {
                        var acc: Float = 0
                        for p in 0..<5 { acc += a[((batch * 3 + s) * 4 + i) * 5 + p] * b[(s * 5 + p) * 2 + j] }
                        expected.append(acc)
                    }
                }
            }
        }
        XCTAssertEqual(out.shape, [2, 3, 4, 2])
        assertClose(out.floats, expected)

        let folded = try runSingle(input: Tensor(shape: [2, 3, 4, 5], floats: a)) { g, x in
            try g.append(.matmul, [x, g.addConstant(name: "w", tensor: Tensor(shape: [5, 2], floats: w))], name: "y")[0]
        }
        var expectedFolded: [Float] = []
        for row in 0..<24 {
            for j in 0..<2 {
                var acc: Float = 0
                for p in 0..<5 { acc += a[row * 5 + p] * w[p * 2 + j] }
                expectedFolded.append(acc)
            }
        }
        assertClose(folded.floats, expectedFolded)
    }

    func testBatchNormIsPerChannelAffine() throws {
        var noise = Noise(seed: 9)
        let x = noise.floats(2 * 3 * 4)
        let scale: [Float] = [1, 2, 0.5], shift: [Float] = [0, 1, -1], mean: [Float] = [0.1, -0.2, 0.3], variance: [Float] = [1, 0.5, 2]
        let out = try runSingle(input: Tensor(shape: [2, 3, 2, 2], floats: x), layout: .nchw) { g, input in
            let params = [scale, shift, mean, variance].enumerated().map { i, v in
                g.addConstant(name: "p\(i)", tensor: Tensor(shape: [3], floats: v))
            }
            return try g.append(.batchNorm, [input] + params, attributes: ["epsilon": .float(1e-3)], name: "y")[0]
        }
        let expected = x.indices.map { i -> Float in
            let c = (i / 4) % 3
            return (x[i] - mean[c]) / (variance[c] + 1e-3).squareRoot() * scale[c] + shift[c]
        }
        assertClose(out.floats, expected)
    }

    private func naivePool(
        _ x: [Float], _ s: [Int], out: [Int], k: [Int], strides: [Int], pads: [Int], isMax: Bool, countIncludePad: Bool
    ) -> [Float] {
        var y: [Float] = []
        for plane in 0..<(s[0] * s[1]) {
            for oy in 0..<out[2] {
                for ox in 0..<out[3] {
                    var best = -Float.infinity, total: Float = 0, count = 0, padded = 0
                    for ky in 0..<k[0] {
                        for kx in 0..<k[1] {
                            let iy = oy * strides[0] + ky - pads[0], ix = ox * strides[1] + kx - pads[1]
                            if iy < s[2] + pads[2], ix < s[3] + pads[3] { padded += 1 }
                            guard iy >= 0, iy < s[2], ix >= 0, ix < s[3] else { continue }
                            let v = x[(plane * s[2] + iy) * s[3] + ix]
                            best = max(best, v)
                            total += v
                            count += 1
                        }
                    }
                    y.append(isMax ? best : total / Float(countIncludePad ? padded : count))
                }
            }
        }
        return y
    }

    func testPoolsWithPaddingAndCeilMode() throws {
        var noise = Noise(seed: 10)
        let shape = [2, 3, 7, 6]
        let x = noise.floats(shape.reduce(1, *))
        for (op, ceil, includePad) in [(Op.maxPool, 0, 0), (.maxPool, 1, 0), (.averagePool, 0, 0), (.averagePool, 1, 0), (.averagePool, 0, 1)] {
            let attributes: Attributes = [
                "kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 0, 0, 0]),
                "ceil_mode": .int(ceil), "count_include_pad": .int(includePad),
            ]
            let out = try runSingle(input: Tensor(shape: shape, floats: x), layout: .nchw) { g, input in
                try g.append(op, [input], attributes: attributes, name: "y")[0]
            }
            let expected = naivePool(
                x, shape, out: out.shape, k: [3, 3], strides: [2, 2], pads: [1, 0, 0, 0], isMax: op == .maxPool,
                countIncludePad: includePad == 1)
            assertClose(out.floats, expected, rtol: 1e-5, atol: 1e-6)
        }
        let global = try runSingle(input: Tensor(shape: shape, floats: x), layout: .nchw) { g, input in
            try g.append(.globalAveragePool, [input], name: "y")[0]
        }
        XCTAssertEqual(global.shape, [2, 3, 1, 1])
        assertClose(global.floats, (0..<6).map { p in x[(p * 42)..<((p + 1) * 42)].reduce(0, +) / 42 })
    }
}
