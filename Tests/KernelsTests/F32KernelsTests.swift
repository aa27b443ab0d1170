import Kernels
import XCTest

final class F32KernelsTests: XCTestCase {
    private let activations: [Activation] = [.none, .relu, .clip(lo: -0.25, hi: 0.5)]

    func testBiasActivationVariantsAndReference() throws {
        var random = TestRandom(seed: 1)
        for plane in tileEdgeSizes {
            let input = random.floats(3 * plane), bias = random.floats(3)
            for activation in activations {
                try assertVariantsEqual("bias_act plane=\(plane) \(activation)") {
                    var y = input
                    try y.withUnsafeMutableBufferPointer { y in
                        try bias.withUnsafeBufferPointer { bias in
                            // Two tiles of channels, as threads would split them.
                            try F32Kernels.biasActivation(y, bias: bias, plane: plane, channels: 0..<1, activation: activation)
                            try F32Kernels.biasActivation(y, bias: bias, plane: plane, channels: 1..<3, activation: activation)
                        }
                    }
                    return y
                }
            }
        }
        var y: [Float] = [-1, 0.2, 3, -4]
        try y.withUnsafeMutableBufferPointer { y in
            try [Float(0.5), -1].withUnsafeBufferPointer { bias in
                try F32Kernels.biasActivation(y, bias: bias, plane: 2, channels: 0..<2, activation: .clip(lo: 0, hi: 2))
            }
        }
        XCTAssertEqual(y, [0, 0.7, 2, 0])
    }

    func testBinaryVariantsAndReference() throws {
        var random = TestRandom(seed: 2)
        for count in tileEdgeSizes {
            let a = random.floats(count), b = random.floats(count, 0.5, 2)
            for op in BinaryOp.allCases {
                for activation in activations {
                    try assertVariantsEqual("binary \(op) n=\(count) \(activation)") {
                        var y = [Float](repeating: .nan, count: count)
                        try a.withUnsafeBufferPointer { a in
                            try b.withUnsafeBufferPointer { b in
                                try y.withUnsafeMutableBufferPointer { y in
                                    try F32Kernels.binary(op, a, b, y, range: 0..<(count / 2), activation: activation)
                                    try F32Kernels.binary(op, a, b, y, range: (count / 2)..<count, activation: activation)
                                }
                            }
                        }
                        return y
                    }
                }
            }
        }
        var a: [Float] = [1, -2, 3], b: [Float] = [4, 5, -6]
        try b.withUnsafeBufferPointer { b in
            try a.withUnsafeMutableBufferPointer { a in
                // In place: y aliases a.
                try F32Kernels.binary(.add, UnsafeBufferPointer(a), b, a, range: 0..<3, activation: .relu)
            }
        }
        XCTAssertEqual(a, [5, 3, 0])
        let quotient = try [Float(1), 9].withUnsafeBufferPointer { x in
            try [Float(4), 3].withUnsafeBufferPointer { y in
                var out = [Float](repeating: 0, count: 2)
                try out.withUnsafeMutableBufferPointer { try F32Kernels.binary(.div, x, y, $0, range: 0..<2) }
                return out
            }
        }
        XCTAssertEqual(quotient, [0.25, 3])
    }

    func testSoftmaxVariantsSumToOneAndMatchScalar() throws {
        var random = TestRandom(seed: 3)
        for cols in tileEdgeSizes + [1000] {
            // Wide range, including inputs whose exp underflows after the max is subtracted.
            let x = random.floats(3 * cols, -60, 60)
            try assertVariantsClose("softmax cols=\(cols)", relative: 1e-5, absolute: 1e-30) {
                var y = [Float](repeating: 0, count: x.count)
                try x.withUnsafeBufferPointer { x in
                    try y.withUnsafeMutableBufferPointer { try F32Kernels.softmax(x, $0, cols: cols, rows: 0..<3) }
                }
                for row in 0..<3 {
                    let sum = y[(row * cols)..<((row + 1) * cols)].reduce(0, +)
                    XCTAssertEqual(sum, 1, accuracy: 1e-5, "softmax row \(row) cols=\(cols) under \(KernelISA.active)")
                }
                return y
            }
        }
        var y = [Float](repeating: 0, count: 2)
        try [Float(0), Float(log(3.0))].withUnsafeBufferPointer { x in
            try y.withUnsafeMutableBufferPointer { try F32Kernels.softmax(x, $0, cols: 2, rows: 0..<1) }
        }
        assertClose(y, [0.25, 0.75], relative: 1e-6, absolute: 0, "softmax [0, ln 3]")
    }

