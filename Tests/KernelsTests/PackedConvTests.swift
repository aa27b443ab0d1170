import Kernels
import XCTest

/// The packed convolution kernels (pointwise and direct stride-1), the elementwise epilogue
/// program and the banded im2col: each against a naive Swift loop and every ISA against scalar.
final class PackedConvTests: XCTestCase {
    /// HardSwish as PP-OCR exports it between two scalar affines: the chain runtime fusion builds.
    private let hardSwishChain = EpilogueProgram([
        .affine(scale: 0.75, offset: -0.25), .save, .affine(scale: 1, offset: 3), .activate(.clip(lo: 0, hi: 6)),
        .multiplySaved, .divide(6), .affine(scale: 1.5, offset: -0.0), .activate(.relu),
    ])

    /// What each step computes, one element at a time, as the unfused kernels would.
    private func reference(_ program: EpilogueProgram, _ x: Float) -> Float {
        var v = x, saved: Float = 0
        for step in program.steps {
            switch step {
            case .affine(let scale, let offset): v = v * scale + offset
            case .activate(.none): v = v + 0
            case .activate(.relu): v = max(v + 0, 0)
            case .activate(.clip(let lo, let hi)): v = min(max(v + 0, lo), hi)
            case .divide(let d): v = v / d
            case .save: saved = v
            case .multiplySaved: v = saved * v
            }
        }
        return v
    }

    func testEpilogueProgramIsBitExactOnEveryISA() {
        var random = TestRandom(seed: 3)
        for count in tileEdgeSizes + [63, 64, 65, 1000] {
            let x = random.floats(count, -8, 8)
            let expected = x.map { reference(hardSwishChain, $0) }
            let results = resultsPerISA { () -> [Float] in
                var y = x
                y.withUnsafeMutableBufferPointer { hardSwishChain.apply($0) }
                return y
            }
            for (isa, y) in results { XCTAssertEqual(y, expected, "epilogue of \(count) on \(isa)") }
        }
        var untouched: [Float] = [1, -2]
        untouched.withUnsafeMutableBufferPointer { EpilogueProgram().apply($0) }
        XCTAssertEqual(untouched, [1, -2], "an empty program leaves y alone")
    }

