import Kernels
import XCTest

final class ResizeTests: XCTestCase {
    private func resize(
        _ src: [UInt8], srcH: Int, srcW: Int, channels: Int, dstH: Int, dstW: Int, roi: PixelRect? = nil,
        _ interpolation: Interpolation, rowSplit: Int = 0, padding: Int = 0
    ) throws -> [UInt8] {
        let plan = try ResizePlan(
            sourceHeight: srcH, sourceWidth: srcW, resizedHeight: dstH, resizedWidth: dstW, roi: roi,
            interpolation: interpolation)
        // Rows padded by `padding` bytes on both sides check the strides are honoured.
        let rowBytes = plan.roi.width * channels
        var dst = [UInt8](repeating: 0xAB, count: plan.roi.height * (rowBytes + padding))
        try src.withUnsafeBufferPointer { src in
            try dst.withUnsafeMutableBufferPointer { dst in
                for rows in [0..<rowSplit, rowSplit..<plan.roi.height] {
                    try plan.resize(
                        src, sourceStride: srcW * channels, channels: channels, into: dst,
                        destinationStride: rowBytes + padding, rows: rows)
                }
            }
        }
        return (0..<plan.roi.height).flatMap { y in dst[(y * (rowBytes + padding))..<(y * (rowBytes + padding) + rowBytes)] }
    }

    /// 2x2 -> 4x4 by hand from OpenCV's formulas: x taps (weights of 2048) are (2048,0) (1536,512)
    /// (512,1536) (2048,0), clamped at both borders; y weights are not clamped: rows (0,0) with
    /// (512,1536), (0,1) (1536,512), (0,1) (512,1536), (1,1) (1536,512).
    func testBilinearTwoByTwoUpscaleByHand() throws {
        let expected: [UInt8] = [
            0, 25, 75, 100,
            50, 59, 76, 85,
            150, 126, 79, 55,
            200, 160, 80, 40,
        ]
        for (isa, value) in try resultsPerISA({
            try resize([0, 100, 200, 40], srcH: 2, srcW: 2, channels: 1, dstH: 4, dstW: 4, .bilinear)
        }) {
            XCTAssertEqual(value, expected, "\(isa)")
        }
    }

    func testNearestByHand() throws {
        // 3 -> 5 columns: sx = floor(dx * 0.6) = 0 0 1 1 2; 2 -> 1 row: row 0.
        let got = try resize([1, 2, 3, 4, 5, 6], srcH: 2, srcW: 3, channels: 1, dstH: 1, dstW: 5, .nearest)
        XCTAssertEqual(got, [1, 1, 2, 2, 3])
    }

    func testMatchesOpenCVReferences() throws {
        for ref in ResizeReference.all {
            let roi = PixelRect(y: ref.roi.y, x: ref.roi.x, height: ref.roi.height, width: ref.roi.width)
            for (isa, value) in try resultsPerISA({
                try resize(
                    ref.source, srcH: ref.srcH, srcW: ref.srcW, channels: ref.channels, dstH: ref.dstH, dstW: ref.dstW,
                    roi: roi, ref.interpolation, rowSplit: roi.height / 2, padding: 3)
            }) {
                XCTAssertEqual(value, ref.expected, "\(ref.srcH)x\(ref.srcW)x\(ref.channels) -> \(ref.dstH)x\(ref.dstW) \(roi) \(isa)")
            }
        }
    }

    /// Shapes around the vector widths, both directions, ROIs at every border, channel counts
    /// 1/3/4 and odd ones, and a width past the driver's column chunk.
    private var shapes: [(srcH: Int, srcW: Int, dstH: Int, dstW: Int, roi: PixelRect?)] {
        [
            (5, 7, 3, 4, nil), (3, 3, 17, 33, nil), (16, 16, 8, 8, nil), (9, 31, 20, 17, nil),
            (40, 23, 7, 100, nil), (2, 900, 3, 1300, nil), (1, 1, 4, 5, nil), (30, 1, 7, 9, nil),
            (20, 30, 40, 60, PixelRect(y: 0, x: 0, height: 5, width: 9)),
            (20, 30, 40, 60, PixelRect(y: 35, x: 51, height: 5, width: 9)),
            (33, 17, 15, 40, PixelRect(y: 3, x: 20, height: 12, width: 20)),
        ]
    }

    func testVariantsMatchScalarAcrossShapes() throws {
        var random = TestRandom(seed: 8)
        for shape in shapes {
            for channels in [1, 2, 3, 4, 5] {
                let src = random.bytes(shape.srcH * shape.srcW * channels)
                for interpolation in Interpolation.allCases {
                    try assertVariantsEqual("resize \(shape) c=\(channels) \(interpolation)") {
                        try resize(
                            src, srcH: shape.srcH, srcW: shape.srcW, channels: channels, dstH: shape.dstH,
                            dstW: shape.dstW, roi: shape.roi, interpolation, rowSplit: 1, padding: 1)
                    }
                }
            }
        }
    }

