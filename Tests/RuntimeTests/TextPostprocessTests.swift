import XCTest

@testable import Runtime

/// The DB postprocess and crop geometry against cases worked out by hand (arithmetic in the
/// comments) and, where marked, against what RapidOCR 1.4.4 / pyclipper return.
final class TextPostprocessTests: XCTestCase {
    private func assertPoints(_ actual: [Point], _ expected: [(Double, Double)], accuracy: Double = 1e-9,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(actual)", file: file, line: line)
        for (point, (x, y)) in zip(actual, expected) {
            XCTAssertEqual(point.x, x, accuracy: accuracy, "\(actual)", file: file, line: line)
            XCTAssertEqual(point.y, y, accuracy: accuracy, "\(actual)", file: file, line: line)
        }
    }

    func testThresholdIsStrictAndDilationGrowsRightAndDown() {
        // 4×3 map; only 0.9 at (1, 1) and 0.31 at (3, 0) pass > 0.3 (0.3 itself does not).
        let map: [Float] = [0, 0, 0.3, 0.31,
                            0, 0.9, 0, 0,
                            0, 0, 0, 0]
        XCTAssertEqual(DBPostprocess.binaryMap(map, width: 4, height: 3, threshold: 0.3, dilate: false),
                       [0, 0, 0, 1,
                        0, 1, 0, 0,
                        0, 0, 0, 0])
        // 2×2 kernel anchored at (1, 1): out(y, x) = OR of in(y−1…y, x−1…x), so each set pixel
        // also sets its right, lower and lower-right neighbours (inside the map).
        XCTAssertEqual(DBPostprocess.binaryMap(map, width: 4, height: 3, threshold: 0.3, dilate: true),
                       [0, 0, 0, 1,
                        0, 1, 1, 1,
                        0, 1, 1, 0])
    }

    func testRegionsAreEightConnectedAndGiveRowExtremes() {
        let binary: [UInt8] = [1, 1, 0, 0, 0,
                               0, 0, 1, 0, 1,   // (2, 1) touches (1, 0) diagonally
                               0, 0, 0, 0, 1]
        let regions = DBPostprocess.regions(binary, width: 5, height: 3)
        XCTAssertEqual(regions.count, 2)
        // Row 0: x 0…1; row 1: x 2 (one pixel, one point).
        XCTAssertEqual(regions[0], [Point(0, 0), Point(1, 0), Point(2, 1)])
        XCTAssertEqual(regions[1], [Point(4, 1), Point(4, 2)])
        XCTAssertEqual(DBPostprocess.regions(binary, width: 5, height: 3, limit: 1).count, 1)
    }

    func testMinimumAreaRectangleOfAnAxisAlignedAndARotatedSet() throws {
        // A 4×2 block of pixel centres plus an interior point: the rectangle is the block.
        let block = [Point(0, 0), Point(4, 0), Point(4, 2), Point(0, 2), Point(2, 1)]
        XCTAssertEqual(Geometry.convexHull(block).count, 4)
        let (corners, shorter) = try XCTUnwrap(DBPostprocess.miniBox(block))
        assertPoints(corners, [(0, 0), (4, 0), (4, 2), (0, 2)])
        XCTAssertEqual(shorter, 2, accuracy: 1e-12)
        // A diamond (square of side √8 turned 45°): its own square (area 8) beats the 4×4
        // bounding box (area 16). Sorted by x: (0,2) then (2,0)/(2,4) then (4,2); top-left is
        // the upper of the two leftmost, (2,0) (y 0 < 2).
        let diamond = [Point(2, 0), Point(4, 2), Point(2, 4), Point(0, 2)]
        let rotated = try XCTUnwrap(Geometry.minimumAreaRectangle(diamond))
        XCTAssertEqual(rotated.width * rotated.height, 8, accuracy: 1e-9)
        let (ordered, side) = try XCTUnwrap(DBPostprocess.miniBox(diamond))
        XCTAssertEqual(side, 8.0.squareRoot(), accuracy: 1e-9)
        assertPoints(ordered, [(2, 0), (4, 2), (2, 4), (0, 2)])
    }

    func testBoxScoreIsTheMeanOverTheInclusivePolygon() {
        // 6×4 map, value = x + 10·y. Box (1,1)–(3,2) covers x 1…3, y 1…2 inclusive:
        // mean x = 2, mean y = 1.5 → 2 + 15 = 17.
        let map = (0..<24).map { Float($0 % 6 + 10 * ($0 / 6)) }
        let box = [Point(1, 1), Point(3, 1), Point(3, 2), Point(1, 2)]
        XCTAssertEqual(DBPostprocess.boxScore(map, width: 6, height: 4, corners: box), 17, accuracy: 1e-9)
        // Fractional corners widen the rectangle to floor/ceil: (0.5,0.5)–(2.2,1.5) → x 0…3,
        // y 0…2, but the mask is the polygon truncated after shifting by (0, 0): (0,0)–(2,1),
        // so x 0…2, y 0…1: mean x 1, mean y 0.5 → 6.
        let fractional = [Point(0.5, 0.5), Point(2.2, 0.5), Point(2.2, 1.5), Point(0.5, 1.5)]
        XCTAssertEqual(DBPostprocess.boxScore(map, width: 6, height: 4, corners: fractional), 6, accuracy: 1e-9)
    }