    private func naiveConv(
        _ x: [Float], channels: Int, _ g: WindowGeometry, _ w: [Float], outChannels: Int, bias: [Float]
    ) -> [Float] {
        var y = [Float](repeating: 0, count: outChannels * g.outputHeight * g.outputWidth)
        for o in 0..<outChannels {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    var sum: Float = 0
                    for c in 0..<channels {
                        for ky in 0..<g.kernelHeight {
                            for kx in 0..<g.kernelWidth {
                                let iy = oy * g.strideHeight + ky - g.padTop, ix = ox * g.strideWidth + kx - g.padLeft
                                guard (0..<g.height).contains(iy), (0..<g.width).contains(ix) else { continue }
                                sum += w[((o * channels + c) * g.kernelHeight + ky) * g.kernelWidth + kx] * x[(c * g.height + iy) * g.width + ix]
                            }
                        }
                    }
                    y[(o * g.outputHeight + oy) * g.outputWidth + ox] = sum + bias[o]
                }
            }
        }
        return y
    }

    func testPointwiseKernelMatchesNaiveGEMMWithEpilogue() throws {
        var random = TestRandom(seed: 5)
        for (outChannels, inChannels) in [(1, 1), (8, 5), (13, 17), (24, 3)] {
            for plane in [1, 16, 47, 100] {
                let g = WindowGeometry(height: 1, width: plane, kernelHeight: 1, kernelWidth: 1, outputHeight: 1, outputWidth: plane)
                let x = random.floats(inChannels * plane), w = random.floats(outChannels * inChannels), b = random.floats(outChannels)
                let packed = try w.withUnsafeBufferPointer { try PackedConvWeights($0, outChannels: outChannels, depth: inChannels) }
                let expected = naiveConv(x, channels: inChannels, g, w, outChannels: outChannels, bias: b)
                    .map { reference(hardSwishChain, max($0, 0)) }
                let label = "conv1x1 \(outChannels)x\(inChannels) plane \(plane)"
                try assertVariantsClose(label, relative: 1e-5, absolute: 1e-6) {
                    var y = [Float](repeating: .nan, count: outChannels * plane)
                    try x.withUnsafeBufferPointer { x in
                        try b.withUnsafeBufferPointer { b in
                            try y.withUnsafeMutableBufferPointer { y in
                                // Two pixel ranges, as pool tasks split them.
                                for pixels in [0..<(plane / 3), (plane / 3)..<plane] {
                                    try F32Kernels.conv1x1(
                                        packed, x, y, plane: plane, bias: b, activation: .relu, program: hardSwishChain, pixels: pixels)
                                }
                            }
                        }
                    }
                    assertClose(y, expected, relative: 1e-4, absolute: 1e-5, "\(label) under \(KernelISA.active)")
                    return y
                }
            }
        }
    }

    func testDirectConvMatchesNaiveLoopAtEveryBorder() throws {
        var random = TestRandom(seed: 7)
        // (kh, kw, padTop, padLeft, padBottom, padRight): PP-OCR's 3x3 and 1x3, a 5x5, asymmetric pads.
        let kernels = [(3, 3, 1, 1, 1, 1), (1, 3, 0, 1, 0, 1), (5, 5, 2, 2, 2, 2), (3, 3, 0, 2, 1, 0), (2, 2, 0, 0, 0, 0)]
        for (kh, kw, pt, pl, pb, pr) in kernels {
            for width in [1, 5, 16, 17, 48, 50, 97] {
                let (height, channels, outChannels) = (4, 3, 11)
                let oh = height + pt + pb - kh + 1, ow = width + pl + pr - kw + 1
                guard oh > 0, ow > 0 else { continue }
                let g = WindowGeometry(
                    height: height, width: width, kernelHeight: kh, kernelWidth: kw, padTop: pt, padLeft: pl,
                    outputHeight: oh, outputWidth: ow)
                let x = random.floats(channels * height * width), w = random.floats(outChannels * channels * kh * kw)
                let b = random.floats(outChannels)
                let packed = try w.withUnsafeBufferPointer { try PackedConvWeights($0, outChannels: outChannels, depth: channels * kh * kw) }
                let expected = naiveConv(x, channels: channels, g, w, outChannels: outChannels, bias: b).map { reference(hardSwishChain, $0) }
                let label = "conv2d \(kh)x\(kw) pads \(pt),\(pl),\(pb),\(pr) width \(width)"
                try assertVariantsClose(label, relative: 1e-5, absolute: 1e-6) {
                    var y = [Float](repeating: .nan, count: outChannels * oh * ow)
                    try x.withUnsafeBufferPointer { x in
                        try b.withUnsafeBufferPointer { b in
                            try y.withUnsafeMutableBufferPointer { y in
                                for rows in [0..<(oh / 2), (oh / 2)..<oh] {
                                    try F32Kernels.conv2d(
                                        packed, x, inChannels: channels, geometry: g, y, bias: b, activation: .none,
                                        program: hardSwishChain, rows: rows)
                                }
                            }
                        }
                    }
                    assertClose(y, expected, relative: 1e-4, absolute: 1e-5, "\(label) under \(KernelISA.active)")
                    return y
                }
            }
        }
    }

    func testDirectConvRejectsStridesAndMismatchedWeights() throws {
        let w = [Float](repeating: 1, count: 9)
        let packed = try w.withUnsafeBufferPointer { try PackedConvWeights($0, outChannels: 1, depth: 9) }
        let x = [Float](repeating: 1, count: 16)
        var y = [Float](repeating: 0, count: 16)
        func run(_ g: WindowGeometry, inChannels: Int = 1) throws {
            try x.withUnsafeBufferPointer { x in
                try y.withUnsafeMutableBufferPointer { y in
                    try F32Kernels.conv2d(packed, x, inChannels: inChannels, geometry: g, y, bias: nil, activation: .none, rows: 0..<1)
                }
            }
        }
        let strided = WindowGeometry(height: 4, width: 4, kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, outputHeight: 1, outputWidth: 1)
        XCTAssertThrowsError(try run(strided)) { XCTAssertTrue(($0 as? KernelError)?.message.contains("stride 1") == true, "\($0)") }
        let plain = WindowGeometry(height: 4, width: 4, kernelHeight: 3, kernelWidth: 3, outputHeight: 2, outputWidth: 2)
        XCTAssertThrowsError(try run(plain, inChannels: 2)) { XCTAssertTrue(($0 as? KernelError)?.message.contains("depth 9") == true, "\($0)") }
        XCTAssertNoThrow(try run(plain))
    }

    func testIm2colOfAnOutputBandIsThoseColumnsOfTheWholeMatrix() throws {
        var random = TestRandom(seed: 9)
        let channels = 2
        let g = WindowGeometry(
            height: 7, width: 9, kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 1, padTop: 1, padLeft: 1,
            outputHeight: 4, outputWidth: 9)
        let x = random.floats(channels * g.height * g.width)
        let rows = channels * 9, width = g.outputWidth
        try assertVariantsEqual("im2col bands") { () -> [Float] in
            var whole = [Float](repeating: .nan, count: rows * g.outputHeight * width)
            try x.withUnsafeBufferPointer { x in
                try whole.withUnsafeMutableBufferPointer { try F32Kernels.im2col(x, channels: channels, geometry: g, col: $0, rows: 0..<rows) }
            }
            for band in [0..<1, 1..<3, 3..<4] {
                var part = [Float](repeating: .nan, count: rows * band.count * width)
                try x.withUnsafeBufferPointer { x in
                    try part.withUnsafeMutableBufferPointer {
                        try F32Kernels.im2col(x, channels: channels, geometry: g, col: $0, rows: 0..<rows, outputRows: band)
                    }
                }
                for r in 0..<rows {
                    let expected = whole[(r * g.outputHeight + band.lowerBound) * width..<(r * g.outputHeight + band.upperBound) * width]
                    XCTAssertEqual(Array(part[(r * band.count * width)..<((r + 1) * band.count * width)]), Array(expected), "row \(r) band \(band)")
                }
            }
            XCTAssertThrowsError(try x.withUnsafeBufferPointer { x in
                try whole.withUnsafeMutableBufferPointer {
                    try F32Kernels.im2col(x, channels: channels, geometry: g, col: $0, rows: 0..<rows, outputRows: 3..<5)
                }
            })
            return whole
        }
    }

    func testDepthwiseConvRunsTheProgramAsASeparatePassWould() throws {
        var random = TestRandom(seed: 13)
        let (channels, height, width) = (3, 5, 37)
        let g = WindowGeometry(
            height: height, width: width, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, outputHeight: height, outputWidth: width)
        let x = random.floats(channels * height * width), w = random.floats(channels * 9), b = random.floats(channels)
        for (isa, pair) in try resultsPerISA({ () -> ([Float], [Float]) in
            var fused = [Float](repeating: .nan, count: channels * height * width), separate = fused
            try x.withUnsafeBufferPointer { x in
                try w.withUnsafeBufferPointer { w in
                    try b.withUnsafeBufferPointer { b in
                        try fused.withUnsafeMutableBufferPointer {
                            try F32Kernels.depthwiseConv(x, weights: w, bias: b, geometry: g, $0, channels: 0..<channels, activation: .none, program: hardSwishChain)
                        }
                        try separate.withUnsafeMutableBufferPointer {
                            try F32Kernels.depthwiseConv(x, weights: w, bias: b, geometry: g, $0, channels: 0..<channels, activation: .none)
                            hardSwishChain.apply($0)
                        }
                    }
                }
            }
            return (fused, separate)
        }) {
            XCTAssertEqual(pair.0, pair.1, "fused program on \(isa)")
        }
    }
}
