import XCTest

import IR
@testable import Runtime

/// Postprocessing against cases worked out by hand (the arithmetic is in the comments).
final class FaceGeometryTests: XCTestCase {
    private func box(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ score: Double) -> ScoredBox {
        ScoredBox(x1: x1, y1: y1, x2: x2, y2: y2, score: score)
    }

    func testNMSUnionAndMinimumModes() {
        // A: 10×10 (inclusive pixels) = 100. B shifted by 1: intersection 9×9 = 81,
        // IoU 81/119 = 0.68, min-overlap 0.81. C far away. D (6×6 = 36) inside A:
        // IoU 36/100 = 0.36, min-overlap 36/36 = 1.
        let boxes = [box(0, 0, 9, 9, 0.9), box(1, 1, 10, 10, 0.8), box(20, 20, 29, 29, 0.7), box(2, 2, 7, 7, 0.6)]
        XCTAssertEqual(nonMaximumSuppression(boxes, threshold: 0.5, mode: .union), [0, 2, 3])
        XCTAssertEqual(nonMaximumSuppression(boxes, threshold: 0.7, mode: .minimum), [0, 2])
    }

    func testNMSKeepsABoxExactlyAtTheThresholdAndOrdersByScore() {
        // Intersection 100, union 100 + 200 − 100 = 200: IoU exactly 0.5 stays.
        let boxes = [box(0, 0, 9, 19, 0.5), box(0, 0, 9, 9, 0.9)]
        XCTAssertEqual(nonMaximumSuppression(boxes, threshold: 0.5, mode: .union), [1, 0])
        XCTAssertEqual(nonMaximumSuppression(boxes, threshold: 0.49, mode: .union), [1])
        XCTAssertEqual(nonMaximumSuppression([], threshold: 0.5, mode: .union), [])
    }

    func testMTCNNPyramidSquareUpAndRegression() {
        // Shorter side 80, m = 12/20 = 0.6: 48, 34.0, 24.1, 17.1, 12.1 ≥ 12, then 8.6 stops.
        let scales = ImageGeometry.pyramidScales(height: 80, width: 100, minSize: 20, factor: 0.709, window: 12)
        XCTAssertEqual(scales.count, 5)
        XCTAssertEqual(scales[0], 0.6, accuracy: 1e-12)
        XCTAssertEqual(scales[1], 0.6 * 0.709, accuracy: 1e-12)
        // 20 wide, 40 tall → side 40 centred: x1 = 10 + 10 − 20 = 0.
        XCTAssertEqual(MTCNN.squaredUp(box(10, 20, 30, 60, 1)), box(0, 20, 40, 60, 1))
        // Inclusive width 11: x1 + 0.1·11 = 1.1, x2 + (−0.2)·11 = 7.8.
        XCTAssertEqual(MTCNN.regressed(box(0, 0, 10, 10, 1), [0.1, 0, -0.2, 0]).x1, 1.1, accuracy: 1e-12)
        XCTAssertEqual(MTCNN.regressed(box(0, 0, 10, 10, 1), [0.1, 0, -0.2, 0]).x2, 7.8, accuracy: 1e-12)
    }
}