    func testRoundOffsetMatchesPyclipper() {
        // pyclipper 1.4 (PyclipperOffset, JT_ROUND, ET_CLOSEDPOLYGON) on this rectangle with
        // delta 2.0 returns [[12,-1],[12,5],[11,7],[0,7],[-2,6],[-2,0],[-1,-2],[10,-2]]:
        // the corners are truncated to (0,0)…(10,5) first, then each edge moves out by 2.
        // Clipper's closing union also drops collinear points (4 more here, e.g. (12, 0)),
        // which leaves the hull — all that the box fit reads — unchanged.
        let rectangle = [Point(0.9, 0.9), Point(10.9, 0.9), Point(10.9, 5.9), Point(0.9, 5.9)]
        let offset = Geometry.roundOffset(rectangle, distance: 2)
        let expected: Set<[Double]> = [[12, -1], [12, 5], [11, 7], [0, 7], [-2, 6], [-2, 0], [-1, -2], [10, -2]]
        XCTAssertEqual(Set(Geometry.convexHull(offset).map { [$0.x, $0.y] }), expected)
        XCTAssertEqual(offset.count, 12)
        // Unclip: area 50, perimeter 30, ratio 1.6 → distance 50·1.6/30 = 2.667.
        let unclipped = DBPostprocess.unclip([Point(0, 0), Point(10, 0), Point(10, 5), Point(0, 5)], ratio: 1.6)
        XCTAssertEqual(unclipped.map(\.x).min(), -3)  // −2.667 rounded half away from zero
        XCTAssertEqual(unclipped.map(\.y).max(), 8)   // 7.667
    }

    func testWholePostprocessOnAnAxisAlignedBlock() {
        // 0.9 on x 10…29, y 10…15 of a 64×32 map. Dilation adds column 30 and row 16, so the
        // region's rectangle is (10,10)–(30,16), 20×6. Score over its inclusive 21×7 pixels:
        // 120·0.9 / 147 = 0.7347. Unclip: 120·1.6 / 52 = 3.692 → (6,6)–(34,20).
        // RapidOCR's DBPostProcess gives the same box and score 0.7346938.
        var map = [Float](repeating: 0, count: 64 * 32)
        for y in 10...15 { for x in 10...29 { map[y * 64 + x] = 0.9 } }
        let boxes = DBPostprocess.boxes(probability: map, mapWidth: 64, mapHeight: 32, imageWidth: 64, imageHeight: 32)
        XCTAssertEqual(boxes.count, 1)
        assertPoints(boxes[0].corners, [(6, 6), (34, 6), (34, 20), (6, 20)])
        XCTAssertEqual(boxes[0].score, 120 * 0.9 / 147, accuracy: 1e-6)
        // Below box_thresh (0.5·120/147 = 0.41 mean) nothing is kept; nothing above 0.3 at all: none.
        let faint = map.map { $0 == 0 ? 0 : Float(0.5) }
        XCTAssertTrue(DBPostprocess.boxes(probability: faint, mapWidth: 64, mapHeight: 32, imageWidth: 64, imageHeight: 32).isEmpty)
        XCTAssertTrue(DBPostprocess.boxes(probability: [Float](repeating: 0.3, count: 64 * 32), mapWidth: 64, mapHeight: 32,
                                          imageWidth: 64, imageHeight: 32).isEmpty)
    }

    func testWholePostprocessOnARotatedBlockMatchesRapidOCR() {
        // 0.8 where |0.8(x−30) + 0.6(y−20)| ≤ 12 and |−0.6(x−30) + 0.8(y−20)| ≤ 4 (a 24×8 bar
        // turned 36.9°) on a 60×40 map. RapidOCR 1.4.4 (DBPostProcess, then its clockwise
        // order) gives (21,1) (50,23) (39,39) (10,17), score 0.61085, and at twice the size
        // (42,3) (101,47) (78,77) (19,33).
        var map = [Float](repeating: 0, count: 60 * 40)
        for y in 0..<40 {
            for x in 0..<60 {
                let (u, v) = (0.8 * Double(x - 30) + 0.6 * Double(y - 20), -0.6 * Double(x - 30) + 0.8 * Double(y - 20))
                if abs(u) <= 12 && abs(v) <= 4 { map[y * 60 + x] = 0.8 }
            }
        }
        let same = DBPostprocess.boxes(probability: map, mapWidth: 60, mapHeight: 40, imageWidth: 60, imageHeight: 40)
        XCTAssertEqual(same.count, 1)
        assertPoints(same[0].corners, [(21, 1), (50, 23), (39, 39), (10, 17)])
        XCTAssertEqual(same[0].score, 0.61085, accuracy: 0.005)
        let doubled = DBPostprocess.boxes(probability: map, mapWidth: 60, mapHeight: 40, imageWidth: 120, imageHeight: 80)
        assertPoints(doubled[0].corners, [(42, 3), (101, 47), (78, 77), (19, 33)])
    }

