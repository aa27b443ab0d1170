@testable import IR
import Passes
import XCTest

final class ConstantEvaluatorTests: XCTestCase {
    private func evaluate(_ op: Op, _ operands: [Tensor], _ a: Attributes = [:], shape: [Int]) -> Tensor? {
        ConstantEvaluator.evaluate(op, operands: operands, attributes: a, resultShape: shape)
    }

    func testTransposeMovesElements() throws {
        let x = Tensor(shape: [2, 3], floats: [0, 1, 2, 3, 4, 5])
        let t = try XCTUnwrap(evaluate(.transpose, [x], ["perm": .ints([1, 0])], shape: [3, 2]))
        XCTAssertEqual(t, Tensor(shape: [3, 2], floats: [0, 3, 1, 4, 2, 5]))
    }

    func testConcatAlongInnerAxis() throws {
        let a = Tensor(shape: [2, 1], int64s: [1, 2]), b = Tensor(shape: [2, 2], int64s: [3, 4, 5, 6])
        let c = try XCTUnwrap(evaluate(.concat, [a, b], ["axis": .int(-1)], shape: [2, 3]))
        XCTAssertEqual(c, Tensor(shape: [2, 3], int64s: [1, 3, 4, 2, 5, 6]))
    }

    func testConcatOfMismatchedShapesDoesNotFold() {
        let a = Tensor(shape: [2, 2], floats: [1, 2, 3, 4]), b = Tensor(shape: [5], floats: [1, 2, 3, 4, 5])
        XCTAssertNil(evaluate(.concat, [a, b], ["axis": .int(1)], shape: [2, 7]))
    }

    func testBroadcastArithmetic() throws {
        let a = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]), b = Tensor(shape: [3], floats: [10, 20, 30])
        XCTAssertEqual(evaluate(.sub, [a, b], shape: [2, 3]), Tensor(shape: [2, 3], floats: [-9, -18, -27, -6, -15, -24]))
        let col = Tensor(shape: [2, 1], int64s: [7, -7]), two = Tensor(shape: [], int64s: [2])
        XCTAssertEqual(evaluate(.div, [col, two], shape: [2, 1]), Tensor(shape: [2, 1], int64s: [3, -3]), "truncates toward zero")
    }

    func testIntegerOverflowAndDivisionByZeroDoNotFold() {
        let big = Tensor(shape: [1], int64s: [.max]), one = Tensor(shape: [1], int64s: [1]), zero = Tensor(shape: [1], int64s: [0])
        XCTAssertNil(evaluate(.add, [big, one], shape: [1]))
        XCTAssertNil(evaluate(.div, [one, zero], shape: [1]))
        XCTAssertNil(evaluate(.add, [one, Tensor(shape: [1], floats: [1])], shape: [1]), "mixed dtypes")
    }

    func testCastFoldsOnlyExactConversions() {
        XCTAssertEqual(evaluate(.cast, [Tensor(shape: [2], floats: [3, -1])], ["to": .string("i64")], shape: [2]),
                       Tensor(shape: [2], int64s: [3, -1]))
        XCTAssertNil(evaluate(.cast, [Tensor(shape: [1], floats: [0.5])], ["to": .string("i64")], shape: [1]))
        XCTAssertNil(evaluate(.cast, [Tensor(shape: [1], int64s: [300])], ["to": .string("u8")], shape: [1]))
        XCTAssertEqual(evaluate(.cast, [Tensor(shape: [1], int64s: [300])], ["to": .string("f32")], shape: [1]),
                       Tensor(shape: [1], floats: [300]))
    }

    func testConstantOfShapeFills() {
        XCTAssertEqual(evaluate(.constantOfShape, [Tensor(shape: [2], int64s: [2, 2])], ["value": .float(1.5)], shape: [2, 2]),
                       Tensor(shape: [2, 2], floats: [1.5, 1.5, 1.5, 1.5]))
        XCTAssertNil(evaluate(.constantOfShape, [Tensor(shape: [1], int64s: [2])], ["value": .float(1.5), "dtype": .string("i64")], shape: [2]))
    }

    func testHugeResultIsNotMaterialized() throws {
        let text = """
        graph g() {
          %dims : i64[2] = const @dims
          %w : f32[100000,100000] = constant_of_shape(%dims)
          return %w
        }
        """
        let g = try IRParser.parse(text, weights: ["dims": Tensor(shape: [2], int64s: [100_000, 100_000])])
        var statistics = PassStatistics()
        let folded = try ConstantFoldPass().run(g, statistics: &statistics)
        XCTAssertTrue(statistics.isEmpty)
        XCTAssertEqual(folded.nodes.last?.op, .constantOfShape)
    }
}
