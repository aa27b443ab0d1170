import IR
import Passes
import Runtime
import TestSupport
import XCTest

/// fold-normalize, cancel-transposes and decode-scale: what they rewrite, and that the
/// exact ones keep results.
final class PreprocessFoldTests: XCTestCase {
    private func run(_ graph: Graph, _ inputs: [Tensor]) throws -> [Tensor] {
        try Executable(graph: graph, options: RuntimeOptions(threads: 2)).run(inputs: inputs).outputs
    }

    private func rewrite(_ graph: Graph, _ pass: any Pass, fidelity: Fidelity = .exact) throws -> (Graph, PassReport) {
        let (result, reports) = try PassManager(passes: [pass], fidelity: fidelity, verifyEach: true).run(graph)
        return (result, reports[0])
    }

    /// An 8x8 image whose border is white and black (far from the mean), noise inside.
    private func borderedImage() -> Tensor {
        var noise = UInt32(12345)
        var pixels: [UInt8] = []
        for y in 0..<8 {
            for x in 0..<8 {
                for c in 0..<3 {
                    noise = noise &* 1_664_525 &+ 1_013_904_223
                    let border = y == 0 || x == 0 || y == 7 || x == 7
                    pixels.append(border ? (c == 1 ? 0 : 255) : UInt8(truncatingIfNeeded: noise >> 24))
                }
            }
        }
        return Tensor(shape: [8, 8, 3], bytes: pixels)
    }

    private static let normalizedConv = """
        graph g(%img: u8[8,8,3] HWC) {
          %p : f32[1,3,8,8] NCHW = preprocess(%img) {bias=[-2.1179,-2.0357,-1.8044], channels=[0,1,2], layout="NCHW", scale=[0.0171248,0.017507,0.0174292]}
          %w : f32[4,3,3,3] = const @w
          %b : f32[4] = const @b
          %c : f32[1,4,8,8] NCHW = conv(%p, %w, %b) {pads=[1,1,1,1]}
          %w2 : f32[2,3,3,3] = const @w2
          %c2 : f32[1,2,4,4] NCHW = conv(%p, %w2) {pads=[1,1,1,1], strides=[2,2]}
          return %c, %c2
        }
        """

    func testFoldNormalizePadsWithTheRawMeanAndKeepsResultsAtBordersThatAreNotTheMean() throws {
        let graph = try IRParser.parse(Self.normalizedConv, weights: [:], synthesizeMissingWeights: true)
        let (folded, report) = try rewrite(graph, FoldNormalizePass())
        XCTAssertEqual(report.statistics["folded normalize into # convs"], 2)
        let pad = try XCTUnwrap(folded.nodes.first { $0.op == .padSpatial })
        let means = try XCTUnwrap(pad.attributes.floats("value"))
        for (mean, expected) in zip(means, [0.485 * 255, 0.456 * 255, 0.406 * 255]) {
            XCTAssertEqual(Double(mean), expected, accuracy: 0.05, "raw-space mean")
        }
        XCTAssertTrue(folded.nodes.filter { $0.op == .conv }.allSatisfy { $0.attributes.ints("pads") == [0, 0, 0, 0] })

        let image = borderedImage()
        let expected = try run(graph, [image]), actual = try run(folded, [image])
        for (a, e) in zip(actual, expected) {
            XCTAssertEqual(a.shape, e.shape)
            XCTAssertNil(allcloseFailure(a.floats, e.floats, rtol: 1e-4, atol: 1e-4))
        }

        // The same fold padding with 0 (what a naive fold does) is wrong at the border.
        var zeroPadded = folded
        let padIndex = try XCTUnwrap(zeroPadded.nodes.firstIndex { $0.op == .padSpatial })
        zeroPadded.nodes[padIndex].attributes["value"] = .floats([0])
        let wrong = try run(zeroPadded, [image])
        XCTAssertNotNil(allcloseFailure(wrong[0].floats, expected[0].floats, rtol: 1e-2, atol: 1e-2))
    }

