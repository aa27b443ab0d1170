import IR
import XCTest

/// The size rules of `resize` that depend on the image: limits rounded to multiples
/// (PaddleOCR's detector input) and text-line heights (its recognizer input).
final class ImageGeometryTests: XCTestCase {
    private func size(_ h: Int, _ w: Int, _ a: Attributes) throws -> [Int] {
        let s = try ImageGeometry.resizedSize(height: h, width: w, attributes: a)
        return [s.h, s.w]
    }

    func testLimitsRoundToMultiplesOnlyWhenTheyScale() throws {
        // 1080×1920, longer side at most 960: × 0.5 → 540×960 → 540/32 = 16.875 → 544.
        XCTAssertEqual(try size(1080, 1920, ["longer_at_most": .int(960), "multiple_of": .int(32)]), [544, 960])
        // Already within the limit: unchanged, not rounded (RapidOCR's max_side_len).
        XCTAssertEqual(try size(191, 384, ["longer_at_most": .int(2000), "multiple_of": .int(32)]), [191, 384])
        // Shorter side at least 736: 191×384 × 3.853 → 735×1479 → 736×1472 (23.0 and 46.2).
        XCTAssertEqual(try size(191, 384, ["shorter_at_least": .int(736), "multiple_of": .int(32)]), [736, 1472])
        // multiple_of alone always rounds, half to even (16/32 = 0.5 → 0), never below one multiple.
        XCTAssertEqual(try size(191, 384, ["multiple_of": .int(32)]), [192, 384])
        XCTAssertEqual(try size(16, 48, ["multiple_of": .int(32)]), [32, 64])
    }

    func testTextLineHeightKeepsTheAspectOnItsCanvas() throws {
        // 100×48 → 48 rows, ⌈100⌉ = 100 columns on a 320 canvas.
        XCTAssertEqual(try size(48, 100, ["height": .int(48), "min_width": .int(320)]), [48, 100])
        // 30×481: 48·481/30 = 769.6: canvas ⌊769.6⌋ = 769, image min(770, 769) = 769 (RapidOCR's).
        XCTAssertEqual(try size(30, 481, ["height": .int(48), "min_width": .int(320)]), [48, 769])
        // The classifier's fixed 192 canvas caps a long line.
        XCTAssertEqual(try size(30, 481, ["height": .int(48), "min_width": .int(192), "max_width": .int(192)]), [48, 192])
        XCTAssertEqual(try size(40, 100, ["height": .int(48), "min_width": .int(192), "max_width": .int(192)]), [48, 120])
    }

    func testPadToAtLeastASize() throws {
        XCTAssertEqual(try ImageGeometry.spatialPads(height: 48, width: 100, attributes: ["min_size": .ints([0, 320])]), [0, 0, 0, 220])
        XCTAssertEqual(try ImageGeometry.spatialPads(height: 48, width: 400, attributes: ["min_size": .ints([0, 320])]), [0, 0, 0, 0])
        XCTAssertThrowsError(try ImageGeometry.spatialPads(height: 1, width: 1, attributes: ["min_size": .ints([-1, 3])]))
    }
}
