import Foundation
import IR
@testable import Runtime
import TestSupport
import XCTest

/// The detector-head ops (`dfl_boxes`, `grid_decode`, `top_cells` as plan steps; `nms` with
/// class scores and `detections` between plans) and `map_boxes` through a letterbox, on cases
/// worked out by hand, and the operands and attributes they refuse.
final class DetectionOpTests: XCTestCase {
    private func run(_ op: Op, _ inputs: [Tensor], _ attributes: Attributes) throws -> [Tensor] {
        var g = Graph(name: "detect")
        let values = inputs.enumerated().map { g.addInput(name: "x\($0.offset)", type: TensorType(.f32, $0.element.shape.map(Dim.known))) }
        g.outputs = try g.append(op, values, attributes: attributes, name: "out")
        return try Executable(graph: g).run(inputs: inputs).outputs
    }

    /// The error shape inference gives, as text.
    private func refusal(_ op: Op, _ shapes: [[Int]], _ attributes: Attributes, dtype: DType = .f32) -> String {
        do {
            _ = try ShapeInference.resultTypes(op: op, inputs: shapes.map { TensorType(dtype, $0.map(Dim.known)) }, attributes: attributes)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func testDFLBoxesAreTheExpectedBinTimesTheStrideFromTheCellCentre() throws {
        // Two bins per side: logits (0, 0) → p = (½, ½) → 0.5 bins; (0, ln 3) → (¼, ¾) → 0.75.
        let even: [Float] = [0, 0], skewed: [Float] = [0, Float(log(3.0))]
        // Level 1: stride 8 over 16×8 → 2 rows × 1 col; level 2: stride 16 → 1 × 1 (a partial cell).
        let level8 = Tensor(shape: [1, 2, 8], floats: even + skewed + even + even + skewed + skewed + skewed + even)
        let level16 = Tensor(shape: [1, 1, 8], floats: skewed + skewed + even + even)
        let attributes: Attributes = ["strides": .ints([8, 16]), "input_size": .ints([16, 8]), "cell_offset": .float(0.5)]
        let boxes = try run(.dflBoxes, [level8, level16], attributes)[0]
        XCTAssertEqual(boxes.shape, [3, 4])
        // Cell (0, 0) of stride 8: centre (4, 4); sides 0.5, 0.75, 0.5, 0.5 bins × 8 = 4, 6, 4, 4.
        // Cell (0, 1): centre (4, 12); 0.75, 0.75, 0.75, 0.5 → 6, 6, 6, 4.
        // Stride 16, cell (0, 0): centre (8, 8); 0.75, 0.75, 0.5, 0.5 → 12, 12, 8, 8.
        assertClose(boxes.floats, [0, -2, 8, 8, -2, 6, 10, 16, -4, -4, 16, 16], atol: 1e-4)
    }

    func testGridDecodeIsYOLOXsCentreSizeAndObjectnessTimesClass() throws {
        // Strides 8 and 16 over 16×16: 2×2 cells then 1; rows x, y, w, h, objectness, 2 classes.
        var rows = [Float](repeating: 0, count: 5 * 7)
        rows.replaceSubrange(7..<14, with: [0.5, 0.25, 0, Float(log(2.0)), 0.5, 0.8, 0.4])  // cell (col 1, row 0), stride 8
        rows.replaceSubrange(28..<35, with: [-0.5, 0.5, Float(log(0.5)), 0, 1, 0.1, 0.9])   // the stride-16 cell
        let attributes: Attributes = ["strides": .ints([8, 16]), "input_size": .ints([16, 16]), "objectness": .int(1)]
        let outputs = try run(.gridDecode, [Tensor(shape: [1, 5, 7], floats: rows)], attributes)
        XCTAssertEqual(outputs.map(\.shape), [[5, 4], [5, 2]])
        // Centre ((0.5 + 1)·8, 0.25·8) = (12, 2), size (8, 16) → (8, −6, 16, 10).
        assertClose(Array(outputs[0].floats[4..<8]), [8, -6, 16, 10], atol: 1e-4)
        // Centre (−0.5·16, 0.5·16) = (−8, 8), size (8, 16) → (−12, 0, −4, 16).
        assertClose(Array(outputs[0].floats[16..<20]), [-12, 0, -4, 16], atol: 1e-4)
        assertClose(Array(outputs[1].floats[2..<4]) + Array(outputs[1].floats[8..<10]), [0.4, 0.2, 0.1, 0.9], atol: 1e-5)

        // Without the objectness column the scores are the class columns themselves.
        let plain = try run(.gridDecode, [Tensor(shape: [1, 1, 6], floats: [0, 0, 0, 0, 0.3, 0.6])],
                            ["strides": .ints([4]), "input_size": .ints([4, 4]), "objectness": .int(0)])
        XCTAssertEqual(plain[1].floats, [0.3, 0.6])
        assertClose(plain[0].floats, [-2, -2, 2, 2], atol: 1e-5)
    }

    func testTopCellsKeepsEachLevelsBestCellsAndZeroesTheRest() throws {
        // Level 1, best class score per cell: 0.5, 0.9, 0.7 → keep cells 1 and 2. Level 2: 0.2, 0.2 → the earlier.
        let level1 = Tensor(shape: [1, 3, 2], floats: [0.5, 0.1, 0.2, 0.9, 0.7, 0.3])
        let level2 = Tensor(shape: [1, 2, 2], floats: [0.2, 0.1, 0.1, 0.2])
        let scores = try run(.topCells, [level1, level2], ["k": .int(2)])[0]
        XCTAssertEqual(scores.shape, [5, 2])
        XCTAssertEqual(try run(.topCells, [level1, level2], ["k": .int(1)])[0].floats, [0, 0, 0.2, 0.9, 0, 0, 0.2, 0.1, 0, 0])
        XCTAssertEqual(scores.floats, [0, 0, 0.2, 0.9, 0.7, 0.3, 0.2, 0.1, 0.1, 0.2])
    }

    private func nms(_ boxes: [Float], _ scores: [Float], classes: Int, _ attributes: Attributes) throws -> [Int] {
        let node = Node(op: .nms, inputs: [], outputs: [], attributes: attributes)
        let n = boxes.count / 4
        return try NonMaximumSuppression.run(node, [Tensor(shape: [n, 4], floats: boxes), Tensor(shape: [n, classes], floats: scores)], name: "kept").integers
    }

    func testClassWiseNMSSuppressesWithinAClassAndAgnosticAcrossClasses() throws {
        // Boxes 0 and 1 overlap (IoU 81/100); box 2 stands apart.
        let boxes: [Float] = [0, 0, 10, 10, 1, 1, 10, 10, 20, 20, 30, 30]
        // Box 0 is class 0 (0.9), box 1 class 1 (0.8), box 2 both (0.6, 0.7).
        let scores: [Float] = [0.9, 0.1, 0.2, 0.8, 0.6, 0.7]
        let base: Attributes = ["iou_threshold": .float(0.5), "score_threshold": .float(0.5)]
        // Separate: class 0 keeps 0 then 2; class 1 keeps 1 then 2 (0 and 1 differ in class).
        XCTAssertEqual(try nms(boxes, scores, classes: 2, base), [0, 0, 2, 0, 1, 1, 2, 1])
        // Agnostic: each box under its best class; box 1 is suppressed by box 0.
        var agnostic = base
        agnostic["classes"] = .string("agnostic")
        XCTAssertEqual(try nms(boxes, scores, classes: 2, agnostic), [0, 0, 2, 1])
        // One candidate per class: only each class's best box takes part.
        var one = base
        one["candidates"] = .int(1)
        XCTAssertEqual(try nms(boxes, scores, classes: 2, one), [0, 0, 1, 1])
        // max_output counts per class.
        var limited = base
        limited["max_output"] = .int(1)
        XCTAssertEqual(try nms(boxes, scores, classes: 2, limited), [0, 0, 1, 1])
    }

    func testDetectionsGathersTheKeptBoxesScoresAndClasses() throws {
        let node = Node(op: .detections, inputs: [], outputs: [], attributes: [:])
        let boxes = Tensor(shape: [3, 4], floats: [0, 0, 10, 10, 1, 1, 10, 10, 20, 20, 30, 30])
        let scores = Tensor(shape: [3, 2], floats: [0.9, 0.1, 0.2, 0.8, 0.6, 0.7])
        let results = try DataDependentOps.run(node, [boxes, scores, Tensor(shape: [2, 2], int64s: [2, 1, 0, 0])], name: "found")
        XCTAssertEqual(results.map(\.shape), [[2, 4], [2], [2]])
        XCTAssertEqual(results[0].floats, [20, 20, 30, 30, 0, 0, 10, 10])
        XCTAssertEqual(results[1].floats, [0.7, 0.9])
        XCTAssertEqual(results[2].integers, [1, 0])
        XCTAssertThrowsError(try DataDependentOps.run(node, [boxes, scores, Tensor(shape: [1, 2], int64s: [3, 0])], name: "found")) { error in
            XCTAssertTrue("\(error)".contains("outside the 3 boxes × 2 classes"), "\(error)")
        }
    }

    func testMapBoxesUndoesALetterbox() throws {
        var g = Graph(name: "map")
        let boxes = g.addInput(name: "boxes", type: TensorType(.f32, [1, 4]))
        let letterbox = g.addInput(name: "letterbox", type: TensorType(.f32, [4]))
        let to = g.addInput(name: "to", type: TensorType(.u8, [100, 200, 3], layout: .hwc))
        g.outputs = try g.append(.mapBoxes, [boxes, letterbox, to], attributes: [:], name: "mapped")
        // Scale 0.5 both ways, the image 10 px down: source = (frame − (10, 0)) / 0.5, clipped.
        let inputs = [
            Tensor(shape: [1, 4], floats: [20, 15, 150, 70]), Tensor(shape: [4], floats: [0.5, 0.5, 10, 0]),
            Tensor(shape: [100, 200, 3], bytes: [UInt8](repeating: 0, count: 60_000)),
        ]
        XCTAssertEqual(try Executable(graph: g).run(inputs: inputs).outputs[0].floats, [40, 10, 200, 100])
    }

    func testIllegalHeadsAreRefusedWithTheReason() {
        let grid: Attributes = ["strides": .ints([8]), "input_size": .ints([16, 16])]
        XCTAssertTrue(refusal(.dflBoxes, [[1, 5, 32]], grid).contains("the maps have 5 cells, but strides [8] over 16×16 make 2×2 = 4"))
        XCTAssertTrue(refusal(.dflBoxes, [[1, 4, 30]], grid).contains("expected 4 sides × B ≥ 2 bins"))
        XCTAssertTrue(refusal(.dflBoxes, [[1, 4, 32]], ["strides": .ints([0]), "input_size": .ints([16, 16])]).contains("strides"))
        XCTAssertTrue(refusal(.dflBoxes, [[1, 4, 32]], ["strides": .ints([8])]).contains("input_size"))
        XCTAssertTrue(refusal(.dflBoxes, [[1, 4, 32], [1, 4, 16]], grid).contains("with one K"))
        XCTAssertTrue(refusal(.dflBoxes, [[1, 4, 32]], grid, dtype: .u8).contains("f32[1,N,K]"))
        XCTAssertTrue(refusal(.gridDecode, [[1, 4, 5]], grid).contains("at least one class score"))
        var plain = grid
        plain["objectness"] = .int(0)
        XCTAssertEqual(refusal(.gridDecode, [[1, 4, 5]], plain), "accepted")
        XCTAssertTrue(refusal(.topCells, [[1, 4, 10]], ["k": .int(0)]).contains("k"))
        XCTAssertTrue(refusal(.nms, [[4, 4], [4, 3]], ["classes": .string("some")]).contains("separate or agnostic"))
        XCTAssertTrue(refusal(.nms, [[4, 4], [5, 3]], [:]).contains("4 boxes but 5 scores"))
        XCTAssertTrue(refusal(.detections, [[4, 4], [4, 3], [2]], [:], dtype: .f32).contains("kept i64[k,2]"))
    }

    func testDecodeRejectsAMapOfTheWrongSizeAtRunTime() throws {
        // A plan is built for the operands' real sizes: a head whose cells do not match the grid fails to plan.
        var g = Graph(name: "detect")
        let x = g.addInput(name: "x", type: TensorType(.f32, [.known(1), .symbol("n"), .known(8)]))
        g.outputs = try g.append(.dflBoxes, [x], attributes: ["strides": .ints([8]), "input_size": .ints([16, 8])], name: "boxes")
        XCTAssertThrowsError(try Executable(graph: g).run(inputs: [Tensor(shape: [1, 3, 8], floats: [Float](repeating: 0, count: 24))])) { error in
            XCTAssertTrue("\(error)".contains("the maps have 3 cells"), "\(error)")
        }
    }
}
