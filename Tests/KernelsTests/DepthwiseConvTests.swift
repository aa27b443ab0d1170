import Kernels
import XCTest

/// The direct depthwise convolution against a naive loop (on the selected ISA) and every ISA
/// against the scalar variant, at the tile edges of the 8- and 16-wide column blocks, for the
/// unrolled 3x3 / 5x5 stride-1 / stride-2 paths and the generic ones (other kernels, strides,
/// dilations, asymmetric padding).
final class DepthwiseConvTests: XCTestCase {
    private struct Case {
        var kernel: (h: Int, w: Int), stride: (h: Int, w: Int), dilation: (h: Int, w: Int) = (1, 1)
        var pads: (top: Int, left: Int, bottom: Int, right: Int)
    }

    private let cases: [Case] = [
        Case(kernel: (3, 3), stride: (1, 1), pads: (1, 1, 1, 1)),
        Case(kernel: (3, 3), stride: (2, 2), pads: (1, 1, 1, 1)),
        Case(kernel: (5, 5), stride: (1, 1), pads: (2, 2, 2, 2)),
        Case(kernel: (5, 5), stride: (2, 2), pads: (2, 2, 2, 2)),
        Case(kernel: (5, 5), stride: (2, 1), pads: (2, 2, 2, 2)),
        Case(kernel: (3, 3), stride: (1, 2), pads: (0, 0, 1, 1)),
        Case(kernel: (1, 7), stride: (1, 1), pads: (0, 3, 0, 3)),
        Case(kernel: (3, 3), stride: (3, 3), pads: (1, 1, 1, 1)),
        Case(kernel: (3, 3), stride: (1, 1), dilation: (2, 2), pads: (2, 2, 2, 2)),
        Case(kernel: (2, 2), stride: (2, 2), pads: (0, 0, 0, 0)),
    ]

    func testMatchesNaiveLoopAndScalarOnEveryISA() throws {
        var random = TestRandom(seed: 11)
        let channels = 3
        for c in cases {
            for width in [1, 4, 8, 9, 16, 17, 33] {
                let height = 6
                let outH = (height + c.pads.top + c.pads.bottom - ((c.kernel.h - 1) * c.dilation.h + 1)) / c.stride.h + 1
                let outW = (width + c.pads.left + c.pads.right - ((c.kernel.w - 1) * c.dilation.w + 1)) / c.stride.w + 1
                guard outH > 0, outW > 0 else { continue }
                let geometry = WindowGeometry(
                    height: height, width: width, kernelHeight: c.kernel.h, kernelWidth: c.kernel.w,
                    strideHeight: c.stride.h, strideWidth: c.stride.w, padTop: c.pads.top, padLeft: c.pads.left,
                    dilationHeight: c.dilation.h, dilationWidth: c.dilation.w, outputHeight: outH, outputWidth: outW)
                let x = random.floats(channels * height * width)
                let weights = random.floats(channels * c.kernel.h * c.kernel.w)
                let bias = random.floats(channels)
                let label = "dwconv \(c) width \(width)"
                for activation in [Activation.none, .clip(lo: 0, hi: 0.5)] {
                    let compute = { () throws -> [Float] in
                        var y = [Float](repeating: .nan, count: channels * outH * outW)
                        try x.withUnsafeBufferPointer { x in
                            try weights.withUnsafeBufferPointer { w in
                                try bias.withUnsafeBufferPointer { b in
                                    try y.withUnsafeMutableBufferPointer { y in
                                        // Two tiles of channels, as threads would split them.
                                        try F32Kernels.depthwiseConv(x, weights: w, bias: b, geometry: geometry, y, channels: 0..<1, activation: activation)
                                        try F32Kernels.depthwiseConv(x, weights: w, bias: b, geometry: geometry, y, channels: 1..<channels, activation: activation)
                                    }
                                }
                            }
                        }
                        return y
                    }
                    try assertVariantsClose(label, relative: 1e-5, absolute: 1e-6, compute)
                    let naive = naiveDepthwise(x, weights, bias, channels: channels, geometry, activation)
                    assertClose(try compute(), naive, relative: 1e-5, absolute: 1e-6, label)
                }
            }
        }
    }

    func testRejectsChannelsBeyondTheBuffers() {
        let geometry = WindowGeometry(height: 4, width: 4, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, outputHeight: 4, outputWidth: 4)
        var y = [Float](repeating: 0, count: 16)
        let x = [Float](repeating: 1, count: 16), w = [Float](repeating: 1, count: 9)
        XCTAssertThrowsError(try x.withUnsafeBufferPointer { x in
            try w.withUnsafeBufferPointer { w in
                try y.withUnsafeMutableBufferPointer { y in
                    try F32Kernels.depthwiseConv(x, weights: w, bias: nil, geometry: geometry, y, channels: 0..<2, activation: .none)
                }
            }
        }) { error in
            XCTAssertTrue("\(error)".contains("dwconv"), "\(error)")
        }
    }

    private func naiveDepthwise(
        _ x: [Float], _ w: [Float], _ b: [Float], channels: Int, _ g: WindowGeometry, _ activation: Activation
    ) -> [Float] {
        var y: [Float] = []
        for c in 0..<channels {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    var sum = b[c]
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth {
                            let iy = oy * g.strideHeight + ky * g.dilationHeight - g.padTop
                            let ix = ox * g.strideWidth + kx * g.dilationWidth - g.padLeft
                            guard (0..<g.height).contains(iy), (0..<g.width).contains(ix) else { continue }
                            sum += w[(c * g.kernelHeight + ky) * g.kernelWidth + kx] * x[(c * g.height + iy) * g.width + ix]
                        }
                    }
                    if case .clip(let lo, let hi) = activation { sum = min(max(sum, lo), hi) }
                    y.append(sum)
                }
            }
        }
        return y
    }
}
