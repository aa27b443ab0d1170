import IR
@testable import Runtime
import TestSupport
import XCTest

/// The text-reading ops that run as plan steps (`ctc_decode`, `rotate_180_if`, `map_boxes`)
/// and between plans (`text_lines`), on cases worked out by hand.
final class TextOpTests: XCTestCase {
    func testCTCGreedyDecodeMergesRepeatsDropsBlanksAndAveragesKeptSteps() throws {
        // Classes: 0 blank, 1 a, 2 b, 3 c, 4 space. Best class per step: a a _ a b b ␠ _ c →
        // tokens 1 1 2 4 3 ("aab c"), kept steps 0, 3, 4, 6, 8. Row 2: all blank → no token, score 0.
        let best = [1, 1, 0, 1, 2, 2, 4, 0, 3]
        let bestProbability: [Float] = [0.9, 0.8, 0.99, 0.7, 0.6, 0.5, 0.4, 0.95, 0.3]
        var rows: [Float] = []
        for (index, probability) in zip(best, bestProbability) {
            var row = [Float](repeating: (1 - probability) / 4, count: 5)
            row[index] = probability
            rows += row
        }
        for _ in 0..<9 { rows += [0.6, 0.1, 0.1, 0.1, 0.1] }
        var g = Graph(name: "ctc")
        let x = g.addInput(name: "x", type: TensorType(.f32, [2, 9, 5]))
        let results = try g.append(.ctcDecode, [x], attributes: ["max_length": .int(6)], name: "text")
        g.outputs = results
        let outputs = try Executable(graph: g).run(inputs: [Tensor(shape: [2, 9, 5], floats: rows)]).outputs
        XCTAssertEqual(outputs[0].shape, [2, 6])
        XCTAssertEqual(outputs[0].integers, [1, 1, 2, 4, 3, -1, -1, -1, -1, -1, -1, -1])
        XCTAssertEqual(outputs[1].floats[0], (0.9 + 0.7 + 0.6 + 0.4 + 0.3) / 5, accuracy: 1e-6)
        XCTAssertEqual(outputs[1].floats[1], 0)

        // Five kept steps do not fit max_length 4: an error, not a cut line.
        var short = Graph(name: "ctc")
        let y = short.addInput(name: "x", type: TensorType(.f32, [2, 9, 5]))
        short.outputs = try short.append(.ctcDecode, [y], attributes: ["max_length": .int(4)], name: "text")
        XCTAssertThrowsError(try Executable(graph: short).run(inputs: [Tensor(shape: [2, 9, 5], floats: rows)])) { error in
            XCTAssertTrue("\(error)".contains("more than max_length = 4"), "\(error)")
        }
    }

    private func rotate(_ probabilities: [Float], threshold: Float = 0.9) throws -> [UInt8] {
        var g = Graph(name: "turn")
        let image = g.addInput(name: "image", type: TensorType(.u8, [2, 3, 1], layout: .hwc))
        let p = g.addInput(name: "p", type: TensorType(.f32, [1, 2]))
        g.outputs = try g.append(.rotate180If, [image, p], attributes: ["class": .int(1), "threshold": .float(threshold)], name: "upright")
        let pixels = Tensor(shape: [2, 3, 1], bytes: [1, 2, 3, 4, 5, 6])
        return try Executable(graph: g).run(inputs: [pixels, Tensor(shape: [1, 2], floats: probabilities)]).outputs[0].integers.map(UInt8.init)
    }

    func testRotate180IfTurnsOnlyWhenTheClassWinsAboveTheThreshold() throws {
        XCTAssertEqual(try rotate([0.05, 0.95]), [6, 5, 4, 3, 2, 1])
        XCTAssertEqual(try rotate([0.15, 0.85]), [1, 2, 3, 4, 5, 6], "below the threshold")
        XCTAssertEqual(try rotate([0.5, 0.5], threshold: 0.4), [1, 2, 3, 4, 5, 6], "a tie is not a win")
    }

    func testMapBoxesScalesAndClipsToTheTargetImage() throws {
        var g = Graph(name: "map")
        let boxes = g.addInput(name: "boxes", type: TensorType(.f32, [.symbol("n"), .known(4)]))
        let from = g.addInput(name: "from", type: TensorType(.u8, [50, 100, 3], layout: .hwc))
        let to = g.addInput(name: "to", type: TensorType(.u8, [100, 300, 3], layout: .hwc))
        g.outputs = try g.append(.mapBoxes, [boxes, from, to], attributes: [:], name: "mapped")
        let inputs = [
            Tensor(shape: [2, 4], floats: [10, 5, 20, 10, -1, 0, 120, 60]),
            Tensor(shape: [50, 100, 3], bytes: [UInt8](repeating: 0, count: 15_000)),
            Tensor(shape: [100, 300, 3], bytes: [UInt8](repeating: 0, count: 90_000)),
        ]
        // x × 3, y × 2, clipped to [0, 300] × [0, 100].
        XCTAssertEqual(try Executable(graph: g).run(inputs: inputs).outputs[0].floats, [30, 10, 60, 20, 0, 0, 300, 100])
    }

    func testTextLinesKeepsTheRowsAtOrAboveTheScore() throws {
        let node = Node(op: .textLines, inputs: [], outputs: [], attributes: ["min_score": .float(0.5)])
        let results = try DataDependentOps.run(node, [
            Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6]),
            Tensor(shape: [3, 2], data: .i32([1, -1, 2, 3, 4, -1])),
            Tensor(shape: [3], floats: [0.5, 0.4, 0.9]),
        ], name: "lines")
        XCTAssertEqual(results.map(\.shape), [[2, 2], [2, 2], [2]])
        XCTAssertEqual(results[0].floats, [1, 2, 5, 6])
        XCTAssertEqual(results[1].integers, [1, -1, 4, -1])
        XCTAssertEqual(results[2].floats, [0.5, 0.9])
    }
}
