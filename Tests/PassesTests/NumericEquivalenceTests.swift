import Foundation
import IR
import Passes
import Runtime
import TestSupport
import XCTest

/// The optimized graph must compute what the unoptimized one does: both run on the
/// runtime with the same inputs, outputs compared with allclose.
final class NumericEquivalenceTests: XCTestCase {
    /// Parses `text` (missing f32 weights synthesized in [0.1, 1]), runs it as written and
    /// after `-O2`, and returns the optimized graph after checking the outputs agree.
    @discardableResult
    private func assertO2KeepsResults(
        _ text: String, weights: [String: Tensor] = [:], inputs: [Tensor], target: Target = .native,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> Graph {
        let original = try IRParser.parse(text, weights: weights, synthesizeMissingWeights: true)
        let (optimized, _) = try PassManager(passes: OptimizationLevel.passes(for: .O2, target: target), verifyEach: true).run(original)
        let expected = try Executable(graph: original, options: RuntimeOptions(threads: 2)).run(inputs: inputs).outputs
        let actual = try Executable(graph: optimized, options: RuntimeOptions(threads: 2)).run(inputs: inputs).outputs
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (a, e) in zip(actual, expected) {
            XCTAssertEqual(a.shape, e.shape, file: file, line: line)
            if let failure = allcloseFailure(a.floats, e.floats, rtol: 1e-4, atol: 1e-5) {
                XCTFail(failure, file: file, line: line)
            }
        }
        return optimized
    }

    /// Deterministic pseudo-random values in [0, 1).
    private func pseudoRandom(_ count: Int, seed: UInt64) -> [Double] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    func testModelFoldsKeepResults() throws {
        let text = """
        graph g(%x: f32[1,3,8,8] NCHW) {
          %w1 : f32[4,3,3,3] = const @w1
          %c1 : f32[1,4,8,8] NCHW = conv(%x, %w1) {pads=[1,1,1,1]}
          %s1 : f32[4] = const @s1
          %b1 : f32[4] = const @b1
          %m1 : f32[4] = const @m1
          %v1 : f32[4] = const @v1
          %bn1 : f32[1,4,8,8] NCHW = batch_norm(%c1, %s1, %b1, %m1, %v1) {epsilon=1e-05}
          %r1 : f32[1,4,8,8] NCHW = relu(%bn1)
          %w2 : f32[4,4,1,1] = const @w2
          %bias2 : f32[4] = const @bias2
          %c2 : f32[1,4,8,8] NCHW = conv(%r1, %w2, %bias2)
          %s2 : f32[4] = const @s2
          %b2 : f32[4] = const @b2
          %m2 : f32[4] = const @m2
          %v2 : f32[4] = const @v2
          %bn2 : f32[1,4,8,8] NCHW = batch_norm(%c2, %s2, %b2, %m2, %v2)
          %sum : f32[1,4,8,8] NCHW = add(%bn2, %r1)
          %r2 : f32[1,4,8,8] NCHW = relu(%sum)
          %pool : f32[1,4,1,1] NCHW = global_average_pool(%r2)
          %flat.shape : i64[2] = const @flat.shape
          %flat : f32[1,4] = reshape(%pool, %flat.shape)
          %fc.dims : i64[2] = const @fc.dims
          %fc.w : f32[3,4] = constant_of_shape(%fc.dims) {value=0.25}
          %fc.b : f32[3] = const @fc.b
          %logits : f32[1,3] = gemm(%flat, %fc.w, %fc.b) {transB=1}
          %lo : f32[] = const @lo
          %hi : f32[] = const @hi
          %y : f32[1,3] = clip(%logits, %lo, %hi)
          return %y, %r2
        }
        """
        let weights = [
            "flat.shape": Tensor(shape: [2], int64s: [1, -1]), "fc.dims": Tensor(shape: [2], int64s: [3, 4]),
            "lo": Tensor(shape: [], floats: [0]), "hi": Tensor(shape: [], floats: [100]),
            "fc.b": Tensor(shape: [3], floats: [-1, 0, 1]),
        ]
        let x = Tensor(shape: [1, 3, 8, 8], floats: pseudoRandom(192, seed: 1).map { Float($0 * 2 - 1) })
        let optimized = try assertO2KeepsResults(text, weights: weights, inputs: [x])
        XCTAssertEqual(optimized.nodes.filter { $0.op != .const }.map(\.op), [.conv, .conv, .add, .globalAveragePool, .reshape, .gemm],
                       "batch_norms folded, relus and clip fused, constant_of_shape folded")
    }

    private let preprocessChain = """
    graph pre(%image: u8[?h,?w,3] HWC) {
      %resized : u8[?,?,3] HWC = resize(%image) {interpolation="INTERPOLATION", shorter=20}
      %cropped : u8[16,16,3] HWC = crop(%resized) {size=[16,16]}
      %bgr : u8[16,16,3] HWC = convert_color(%cropped) {from="rgb", to="bgr"}
      %floats : f32[16,16,3] HWC = cast(%bgr) {to="f32"}
      %normalized : f32[16,16,3] HWC = normalize(%floats) {mean=[0.485,0.456,0.406], scale=0.003921569, std=[0.229,0.224,0.225]}
      %chw : f32[3,16,16] CHW = transpose(%normalized) {perm=[2,0,1]}
      %input : f32[1,3,16,16] NCHW = unsqueeze(%chw) {axes=[0]}
      return %input
    }
    """

    /// Transposed convs whose kernel equals their stride run on oneDNN as one matmul per kernel
    /// row writing strided output rows (the shim's `matmul_deconvolution`): batch 2, a
    /// non-square kernel, bias and a fused relu, and PP-OCR's 2x2 one-channel head; the native
    /// deconvolution at -O0 is the reference.
    func testTransposedConvsAsMatmulsOnDNNLKeepResults() throws {
        guard Target.host.backends.contains(.dnnl) else { throw XCTSkip("oneDNN is not available here") }
        let text = """
        graph g(%x: f32[2,6,5,7] NCHW) {
          %w1 : f32[6,4,3,2] = const @w1
          %b1 : f32[4] = const @b1
          %t1 : f32[2,4,15,14] NCHW = conv_transpose(%x, %w1, %b1) {strides=[3,2]}
          %r1 : f32[2,4,15,14] NCHW = relu(%t1)
          %w2 : f32[4,1,2,2] = const @w2
          %t2 : f32[2,1,30,28] NCHW = conv_transpose(%r1, %w2) {strides=[2,2]}
          return %t2, %r1
        }
        """
        let x = Tensor(shape: [2, 6, 5, 7], floats: pseudoRandom(420, seed: 3).map { Float($0 * 2 - 1) })
        let optimized = try assertO2KeepsResults(text, inputs: [x], target: .host)
        let placed = optimized.nodes.filter { $0.op == .convTranspose && $0.attributes.string("backend") == "dnnl" }
        XCTAssertEqual(placed.count, 2, "both transposed convs run on dnnl")
        XCTAssertEqual(placed.first?.attributes.string("activation"), "relu")
    }

    func testFusedPreprocessKeepsResults() throws {
        let image = Tensor(shape: [37, 53, 3], bytes: pseudoRandom(37 * 53 * 3, seed: 2).map { UInt8($0 * 256) })
        for interpolation in ["bilinear", "nearest"] {
            let text = preprocessChain.replacingOccurrences(of: "INTERPOLATION", with: interpolation)
            let optimized = try assertO2KeepsResults(text, inputs: [image])
            XCTAssertEqual(optimized.nodes.map(\.op), [.preprocess], interpolation)
        }
    }

    func testFusedCropOnlyNHWCKeepsResults() throws {
        let text = """
        graph pre(%image: u8[30,40,3] HWC) {
          %box : u8[20,10,3] HWC = crop(%image) {box=[5,7,20,10]}
          %floats : f32[20,10,3] HWC = cast(%box) {to="f32"}
          %normalized : f32[20,10,3] HWC = normalize(%floats) {mean=[127.5], std=[127.5]}
          %input : f32[1,20,10,3] NHWC = unsqueeze(%normalized) {axes=[0]}
          return %input
        }
        """
        let image = Tensor(shape: [30, 40, 3], bytes: pseudoRandom(30 * 40 * 3, seed: 3).map { UInt8($0 * 256) })
        let optimized = try assertO2KeepsResults(text, inputs: [image])
        XCTAssertEqual(optimized.nodes.map(\.op), [.preprocess])
    }
}
