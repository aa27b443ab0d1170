import IR
import Passes
import Runtime
import XCTest

/// The values `fold-conv-affine` writes, and that the folded graph computes what the unfolded
/// one does on the native runtime.
final class FoldConvAffineTests: XCTestCase {
    private static let text = """
    graph g(%x: f32[1,1,4,4] NCHW) {
      %w : f32[2,1,1,1] = const @w
      %b : f32[2] = const @b
      %c : f32[1,2,4,4] NCHW = conv(%x, %w, %b)
      %s : f32[] = const @s
      %m : f32[1,2,4,4] NCHW = mul(%c, %s)
      %t : f32[] = const @t
      %a : f32[1,2,4,4] NCHW = sub(%t, %m)
      return %a
    }
    """

    private static let weights: [String: Tensor] = [
        "w": Tensor(shape: [2, 1, 1, 1], floats: [1, 2]), "b": Tensor(shape: [2], floats: [0.5, -1]),
        "s": Tensor(shape: [], floats: [3]), "t": Tensor(shape: [], floats: [0.25]),
    ]

    func testFoldedWeightsAndBias() throws {
        let graph = try IRParser.parse(Self.text, weights: Self.weights)
        var statistics = PassStatistics()
        let folded = try FoldConvAffinePass().run(graph, statistics: &statistics)
        XCTAssertEqual(statistics.description, "folded 1 mul into conv, folded 1 sub into conv")
        let conv = try XCTUnwrap(folded.nodes.first { $0.op == .conv })
        // 0.25 − 3·(w∗x + b): weights −3·w, bias 0.25 − 3·b.
        XCTAssertEqual(folded.constantValue(of: conv.inputs[1])?.floats, [-3, -6])
        XCTAssertEqual(folded.constantValue(of: conv.inputs[2])?.floats, [-1.25, 3.25])
    }

    func testFoldedGraphComputesTheSame() throws {
        let graph = try IRParser.parse(Self.text, weights: Self.weights)
        let (folded, _) = try PassManager(passes: [FoldConvAffinePass(), DeadCodeEliminationPass()], verifyEach: true).run(graph)
        let input = Tensor(shape: [1, 1, 4, 4], floats: (0..<16).map { Float($0) * 0.5 - 3 })
        let expected = try Executable(graph: graph).run(inputs: [input]).outputs[0].floats
        let got = try Executable(graph: folded).run(inputs: [input]).outputs[0].floats
        XCTAssertEqual(got, expected)
    }

    /// A transposed conv's output channels are its weight's axis 1: the bias add and the
    /// batch_norm after it fold per that axis, and the native runtime gives the same values.
    func testTransposedConvFoldComputesTheSame() throws {
        let text = """
        graph g(%x: f32[1,3,4,4] NCHW) {
          %w : f32[3,2,2,2] = const @w
          %t : f32[1,2,8,8] NCHW = conv_transpose(%x, %w) {strides=[2,2]}
          %b : f32[1,2,1,1] = const @b
          %a : f32[1,2,8,8] NCHW = add(%t, %b)
          %s : f32[2] = const @s
          %sh : f32[2] = const @sh
          %m : f32[2] = const @m
          %v : f32[2] = const @v
          %n : f32[1,2,8,8] NCHW = batch_norm(%a, %s, %sh, %m, %v) {epsilon=1e-05}
          return %n
        }
        """
        let weights: [String: Tensor] = [
            "w": Tensor(shape: [3, 2, 2, 2], floats: (0..<24).map { Float($0 % 7) * 0.25 - 0.5 }),
            "b": Tensor(shape: [1, 2, 1, 1], floats: [0.5, -1.5]), "s": Tensor(shape: [2], floats: [2, 0.5]),
            "sh": Tensor(shape: [2], floats: [0.25, 1]), "m": Tensor(shape: [2], floats: [1, -2]), "v": Tensor(shape: [2], floats: [4, 0.25]),
        ]
        let graph = try IRParser.parse(text, weights: weights)
        let (folded, reports) = try PassManager(passes: [FoldConvAffinePass(), DeadCodeEliminationPass()], verifyEach: true).run(graph)
        XCTAssertEqual(reports.first?.statistics.description, "folded 1 add into conv_transpose, folded 1 batch_norm into conv_transpose")
        XCTAssertEqual(folded.nodes.filter { $0.op != .const }.map(\.op), [.convTranspose])
        let input = Tensor(shape: [1, 3, 4, 4], floats: (0..<48).map { Float($0 % 11) * 0.5 - 2 })
        let expected = try Executable(graph: graph).run(inputs: [input]).outputs[0].floats
        let got = try Executable(graph: folded).run(inputs: [input]).outputs[0].floats
        for (a, b) in zip(got, expected) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
    }
}
