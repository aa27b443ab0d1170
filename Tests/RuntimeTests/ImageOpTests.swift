import Foundation
import IR
@testable import Runtime
import TestSupport
import XCTest

/// Image ops: resize against OpenCV's formula written out naively, the fused preprocess
/// against the unfused chain, decoding, crop, colour and cast.
final class ImageOpTests: XCTestCase {
    /// cv2.resize INTER_LINEAR on u8, written from OpenCV's definition: half-pixel centres,
    /// scale 1 / (dst / src) in double, 11-bit weights each rounded on its own, and its
    /// rounding of the vertical blend. At the borders, columns reset their weight to the edge
    /// pixel while rows only clamp their indices (OpenCV treats the two axes differently).
    private func naiveBilinear(_ src: [UInt8], h: Int, w: Int, c: Int, outH: Int, outW: Int) -> [UInt8] {
        func taps(_ d: Int, _ size: Int, _ outSize: Int, resetWeights: Bool) -> (Int, Int, Int, Int) {
            var f = Float((Double(d) + 0.5) * (1 / (Double(outSize) / Double(size))) - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            var (lo, hi) = (s, s + 1)
            if resetWeights {
                if s < 0 { (s, f) = (0, 0); (lo, hi) = (0, 0) }
                if s >= size - 1 { f = 0; (lo, hi) = (size - 1, size - 1) }
            }
            lo = min(max(lo, 0), size - 1)
            hi = min(max(hi, 0), size - 1)
            return (lo, hi, Int(((1 - f) * 2048).rounded(.toNearestOrEven)), Int((f * 2048).rounded(.toNearestOrEven)))
        }
        var out = [UInt8](repeating: 0, count: outH * outW * c)
        for dy in 0..<outH {
            let (y0, y1, b0, b1) = taps(dy, h, outH, resetWeights: false)
            for dx in 0..<outW {
                let (x0, x1, a0, a1) = taps(dx, w, outW, resetWeights: true)
                for ch in 0..<c {
                    func row(_ y: Int) -> Int { Int(src[(y * w + x0) * c + ch]) * a0 + Int(src[(y * w + x1) * c + ch]) * a1 }
                    let v = ((((row(y0) >> 4) * b0) >> 16) + (((row(y1) >> 4) * b1) >> 16) + 2) >> 2
                    out[(dy * outW + dx) * c + ch] = UInt8(clamping: v)
                }
            }
        }
        return out
    }

    private func imageGraph(_ h: Int, _ w: Int, _ c: Int = 3, _ body: (inout Graph, ValueID) throws -> ValueID) throws -> Executable {
        var g = Graph(name: "image")
        let x = g.addInput(name: "image", type: TensorType(.u8, [.symbol("h"), .symbol("w"), .known(c)], layout: .hwc))
        g.outputs = [try body(&g, x)]
        return try Executable(graph: g)
    }

    func testResizeMatchesOpenCVBilinearFormula() throws {
        let exe = try imageGraph(0, 0) { g, x in try g.append(.resize, [x], attributes: ["size": .ints([13, 9])], name: "y")[0] }
        for (h, w) in [(29, 17), (7, 5)] {
            let src = Noise.bytes(h * w * 3, seed: UInt32(h))
            let out = try exe.run(inputs: [Tensor(shape: [h, w, 3], bytes: src)]).outputs[0]
            XCTAssertEqual(out.shape, [13, 9, 3])
            XCTAssertEqual(out.data, TensorData.u8(naiveBilinear(src, h: h, w: w, c: 3, outH: 13, outW: 9)), "\(h)x\(w) → 13x9")
        }
    }

    /// For OpenCV's bilinear and Pillow's LANCZOS and BILINEAR (whose columns-first order the
    /// 200×47 image takes), the crop becoming the resize's region of interest.
    func testFusedPreprocessEqualsUnfusedChain() throws {
        for resize: Attributes in [["shorter": .int(40)], ["shorter": .int(40), "interpolation": .string("lanczos")],
                                   ["shorter": .int(40), "antialias": .int(1)]] {
            try assertFusedPreprocessEqualsUnfusedChain(resize)
        }
    }

    private func assertFusedPreprocessEqualsUnfusedChain(_ resize: Attributes) throws {
        // Channel statistics in BGR order, the order of the image they normalize.
        let mean: [Float] = [0.406, 0.456, 0.485], std: [Float] = [0.225, 0.224, 0.229], scale: Float = 1 / 255
        let unfused = try imageGraph(0, 0) { g, x in
            let resized = try g.append(.resize, [x], attributes: resize, name: "resized")[0]
            let cropped = try g.append(.crop, [resized], attributes: ["size": .ints([32, 32])], name: "cropped")[0]
            let bgr = try g.append(.convertColor, [cropped], attributes: ["from": .string("rgb"), "to": .string("bgr")], name: "bgr")[0]
            let floats = try g.append(.cast, [bgr], attributes: ["to": .string("f32")], name: "floats")[0]
            let normalized = try g.append(.normalize, [floats], attributes: ["scale": .float(scale), "mean": .floats(mean), "std": .floats(std)], name: "normalized")[0]
            let chw = try g.append(.transpose, [normalized], attributes: ["perm": .ints([2, 0, 1])], name: "chw")[0]
            return try g.append(.unsqueeze, [chw], attributes: ["axes": .ints([0])], name: "nchw")[0]
        }
        var attributes = resize
        for (key, value) in [
            "crop_size": Attribute.ints([32, 32]), "channels": .ints([2, 1, 0]), "layout": .string("NCHW"),
            "scale": .floats(std.map { scale / $0 }), "bias": .floats(zip(mean, std).map { -$0 / $1 }),
        ] {
            attributes[key] = value
        }
        let fused = try imageGraph(0, 0) { g, x in try g.append(.preprocess, [x], attributes: attributes, name: "input")[0] }
        for (h, w) in [(61, 47), (50, 90), (200, 47)] {
            let image = Tensor(shape: [h, w, 3], bytes: Noise.bytes(h * w * 3, seed: UInt32(h * w)))
            let expected = try unfused.run(inputs: [image]).outputs[0]
            let actual = try fused.run(inputs: [image]).outputs[0]
            XCTAssertEqual(actual.shape, [1, 3, 32, 32])
            XCTAssertEqual(expected.shape, actual.shape)
            let worst = zip(actual.floats, expected.floats).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-5, "\(h)x\(w) \(resize)")
        }
    }