    func testClockwiseOrderAndReadingOrder() {
        assertPoints(DBPostprocess.orderedClockwise([Point(9, 9), Point(0, 1), Point(10, 0), Point(1, 8)]),
                     [(0, 1), (10, 0), (9, 9), (1, 8)])
        func box(_ x: Double, _ y: Double) -> TextBox {
            TextBox(corners: [Point(x, y), Point(x + 5, y), Point(x + 5, y + 5), Point(x, y + 5)], score: 1)
        }
        // (50, 12) and (0, 15) are on one line (|Δy| 3 < 10): left first. (0, 40) is below.
        let ordered = DBPostprocess.readingOrder([box(0, 40), box(50, 12), box(0, 15), box(20, 0)])
        XCTAssertEqual(ordered.map { [$0.corners[0].x, $0.corners[0].y] }, [[20, 0], [0, 15], [50, 12], [0, 40]])
    }

    // MARK: - Crops

    private func ramp(width: Int, height: Int) throws -> Image {
        try Image(width: width, height: height, channels: 3, pixels: (0..<(width * height * 3)).map { UInt8($0 % 251) })
    }

    func testHomographyMapsTheCorners() throws {
        let from = [Point(0, 0), Point(4, 0), Point(4, 2), Point(0, 2)]
        let to = [Point(1, 1), Point(9, 2), Point(8, 7), Point(0, 5)]
        let h = try XCTUnwrap(PerspectiveCrop.homography(from: from, to: to))
        for (p, q) in zip(from, to) {
            let w = h[6] * p.x + h[7] * p.y + h[8]
            XCTAssertEqual((h[0] * p.x + h[1] * p.y + h[2]) / w, q.x, accuracy: 1e-9)
            XCTAssertEqual((h[3] * p.x + h[4] * p.y + h[5]) / w, q.y, accuracy: 1e-9)
        }
        XCTAssertNil(PerspectiveCrop.homography(from: from, to: [Point(0, 0), Point(1, 1), Point(2, 2), Point(3, 3)]))
    }

    func testUprightIntegerBoxCropsAnExactCopy() throws {
        let image = try ramp(width: 20, height: 10)
        // Box x 3…11, y 2…6: width ⌊8⌋ = 8, height 4; pixel (x, y) samples (3 + x, 2 + y),
        // where the cubic weights are (0, 1, 0, 0).
        let crop = try XCTUnwrap(PerspectiveCrop.crop(image, corners: [Point(3, 2), Point(11, 2), Point(11, 6), Point(3, 6)]))
        XCTAssertEqual([crop.width, crop.height], [8, 4])
        for y in 0..<4 {
            for x in 0..<8 {
                for c in 0..<3 {
                    XCTAssertEqual(crop.pixels[(y * 8 + x) * 3 + c], image.pixels[((2 + y) * 20 + 3 + x) * 3 + c])
                }
            }
        }
        XCTAssertNil(PerspectiveCrop.crop(image, corners: [Point(3, 2), Point(3.5, 2), Point(3.5, 6), Point(3, 6)]))
    }

    func testTallBoxIsTurnedCounterClockwiseAndHalfTurnReverses() throws {
        let image = try ramp(width: 20, height: 10)
        // 2 wide, 6 tall: 6/2 ≥ 1.5 → turned: 6 wide, 2 tall; out(i, j) = upright(j, w−1−i),
        // so out row 0 is the upright crop's right column read top to bottom.
        let crop = try XCTUnwrap(PerspectiveCrop.crop(image, corners: [Point(4, 1), Point(6, 1), Point(6, 7), Point(4, 7)]))
        XCTAssertEqual([crop.width, crop.height], [6, 2])
        for j in 0..<6 { XCTAssertEqual(crop.pixels[j * 3], image.pixels[((1 + j) * 20 + 5) * 3]) }
        let turned = PerspectiveCrop.rotatedHalfTurn(crop)
        XCTAssertEqual(Array(turned.pixels[0..<3]), Array(crop.pixels[(crop.pixels.count - 3)...]))
        XCTAssertEqual(PerspectiveCrop.rotatedHalfTurn(turned), crop)
    }

    func testCubicWeightsSumToOneAndInterpolateAtZero() {
        let zero = PerspectiveCrop.cubicWeights(0)
        XCTAssertEqual([zero.0, zero.1, zero.2, zero.3], [0, 1, 0, 0])
        // At t = 0.5 with a = −0.75: outer taps −0.09375, inner 0.59375.
        let half = PerspectiveCrop.cubicWeights(0.5)
        XCTAssertEqual(half.0, -0.09375, accuracy: 1e-12)
        XCTAssertEqual(half.1, 0.59375, accuracy: 1e-12)
        XCTAssertEqual(half.0 + half.1 + half.2 + half.3, 1, accuracy: 1e-12)
    }
}