    func testFoldNormalizeLeavesNonConvUsersAlone() throws {
        let text = """
            graph g(%img: u8[4,4,3] HWC) {
              %p : f32[1,3,4,4] NCHW = preprocess(%img) {bias=[-1,-1,-1], channels=[0,1,2], layout="NCHW", scale=[0.5,0.5,0.5]}
              %r : f32[1,3,4,4] NCHW = relu(%p)
              return %r
            }
            """
        let graph = try IRParser.parse(text, weights: [:])
        let (result, report) = try rewrite(graph, FoldNormalizePass())
        XCTAssertFalse(report.changed)
        XCTAssertEqual(result.nodes, graph.nodes)
    }

    func testPreprocessWritesTheLayoutTheModelTransposesTo() throws {
        let text = """
            graph g(%img: u8[6,5,3] HWC, %x: f32[1,2,3,4]) {
              %p : f32[1,3,6,5] NCHW = preprocess(%img) {bias=[0.5,0.25,0], channels=[2,1,0], layout="NCHW", scale=[2,3,4]}
              %t : f32[1,6,5,3] NHWC = transpose(%p) {perm=[0,2,3,1]}
              %u : f32[1,3,4,2] = transpose(%x) {perm=[0,2,3,1]}
              %v : f32[1,2,3,4] = transpose(%u) {perm=[0,3,1,2]}
              %a : f32[2,3,4,1] = transpose(%x) {perm=[1,2,3,0]}
              %b : f32[4,3,2,1] = transpose(%a) {perm=[2,1,0,3]}
              return %t, %v, %b
            }
            """
        let graph = try IRParser.parse(text, weights: [:])
        let (result, report) = try rewrite(graph, CancelTransposesPass())
        XCTAssertEqual(report.statistics["folded # transposes into preprocess"], 1)
        XCTAssertEqual(report.statistics["cancelled # transpose pairs"], 1)
        XCTAssertEqual(report.statistics["merged # transpose pairs"], 1)
        XCTAssertEqual(result.nodes.map(\.op), [.preprocess, .identity, .transpose])
        XCTAssertEqual(result.nodes[0].attributes.string("layout"), "NHWC")
        XCTAssertEqual(result.nodes[2].attributes.ints("perm"), [3, 2, 1, 0])
        let image = Tensor(shape: [6, 5, 3], bytes: (0..<90).map { UInt8($0 * 2) })
        let x = Tensor(shape: [1, 2, 3, 4], floats: (0..<24).map(Float.init))
        XCTAssertEqual(try run(result, [image, x]), try run(graph, [image, x]))
    }

    func testDecodeScaleCopiesTheResizeRuleOnlyAtFidelityFast() throws {
        let text = """
            graph g(%jpeg: u8[?n]) {
              %d : u8[?h,?w,3] HWC = decode_jpeg(%jpeg) {color="rgb"}
              %p : f32[1,3,224,224] NCHW = preprocess(%d) {bias=[0,0,0], channels=[0,1,2], crop_size=[224,224], interpolation="bilinear", layout="NCHW", scale=[1,1,1], shorter=256}
              return %p
            }
            """
        let graph = try IRParser.parse(text, weights: [:])
        let (exact, skipped) = try rewrite(graph, DecodeScalePass())
        XCTAssertFalse(skipped.ran)
        XCTAssertEqual(exact.nodes, graph.nodes)
        let (fast, report) = try rewrite(graph, DecodeScalePass(), fidelity: .fast)
        XCTAssertEqual(report.statistics["scaled # decodes"], 1)
        let fit = try XCTUnwrap(ImageGeometry.decodeFit(fast.nodes[0].attributes))
        XCTAssertEqual(fit, ["shorter": .int(256), "interpolation": .string("bilinear")])
        // 5120x2880 at 1/8 is 640x360, which a 256 shorter side still downscales; 320x180 would be upscaled.
        XCTAssertTrue(ImageGeometry.decodedSizeSuffices(height: 360, width: 640, fit: fit))
        XCTAssertFalse(ImageGeometry.decodedSizeSuffices(height: 180, width: 320, fit: fit))
    }
}
