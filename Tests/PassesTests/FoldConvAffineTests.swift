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
}