    /// The fused kernel must equal resize, then u8->f32, then the per-channel affine, then (for
    /// planar output) the HWC->CHW transpose, all bit for bit.
    func testFusedPreprocessEqualsUnfusedPipeline() throws {
        var random = TestRandom(seed: 9)
        let configurations: [(srcChannels: Int, map: [Int32])] = [
            (3, [2, 1, 0]), (4, [0, 1, 2]), (1, [0, 0, 0]), (3, [1]), (5, [4, 0, 2, 3]),
        ]
        for shape in shapes.prefix(7) + shapes.suffix(2) {
            for config in configurations {
                let src = random.bytes(shape.srcH * shape.srcW * config.srcChannels)
                let scale = random.floats(config.map.count, 0.001, 0.05), bias = random.floats(config.map.count, -3, 3)
                for interpolation in Interpolation.allCases {
                    let resized = try resize(
                        src, srcH: shape.srcH, srcW: shape.srcW, channels: config.srcChannels, dstH: shape.dstH,
                        dstW: shape.dstW, roi: shape.roi, interpolation)
                    let pixels = resized.count / config.srcChannels
                    let selected = (0..<(pixels * config.map.count)).map { i in
                        Float(resized[(i / config.map.count) * config.srcChannels + Int(config.map[i % config.map.count])])
                    }
                    var hwc = [Float](repeating: 0, count: selected.count)
                    try selected.withUnsafeBufferPointer { x in
                        try hwc.withUnsafeMutableBufferPointer {
                            try F32Kernels.channelAffineHWC(x, $0, pixels: 0..<pixels, scale: scale, bias: bias)
                        }
                    }
                    let height = shape.roi?.height ?? shape.dstH, width = pixels / height
                    var chw = hwc
                    try hwc.withUnsafeBufferPointer { x in
                        try chw.withUnsafeMutableBufferPointer {
                            try F32Kernels.hwcToCHW(
                                x, $0, height: height, width: width, channels: config.map.count, rows: 0..<height)
                        }
                    }
                    let plan = try ResizePlan(
                        sourceHeight: shape.srcH, sourceWidth: shape.srcW, resizedHeight: shape.dstH,
                        resizedWidth: shape.dstW, roi: shape.roi, interpolation: interpolation)
                    for planar in [false, true] {
                        try assertVariantsEqual("preprocess \(shape) \(config) \(interpolation) planar=\(planar)") {
                            var fused = [Float](repeating: .nan, count: hwc.count)
                            try src.withUnsafeBufferPointer { src in
                                try fused.withUnsafeMutableBufferPointer { dst in
                                    for rows in [0..<(height / 2), (height / 2)..<height] {
                                        try plan.preprocess(
                                            src, sourceStride: shape.srcW * config.srcChannels,
                                            sourceChannels: config.srcChannels, channelMap: config.map, scale: scale,
                                            bias: bias, planar: planar, into: dst, rows: rows)
                                    }
                                }
                            }
                            XCTAssertEqual(fused, planar ? chw : hwc, "fused != unfused under \(KernelISA.active)")
                            return fused
                        }
                    }
                }
            }
        }
    }

    func testBadArgumentsAreReported() {
        XCTAssertThrowsError(
            try ResizePlan(
                sourceHeight: 4, sourceWidth: 4, resizedHeight: 8, resizedWidth: 8,
                roi: PixelRect(y: 4, x: 0, height: 5, width: 2), interpolation: .bilinear)
        ) { XCTAssertEqual(($0 as? KernelError)?.message, "roi PixelRect(y: 4, x: 0, height: 5, width: 2) is not inside the resized image 8x8") }
        XCTAssertThrowsError(
            try ResizePlan(sourceHeight: 0, sourceWidth: 4, resizedHeight: 8, resizedWidth: 8, interpolation: .nearest))
        XCTAssertThrowsError(
            try resize([UInt8](repeating: 0, count: 11), srcH: 2, srcW: 2, channels: 3, dstH: 2, dstW: 2, .nearest)
        ) { XCTAssertEqual(($0 as? KernelError)?.message, "source holds 11 elements, needs at least 12") }
        XCTAssertThrowsError(try {
            let plan = try ResizePlan(sourceHeight: 2, sourceWidth: 2, resizedHeight: 2, resizedWidth: 2, interpolation: .nearest)
            var dst = [Float](repeating: 0, count: 4)
            try [UInt8](repeating: 0, count: 4).withUnsafeBufferPointer { src in
                try dst.withUnsafeMutableBufferPointer {
                    try plan.preprocess(
                        src, sourceStride: 2, sourceChannels: 1, channelMap: [1], scale: [1], bias: [0], planar: true,
                        into: $0, rows: 0..<2)
                }
            }
        }()) { XCTAssertEqual(($0 as? KernelError)?.message, "channel map entry 1 is outside 0..<1") }
    }
}