    func testDecodeJPEGMatchesReferencePixelsAndReportsErrors() throws {
        let jpeg = try [UInt8](Data(contentsOf: TestPaths.testData("chelsea-small.jpg")))
        let reference = try [UInt8](Data(contentsOf: TestPaths.testData("chelsea-small.rgb")))
        var g = Graph(name: "decode")
        let bytes = g.addInput(name: "bytes", type: TensorType(.u8, [.symbol("n")]))
        let image = try g.append(.decodeJPEG, [bytes], name: "image")[0]
        g.outputs = [try g.append(.crop, [image], attributes: ["box": .ints([0, 0, 100, 150])], name: "same")[0]]
        let exe = try Executable(graph: g)
        let run = try exe.run(inputs: [Tensor(shape: [jpeg.count], bytes: jpeg)], capture: ["image"])
        XCTAssertEqual(run.outputs[0].data, .u8(reference))
        XCTAssertEqual(run.captured["image"]?.shape, [100, 150, 3])
        XCTAssertEqual(run.profile.entries.map(\.category), [.decode, .preprocess])

        // A longer byte string of the same image size reuses the plan: only the header counts.
        _ = try exe.run(inputs: [Tensor(shape: [jpeg.count + 3], bytes: jpeg + [0, 0, 0])])
        XCTAssertEqual(exe.cachedPlanCount, 2, "capture set differs from the first run, the size does not")
        _ = try exe.run(inputs: [Tensor(shape: [jpeg.count], bytes: jpeg)])
        XCTAssertEqual(exe.cachedPlanCount, 2)

        // Neither a JPEG nor a PNG: the JPEG decoder names what it found.
        let gif = Array("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8)
        XCTAssertThrowsError(try exe.run(inputs: [Tensor(shape: [gif.count], bytes: gif)])) { error in
            XCTAssertTrue("\(error)".contains("%image") && "\(error)".contains("GIF"), "\(error)")
        }
        var limited = Graph(name: "limited")
        let input = limited.addInput(name: "bytes", type: TensorType(.u8, [.symbol("n")]))
        limited.outputs = [try limited.append(.decodeJPEG, [input], attributes: ["max_pixels": .int(1000)], name: "image")[0]]
        let decodeOnly = try Executable(graph: limited)
        XCTAssertThrowsError(try decodeOnly.run(inputs: [Tensor(shape: [jpeg.count], bytes: jpeg)])) { error in
            XCTAssertTrue("\(error)".contains("150x100") && "\(error)".contains("max_pixels 1000"), "\(error)")
        }
        // The same node takes a PNG (8×8 here); cut short, it is the PNG decoder's error.
        let png = try [UInt8](Data(contentsOf: TestPaths.testData("not-a-jpeg.png")))
        XCTAssertEqual(try decodeOnly.run(inputs: [Tensor(shape: [png.count], bytes: png)]).outputs[0].shape, [8, 8, 3])
        XCTAssertThrowsError(try decodeOnly.run(inputs: [Tensor(shape: [png.count - 20], bytes: Array(png.dropLast(20)))])) { error in
            XCTAssertTrue("\(error)".contains("%image") && "\(error)".contains("PNG decode"), "\(error)")
        }
    }

    func testCropConvertColorAndCast() throws {
        let pixels: [UInt8] = (0..<(4 * 5 * 3)).map { UInt8($0 * 4) }
        let gray = try imageGraph(4, 5) { g, x in
            let cropped = try g.append(.crop, [x], attributes: ["box": .ints([1, 2, 2, 3])], name: "crop")[0]
            return try g.append(.convertColor, [cropped], attributes: ["from": .string("rgb"), "to": .string("gray")], name: "gray")[0]
        }
        let out = try gray.run(inputs: [Tensor(shape: [4, 5, 3], bytes: pixels)]).outputs[0]
        XCTAssertEqual(out.shape, [2, 3, 1])
        let expected = [(1, 2), (1, 3), (1, 4), (2, 2), (2, 3), (2, 4)].map { y, x -> UInt8 in
            let p = (y * 5 + x) * 3
            let red: Float = 0.299 * Float(pixels[p]), green: Float = 0.587 * Float(pixels[p + 1])
            let blue: Float = 0.114 * Float(pixels[p + 2])
            return UInt8((red + green + blue).rounded())
        }
        XCTAssertEqual(out.data, .u8(expected))

        let floats: [Float] = [-3.7, 0.2, 255.9, 300, .nan, -1e10]
        let cast = try runSingle(input: Tensor(shape: [6], floats: floats)) { g, x in
            try g.append(.cast, [x], attributes: ["to": .string("u8")], name: "y")[0]
        }
        XCTAssertEqual(cast.data, .u8([0, 0, 255, 255, 0, 0]))
    }

    /// `divide_by_max` and `min_max_normalize` work per item: an HWC image is one, a `[N, …]`
    /// value has N; an all-zero item (divide) or a flat one (min-max) gives zeros, not NaN.
    func testDivideByMaxAndMinMaxNormalizePerItem() throws {
        let pixels: [UInt8] = [0, 10, 200, 50, 100, 25]
        let divided = try runSingle(input: Tensor(shape: [1, 2, 3], bytes: pixels), layout: .hwc) { g, x in
            try g.append(.divideByMax, [x], attributes: [:], name: "y")[0]
        }
        XCTAssertEqual(divided.data, .f32(pixels.map { Float($0) / 200 }))
        let zeros = try runSingle(input: Tensor(shape: [1, 1, 3], bytes: [0, 0, 0]), layout: .hwc) { g, x in
            try g.append(.divideByMax, [x], attributes: [:], name: "y")[0]
        }
        XCTAssertEqual(zeros.data, .f32([0, 0, 0]))

        let batch: [Float] = [1, 3, 2, 5, -4, -4, -4, -4]
        let stretched = try runSingle(input: Tensor(shape: [2, 1, 2, 2], floats: batch), layout: .nchw) { g, x in
            try g.append(.minMaxNormalize, [x], attributes: [:], name: "y")[0]
        }
        XCTAssertEqual(stretched.data, .f32([0, 0.5, 0.25, 1, 0, 0, 0, 0]))
        XCTAssertThrowsError(try runSingle(input: Tensor(shape: [2], bytes: [1, 2])) { g, x in
            try g.append(.minMaxNormalize, [x], attributes: [:], name: "y")[0]
        })
    }

    /// `resize_like` gives the first image the second's height and width, with the same
    /// arithmetic as a `resize` to that size (Pillow's LANCZOS here, up and down).
    func testResizeLikeTakesTheOtherImagesSize() throws {
        for (h, w) in [(23, 41), (5, 3)] {
            var g = Graph(name: "resize_like")
            let mask = g.addInput(name: "mask", type: TensorType(.u8, [.known(11), .known(13), .known(1)], layout: .hwc))
            let photo = g.addInput(name: "photo", type: TensorType(.u8, [.symbol("h"), .symbol("w"), .known(3)], layout: .hwc))
            let attributes: Attributes = ["interpolation": .string("lanczos")]
            g.outputs = [try g.append(.resizeLike, [mask, photo], attributes: attributes, name: "y")[0]]
            var direct = Graph(name: "resize")
            let x = direct.addInput(name: "mask", type: TensorType(.u8, [.known(11), .known(13), .known(1)], layout: .hwc))
            var sized = attributes
            sized["size"] = .ints([h, w])
            direct.outputs = [try direct.append(.resize, [x], attributes: sized, name: "y")[0]]

            let pixels = Noise.bytes(11 * 13, seed: 7)
            let inputs = [Tensor(shape: [11, 13, 1], bytes: pixels), Tensor(shape: [h, w, 3], bytes: [UInt8](repeating: 0, count: h * w * 3))]
            let out = try Executable(graph: g).run(inputs: inputs).outputs[0]
            XCTAssertEqual(out.shape, [h, w, 1])
            XCTAssertEqual(out, try Executable(graph: direct).run(inputs: [inputs[0]]).outputs[0], "\(h)x\(w)")
        }
    }

    /// `cutout` is Pillow's `Image.composite(photo, transparent black, mask)` (rembg's cut-out):
    /// values measured with Pillow 13, and a mask of another size is an error naming both sizes.
    func testCutoutMatchesPillowsComposite() throws {
        var g = Graph(name: "cutout")
        let photo = g.addInput(name: "photo", type: TensorType(.u8, [.symbol("h"), .symbol("w"), .known(3)], layout: .hwc))
        let mask = g.addInput(name: "mask", type: TensorType(.u8, [.symbol("mh"), .symbol("mw"), .known(1)], layout: .hwc))
        g.outputs = [try g.append(.cutout, [photo, mask], attributes: [:], name: "y")[0]]
        let exe = try Executable(graph: g)
        let out = try exe.run(inputs: [Tensor(shape: [1, 2, 3], bytes: [200, 100, 50, 10, 20, 30]), Tensor(shape: [1, 2, 1], bytes: [128, 255])])
        XCTAssertEqual(out.outputs[0], Tensor(shape: [1, 2, 4], bytes: [100, 50, 25, 128, 10, 20, 30, 255]))
        XCTAssertThrowsError(try exe.run(inputs: [Tensor(shape: [1, 2, 3], bytes: [1, 2, 3, 4, 5, 6]), Tensor(shape: [2, 1, 1], bytes: [1, 2])])) { error in
            XCTAssertTrue("\(error)".contains("not the image's size"), "\(error)")
        }
    }
}
