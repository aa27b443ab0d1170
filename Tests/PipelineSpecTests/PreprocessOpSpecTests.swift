import PipelineSpec
import XCTest

/// The preprocessing ops and arguments of the resize/letterbox/pad/to_tensor family.
final class PreprocessOpSpecTests: XCTestCase {
    private let path = "/pipelines/pre.yaml"

    private func ops(_ lines: String...) throws -> [OpSpec.Operation] {
        let yaml = "pipeline: p\ninputs: {image: jpeg}\nnodes:\n  - name: pre\n    ops:\n"
            + lines.map { "      - \($0)\n" }.joined()
        let spec = try PipelineSpec.parse(yaml: yaml, path: path)
        guard case .ops(let ops) = spec.nodes[0].body else { throw XCTSkip("not an ops node") }
        return ops.map(\.operation)
    }

    func testResizeMatchAntialiasAreaAndLetterbox() throws {
        XCTAssertEqual(
            try ops(
                "resize: {size: 224, match: pillow}", "resize: {shorter: 256, antialias: true}",
                "resize: {longer: 640, interpolation: area}", "resize: {size: [8, 9], match: opencv}",
                "resize: {letterbox: [640, 480], pad_value: 114, align: top_left, interpolation: nearest}"),
            [
                .resize(ResizeSpec(target: .size(height: 224, width: 224), antialias: true)),
                .resize(ResizeSpec(target: .shorter(256, maxSize: nil), antialias: true)),
                .resize(ResizeSpec(target: .longer(640), interpolation: .area)),
                .resize(ResizeSpec(target: .size(height: 8, width: 9))),
                .resize(
                    ResizeSpec(
                        target: .letterbox(height: 640, width: 480), interpolation: .nearest, padValue: 114,
                        alignment: .topLeft)),
            ])
    }

    func testSizeLimitsMultiplesAndTextLineResizes() throws {
        XCTAssertEqual(
            try ops(
                "resize: {longer_at_most: 960, multiple_of: 32}", "resize: {shorter_at_least: 736}", "resize: {multiple_of: 32}",
                "resize: {height: 48, min_width: 320}", "resize: {height: 48, min_width: 192, max_width: 192}",
                "pad: {min_width: 320}", "pad: {min_height: 8, min_width: 16, value: -1}"),
            [
                .resize(ResizeSpec(target: .longerAtMost(960, multipleOf: 32))),
                .resize(ResizeSpec(target: .shorterAtLeast(736, multipleOf: 1))),
                .resize(ResizeSpec(target: .multipleOf(32))),
                .resize(ResizeSpec(target: .height(48, minWidth: 320, maxWidth: 65_535))),
                .resize(ResizeSpec(target: .height(48, minWidth: 192, maxWidth: 192))),
                .pad(PadSpec(amount: .atLeast(height: 0, width: 320))),
                .pad(PadSpec(amount: .atLeast(height: 8, width: 16), value: [-1])),
            ])
    }

    func testPadAndToTensor() throws {
        XCTAssertEqual(
            try ops("pad: {multiple_of: 32}", "pad: {pads: [1, 2, 3, 4], value: [1, 2, 3]}", "to_tensor", "to_tensor: {layout: NCHW}"),
            [
                .pad(PadSpec(amount: .multipleOf(32))),
                .pad(PadSpec(amount: .pads(top: 1, left: 2, bottom: 3, right: 4), value: [1, 2, 3])),
                .toTensor(ToTensorSpec()),
                .toTensor(ToTensorSpec(layout: .nchw)),
            ])
    }

    private func assertError(_ line: String, _ fragment: String, file: StaticString = #filePath, line testLine: UInt = #line) {
        XCTAssertThrowsError(try ops(line), file: file, line: testLine) { error in
            XCTAssertTrue("\(error)".contains(fragment), "\(error)", file: file, line: testLine)
        }
    }

    func testContradictionsAreErrors() {
        assertError("resize: {size: 8, match: opencv, antialias: true}", "antialias: true only with match: pillow")
        assertError("resize: {size: 8, interpolation: nearest, match: pillow}", "only with interpolation: bilinear")
        assertError("resize: {size: 8, pad_value: 3}", "'pad_value' only together with 'letterbox'")
        assertError("resize: {letterbox: 8, size: 8}", "exactly one of size, shorter, longer, letterbox")
        assertError("pad: {multiple_of: 8, pads: [0, 0, 1, 1]}", "exactly one of multiple_of, pads")
        assertError("pad: {multiple_of: 0}", "an integer from 1 to 4096")
        assertError("to_tensor: {layout: HWC}", "CHW or NCHW")
        assertError("resize: {size: 8, antialias: maybe}", "true or false")
        assertError("resize: {size: 8, interpolation: lanczos, match: pillow}", "only with interpolation: bilinear")
        assertError("divide_by_max: {axis: 0}", "unknown key 'axis'")
        assertError("resize_like: {interpolation: cubic}", "lanczos")
    }

    /// The segmentation ops: Pillow's LANCZOS, the per-item scalings and the resize to another
    /// value's size.
    func testSegmentationOps() throws {
        XCTAssertEqual(
            try ops(
                "resize: {size: 320, interpolation: lanczos}", "divide_by_max", "min_max_normalize",
                "resize_like: {interpolation: lanczos}", "resize_like"),
            [
                .resize(ResizeSpec(target: .size(height: 320, width: 320), interpolation: .lanczos)),
                .divideByMax, .minMaxNormalize, .resizeLike(.lanczos), .resizeLike(.bilinear),
            ])
        XCTAssertEqual(OpSpec.Operation.resizeLike(.lanczos).operandCount, 2)
    }
}
