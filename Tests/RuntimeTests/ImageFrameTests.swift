import IR
import Runtime
import XCTest

/// letterbox and pad_spatial on small images checked by hand.
final class ImageFrameTests: XCTestCase {
    func testLetterboxCentresThePaddedImageAndReportsScaleAndOffset() throws {
        let text = """
            graph g(%img: u8[2,4,1] HWC) {
              %l : u8[4,4,1] HWC, %l.box : f32[4] = letterbox(%img) {align="center", interpolation="nearest", pad_value=7.0, size=[4,4]}
              %p : u8[5,5,1] HWC = pad_spatial(%l) {multiple_of=5, value=[3.0]}
              return %p, %l.box
            }
            """
        let graph = try IRParser.parse(text, weights: [:])
        let image = Tensor(shape: [2, 4, 1], bytes: [10, 11, 12, 13, 20, 21, 22, 23])
        let outputs = try Executable(graph: graph, options: RuntimeOptions(threads: 2)).run(inputs: [image]).outputs
        XCTAssertEqual(outputs[0].shape, [5, 5, 1])
        XCTAssertEqual(
            outputs[0].data,
            .u8([
                7, 7, 7, 7, 3,
                10, 11, 12, 13, 3,
                20, 21, 22, 23, 3,
                7, 7, 7, 7, 3,
                3, 3, 3, 3, 3,
            ]))
        // Scale 1 on both axes, image at row 1, column 0.
        XCTAssertEqual(outputs[1].floats, [1, 1, 1, 0])
    }

    func testLetterboxTopLeftDownscalesTheLongerSide() throws {
        let text = """
            graph g(%img: u8[4,8,3] HWC) {
              %l : u8[4,4,3] HWC, %l.box : f32[4] = letterbox(%img) {align="top_left", interpolation="area", pad_value=0.0, size=[4,4]}
              return %l, %l.box
            }
            """
        let graph = try IRParser.parse(text, weights: [:])
        let image = Tensor(shape: [4, 8, 3], bytes: Array(repeating: 200, count: 96))
        let outputs = try Executable(graph: graph, options: RuntimeOptions(threads: 1)).run(inputs: [image]).outputs
        guard case .u8(let pixels) = outputs[0].data else { return XCTFail("expected u8") }
        // 4x8 fits as 2x4 at the top: rows 0-1 hold the (uniform) image, rows 2-3 the padding.
        XCTAssertEqual(Array(pixels[0..<24]), Array(repeating: 200, count: 24))
        XCTAssertEqual(Array(pixels[24...]), Array(repeating: 0, count: 24))
        XCTAssertEqual(outputs[1].floats, [0.5, 0.5, 0, 0])
    }

    func testPadSpatialOnPlanarFloatsUsesOneValuePerChannel() throws {
        let text = """
            graph g(%x: f32[1,2,1,2] NCHW) {
              %p : f32[1,2,2,3] NCHW = pad_spatial(%x) {pads=[1,0,0,1], value=[-1.0,-2.0]}
              return %p
            }
            """
        let graph = try IRParser.parse(text, weights: [:])
        let outputs = try Executable(graph: graph, options: RuntimeOptions(threads: 1))
            .run(inputs: [Tensor(shape: [1, 2, 1, 2], floats: [1, 2, 3, 4])]).outputs
        XCTAssertEqual(outputs[0].floats, [-1, -1, -1, 1, 2, -1, -2, -2, -2, 3, 4, -2])
    }
}