    // MARK: - Pooling

    private func naivePool(
        _ x: [Float], _ g: WindowGeometry, planes: Int, max isMax: Bool, countIncludePad: Bool
    ) -> [Float] {
        var y = [Float]()
        for p in 0..<planes {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    var acc: Float = isMax ? -.infinity : 0
                    var count = 0, padded = 0
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth {
                            let iy = oy * g.strideHeight + ky * g.dilationHeight - g.padTop
                            let ix = ox * g.strideWidth + kx * g.dilationWidth - g.padLeft
                            // Symmetric padding: taps a ceil-mode window reaches past it do not count.
                            if iy < g.height + g.padTop, ix < g.width + g.padLeft { padded += 1 }
                            guard (0..<g.height).contains(iy), (0..<g.width).contains(ix) else { continue }
                            let v = x[(p * g.height + iy) * g.width + ix]
                            acc = isMax ? max(acc, v) : acc + v
                            count += 1
                        }
                    }
                    let divisor = countIncludePad ? padded : count
                    y.append(isMax ? acc : (divisor > 0 ? acc / Float(divisor) : 0))
                }
            }
        }
        return y
    }

    private var poolGeometries: [WindowGeometry] {
        var result: [WindowGeometry] = []
        for (h, w) in [(5, 7), (12, 33), (9, 40)] {
            for (k, s, p, d) in [(3, 2, 1, 1), (2, 2, 0, 1), (3, 1, 1, 1), (3, 1, 2, 2), (5, 3, 2, 1), (1, 1, 0, 1), (5, 3, 0, 2)] {
                let oh = (h + 2 * p - d * (k - 1) - 1) / s + 1, ow = (w + 2 * p - d * (k - 1) - 1) / s + 1
                guard oh > 0, ow > 0 else { continue }
                // As ceil mode can: one more window, starting inside the image or its start
                // padding, whose taps reach past the end padding.
                let extra = zip([oh, ow], [h, w]).map { o, n in o * s < n + p ? 1 : 0 }
                for ceil in [false, true] where !ceil || extra.contains(1) {
                    result.append(
                        WindowGeometry(
                            height: h, width: w, kernelHeight: k, kernelWidth: k, strideHeight: s, strideWidth: s, padTop: p,
                            padLeft: p, dilationHeight: d, dilationWidth: d, outputHeight: oh + (ceil ? extra[0] : 0),
                            outputWidth: ow + (ceil ? extra[1] : 0)))
                }
            }
        }
        return result
    }

    /// Row-major flat index (over all planes) of each window's first maximum.
    private func naiveArgmax(_ x: [Float], _ g: WindowGeometry, planes: Int) -> [Int64] {
        var result = [Int64]()
        for p in 0..<planes {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    var best: (value: Float, index: Int)? = nil
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth {
                            let iy = oy * g.strideHeight + ky * g.dilationHeight - g.padTop
                            let ix = ox * g.strideWidth + kx * g.dilationWidth - g.padLeft
                            guard (0..<g.height).contains(iy), (0..<g.width).contains(ix) else { continue }
                            let index = (p * g.height + iy) * g.width + ix
                            if best == nil || x[index] > best!.value { best = (x[index], index) }
                        }
                    }
                    result.append(Int64(best?.index ?? -1))
                }
            }
        }
        return result
    }

    /// The column-major form (storage_order 1) swaps the roles of H and W in the flat index.
    func testMaxPoolIndicesColumnMajor() throws {
        // One 2×3 plane, a 2×2 window with stride 1: maxima at (1,1) then (0,2).
        let x: [Float] = [0, 1, 9, 2, 8, 3]
        let g = WindowGeometry(height: 2, width: 3, kernelHeight: 2, kernelWidth: 2, outputHeight: 1, outputWidth: 2)
        for (columnMajor, expected) in [(false, [Int64(4), 2]), (true, [Int64(3), 4])] {
            var y = [Float](repeating: 0, count: 2), indices = [Int64](repeating: 0, count: 2)
            try x.withUnsafeBufferPointer { x in
                try y.withUnsafeMutableBufferPointer { y in
                    try indices.withUnsafeMutableBufferPointer { indices in
                        try F32Kernels.maxPool2dIndices(x, geometry: g, y, indices: indices, columnMajor: columnMajor, planes: 0..<1)
                    }
                }
            }
            XCTAssertEqual(y, [8, 9])
            XCTAssertEqual(indices, expected, "columnMajor=\(columnMajor)")
        }
    }

    func testPoolingMatchesNaiveReferenceOnEveryISA() throws {
        var random = TestRandom(seed: 4)
        let planes = 2
        for g in poolGeometries {
            let x = random.floats(planes * g.height * g.width)
            let outCount = planes * g.outputHeight * g.outputWidth
            let expectedMax = naivePool(x, g, planes: planes, max: true, countIncludePad: false)
            try assertVariantsEqual("max pool \(g)") {
                var y = [Float](repeating: .nan, count: outCount)
                try x.withUnsafeBufferPointer { x in
                    try y.withUnsafeMutableBufferPointer { y in
                        try F32Kernels.maxPool2d(x, geometry: g, y, planes: 0..<1)
                        try F32Kernels.maxPool2d(x, geometry: g, y, planes: 1..<2)
                    }
                }
                XCTAssertEqual(y, expectedMax, "max pool \(g) under \(KernelISA.active)")
                return y
            }
            let expectedIndices = naiveArgmax(x, g, planes: planes)
            var indices = [Int64](repeating: -2, count: outCount), y = [Float](repeating: .nan, count: outCount)
            try x.withUnsafeBufferPointer { x in
                try y.withUnsafeMutableBufferPointer { y in
                    try indices.withUnsafeMutableBufferPointer { indices in
                        try F32Kernels.maxPool2dIndices(x, geometry: g, y, indices: indices, columnMajor: false, planes: 0..<planes)
                    }
                }
            }
            XCTAssertEqual(y, expectedMax, "max pool with indices \(g)")
            XCTAssertEqual(indices, expectedIndices, "max pool indices \(g)")
            for includePad in [false, true] {
                let expected = naivePool(x, g, planes: planes, max: false, countIncludePad: includePad)
                try assertVariantsEqual("avg pool \(g) includePad=\(includePad)") {
                    var y = [Float](repeating: .nan, count: outCount)
                    try x.withUnsafeBufferPointer { x in
                        try y.withUnsafeMutableBufferPointer {
                            try F32Kernels.avgPool2d(
                                x, geometry: g, padBottom: g.padTop, padRight: g.padLeft, countIncludePad: includePad, $0,
                                planes: 0..<planes)
                        }
                    }
                    assertClose(y, expected, relative: 1e-6, absolute: 1e-6, "avg pool \(g) under \(KernelISA.active)")
                    return y
                }
            }
        }
    }

    func testGlobalAveragePool() throws {
        var random = TestRandom(seed: 5)
        for plane in tileEdgeSizes + [49, 3136] {
            let x = random.floats(3 * plane, 0, 1)
            try assertVariantsClose("global avg pool plane=\(plane)", relative: 1e-5) {
                var y = [Float](repeating: 0, count: 3)
                try x.withUnsafeBufferPointer { x in
                    try y.withUnsafeMutableBufferPointer { try F32Kernels.globalAvgPool(x, plane: plane, $0, planes: 0..<3) }
                }
                return y
            }
        }
        var y: [Float] = [0]
        try [Float(1), 2, 3, 6].withUnsafeBufferPointer { x in
            try y.withUnsafeMutableBufferPointer { try F32Kernels.globalAvgPool(x, plane: 4, $0, planes: 0..<1) }
        }
        XCTAssertEqual(y, [3])
    }

    // MARK: - im2col + sgemm convolution

    func testIm2colConvolutionMatchesDirectConvolution() throws {
        let blas = try BLAS.load()
        var random = TestRandom(seed: 6)
        let (channels, outChannels) = (3, 4)
        for (h, w, k, s, p, d) in [(7, 9, 3, 2, 1, 1), (6, 20, 3, 1, 2, 2), (5, 17, 1, 1, 0, 1), (8, 8, 5, 3, 2, 1)] {
            let oh = (h + 2 * p - d * (k - 1) - 1) / s + 1, ow = (w + 2 * p - d * (k - 1) - 1) / s + 1
            let g = WindowGeometry(
                height: h, width: w, kernelHeight: k, kernelWidth: k, strideHeight: s, strideWidth: s, padTop: p,
                padLeft: p, dilationHeight: d, dilationWidth: d, outputHeight: oh, outputWidth: ow)
            let x = random.floats(channels * h * w), weights = random.floats(outChannels * channels * k * k)
            var direct = [Float](repeating: 0, count: outChannels * oh * ow)
            for o in 0..<outChannels {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var sum: Float = 0
                        for c in 0..<channels {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let iy = oy * s + ky * d - p, ix = ox * s + kx * d - p
                                    guard (0..<h).contains(iy), (0..<w).contains(ix) else { continue }
                                    sum += x[(c * h + iy) * w + ix] * weights[((o * channels + c) * k + ky) * k + kx]
                                }
                            }
                        }
                        direct[(o * oh + oy) * ow + ox] = sum
                    }
                }
            }
            let rows = channels * k * k
            try assertVariantsEqual("im2col \(g)") {
                var col = [Float](repeating: .nan, count: rows * oh * ow)
                try x.withUnsafeBufferPointer { x in
                    try col.withUnsafeMutableBufferPointer { col in
                        try F32Kernels.im2col(x, channels: channels, geometry: g, col: col, rows: 0..<(rows / 2))
                        try F32Kernels.im2col(x, channels: channels, geometry: g, col: col, rows: (rows / 2)..<rows)
                    }
                }
                var y = [Float](repeating: 0, count: outChannels * oh * ow)
                try weights.withUnsafeBufferPointer { wt in
                    try col.withUnsafeBufferPointer { col in
                        try y.withUnsafeMutableBufferPointer { y in
                            try blas.sgemm(
                                transA: false, transB: false, m: outChannels, n: oh * ow, k: rows, alpha: 1, a: wt,
                                lda: rows, b: col, ldb: oh * ow, beta: 0, c: y, ldc: oh * ow)
                        }
                    }
                }
                assertClose(y, direct, relative: 1e-4, absolute: 1e-5, "conv \(g) under \(KernelISA.active)")
                return col
            }
        }
    }

    func testIm2colRejectsRowsOutsideTheMatrix() {
        let g = WindowGeometry(height: 2, width: 2, kernelHeight: 1, kernelWidth: 1, outputHeight: 2, outputWidth: 2)
        var col = [Float](repeating: 0, count: 4)
        XCTAssertThrowsError(
            try [Float](repeating: 0, count: 4).withUnsafeBufferPointer { x in
                try col.withUnsafeMutableBufferPointer {
                    try F32Kernels.im2col(x, channels: 1, geometry: g, col: $0, rows: 0..<2)
                }
            }
        ) { XCTAssertEqual(($0 as? KernelError)?.message, "rows 0..<2 is outside 0..<1") }
    }

    // MARK: - Layout and affine helpers

    func testChannelAffineAndTransposes() throws {
        var random = TestRandom(seed: 7)
        for channels in [1, 3, 4, 5] {
            for pixels in tileEdgeSizes {
                let x = random.floats(pixels * channels, 0, 255)
                let scale = random.floats(channels, 0.001, 0.02), bias = random.floats(channels, -2, 2)
                let expected = (0..<(pixels * channels)).map { x[$0] * scale[$0 % channels] + bias[$0 % channels] }
                try assertVariantsEqual("affine c=\(channels) n=\(pixels)") {
                    var y = [Float](repeating: .nan, count: x.count)
                    try x.withUnsafeBufferPointer { x in
                        try y.withUnsafeMutableBufferPointer { y in
                            try F32Kernels.channelAffineHWC(x, y, pixels: 0..<(pixels / 3), scale: scale, bias: bias)
                            try F32Kernels.channelAffineHWC(x, y, pixels: (pixels / 3)..<pixels, scale: scale, bias: bias)
                        }
                    }
                    XCTAssertEqual(y, expected, "affine c=\(channels) n=\(pixels) under \(KernelISA.active)")
                    return y
                }
            }
            for (h, w) in [(1, 1), (2, 7), (3, 17), (5, 33), (2, 70)] {
                let bytes = random.bytes(h * w * channels)
                let floats = bytes.map(Float.init)
                let chw = (0..<(h * w * channels)).map { i in
                    let (c, pixel) = (i / (h * w), i % (h * w))
                    return bytes[pixel * channels + c]
                }
                try assertVariantsEqual("u8 hwc->chw c=\(channels) \(h)x\(w)") {
                    var y = [UInt8](repeating: 0, count: bytes.count)
                    try bytes.withUnsafeBufferPointer { x in
                        try y.withUnsafeMutableBufferPointer {
                            try U8Kernels.hwcToCHW(x, $0, height: h, width: w, channels: channels, rows: 0..<h)
                        }
                    }
                    XCTAssertEqual(y, chw)
                    return y
                }
                try assertVariantsEqual("f32 hwc->chw and u8->f32 c=\(channels) \(h)x\(w)") {
                    var converted = [Float](repeating: .nan, count: bytes.count)
                    var y = [Float](repeating: .nan, count: bytes.count)
                    try bytes.withUnsafeBufferPointer { x in
                        try converted.withUnsafeMutableBufferPointer { try U8Kernels.toF32(x, $0, range: 0..<x.count) }
                    }
                    XCTAssertEqual(converted, floats)
                    try converted.withUnsafeBufferPointer { x in
                        try y.withUnsafeMutableBufferPointer { y in
                            try F32Kernels.hwcToCHW(x, y, height: h, width: w, channels: channels, rows: 0..<(h / 2))
                            try F32Kernels.hwcToCHW(x, y, height: h, width: w, channels: channels, rows: (h / 2)..<h)
                        }
                    }
                    XCTAssertEqual(y, chw.map(Float.init))
                    return y
                }
                try assertVariantsEqual("f32 chw->hwc c=\(channels) \(h)x\(w)") {
                    let planar = chw.map(Float.init)
                    var y = [Float](repeating: .nan, count: planar.count)
                    try planar.withUnsafeBufferPointer { x in
                        try y.withUnsafeMutableBufferPointer { y in
                            try F32Kernels.chwToHWC(x, y, height: h, width: w, channels: channels, rows: 0..<(h / 2))
                            try F32Kernels.chwToHWC(x, y, height: h, width: w, channels: channels, rows: (h / 2)..<h)
                        }
                    }
                    XCTAssertEqual(y, floats, "f32 chw->hwc c=\(channels) \(h)x\(w) under \(KernelISA.active)")
                    return y
                }
            }
        }
    }
}
