import Foundation
import Kernels
import Runtime
import XCTest

@testable import MultiModel

/// The PP-OCR cascade on real images through the staged runtime.
final class OCRPipelineTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    private static let page = root + "/assets/images/page.jpg"

    private func requireAssets() throws {
        let models = ["ch_PP-OCRv4_det_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx"]
        for path in models.map({ Self.root + "/assets/models/" + $0 }) + [Self.page] where !FileManager.default.fileExists(atPath: path) {
            throw XCTSkip("\(path) missing (run scripts/setup)")
        }
    }

    /// Graphs/ocr.yaml, with `edits` (old → new text) applied, loaded from a copy in a
    /// temporary directory (model paths made absolute).
    private func ocrGraph(_ edits: [(String, String)] = []) throws -> StagedPipelineSpec {
        var text = try String(contentsOfFile: Self.root + "/Graphs/ocr.yaml", encoding: .utf8)
            .replacingOccurrences(of: "../assets/", with: Self.root + "/assets/")
        for (old, new) in edits {
            XCTAssertTrue(text.contains(old), "Graphs/ocr.yaml no longer has '\(old)'")
            text = text.replacingOccurrences(of: old, with: new)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ocr-\(getpid())-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try StagedPipelineSpec.load(path: path)
    }

    func testPageReadsItsLinesInReadingOrder() throws {
        try requireAssets()
        let pipeline = try StagedPipeline(name: "ocr", stages: try ocrGraph().runtimeStages())
        defer { pipeline.shutdown() }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.page)))
        let lines = try XCTUnwrap(pipeline.process([Record(["image": bytes])]).first).get().value("ocr", as: [OCRLine].self)
        // RapidOCR 1.4.4 with the graph's detector limit (longer side ≤ 960) reads 5 lines here
        // (scripts/compare_ocr.py); the fragments are theirs.
        XCTAssertEqual(lines.count, 5, "\(lines.map(\.text))")
        let fragments = ["Region-based", "markers of the coins", "background.These markers", "histogram", ">>markers"]
        for (line, fragment) in zip(lines, fragments) {
            XCTAssertTrue(line.text.contains(fragment), "'\(line.text)' lacks '\(fragment)'")
            XCTAssertGreaterThan(line.score, 0.85)
        }
        // Top to bottom, boxes inside the 384×191 image, clockwise from the top-left.
        XCTAssertEqual(lines.map { $0.box[0].y }, lines.map { $0.box[0].y }.sorted())
        for line in lines {
            XCTAssertTrue(line.box.allSatisfy { (0...384).contains($0.x) && (0...191).contains($0.y) })
            XCTAssertLessThan(line.box[0].x, line.box[1].x)
            XCTAssertLessThan(line.box[1].y, line.box[2].y)
        }
    }

    /// Many requests with different crop counts (pieces of the page with one and with three
    /// lines, a blank image with no box at all) in flight at once through batching queues:
    /// every request gets its own lines, exactly once, in submission order, as when it runs
    /// alone. Lines are identified by their boxes: the text may differ by a space, since a
    /// recognizer batch pads its crops to its widest one and the batches differ.
    func testEveryRequestGetsItsOwnLinesExactlyOnceUnderConcurrency() throws {
        try requireAssets()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.page)))
        let decoded = try bytes.withUnsafeBytes { try JPEGDecoder().decode($0, options: JPEGDecodeOptions(color: .bgr)) }
        let page = try Image(width: decoded.result.width, height: decoded.result.height, channels: 3, pixels: decoded.pixels)
        func piece(rows: Range<Int>, columns: Range<Int>) throws -> Image {
            let pixels = rows.flatMap { y in page.pixels[((y * page.width + columns.lowerBound) * 3)..<((y * page.width + columns.upperBound) * 3)] }
            return try Image(width: columns.count, height: rows.count, channels: 3, pixels: pixels)
        }
        // Small pieces keep the debug-build test fast: lines 2–4 cut to 160 columns, line 1.
        let threeLines = try piece(rows: 40..<110, columns: 0..<160)
        let oneLine = try piece(rows: 0..<44, columns: 0..<300)
        let blank = try Image(width: 64, height: 40, channels: 3, pixels: [UInt8](repeating: 255, count: 64 * 40 * 3))
        let images = [threeLines, blank, oneLine]

        let graph = try ocrGraph([
            ("min_score: 0.5", "min_score: 0"),  // every crop becomes a line, whatever its batch did to its score
            ("params: {threshold: 0.9}\n    queue: {max_batch: 6, max_delay_us: 2000, capacity: 64}",
             "params: {threshold: 0.9}\n    queue: {max_batch: 3, max_delay_us: 1000, capacity: 3}"),
            ("queue: {max_batch: 1, capacity: 64}", "queue: {max_batch: 4, max_delay_us: 1000, capacity: 4}"),
        ])
        XCTAssertEqual(graph.stages.first { $0.name == "rec" }?.queue, QueuePolicy(maxBatch: 4, maxDelayMicroseconds: 1000, capacity: 4))
        // Without the decode stage: records carry the decoded image.
        let stages = Array(graph.runtimeStages().dropFirst())
        let pipeline = try StagedPipeline(name: "ocr", stages: stages, maxInFlight: 8)
        // One at a time first: what each image gives alone.
        let expected = try images.map { image in
            try XCTUnwrap(pipeline.process([Record(["decoded": image])]).first).get().value("ocr", as: [OCRLine].self)
        }
        XCTAssertEqual(expected.map(\.count), [3, 0, 1], "\(expected.map { $0.map(\.text) })")
        let order = (0..<9).map { ($0 * 7) % 3 }
        let results = pipeline.process(order.map { Record(["decoded": images[$0]]) })
        pipeline.shutdown()  // returns once every request is delivered, so the counts are final
        XCTAssertEqual(results.count, order.count)
        for (which, result) in zip(order, results) {
            XCTAssertEqual(try result.get().value("ocr", as: [OCRLine].self).map(\.box), expected[which].map(\.box))
        }
        let statistics = pipeline.statistics()
        XCTAssertEqual(statistics.requestsDelivered, images.count + order.count)
        let rec = try XCTUnwrap(statistics.stages.first { $0.name == "rec" })
        XCTAssertEqual(rec.items, (Array(0..<images.count) + order).map { expected[$0].count }.reduce(0, +), "each crop recognized exactly once")
        XCTAssertLessThanOrEqual(rec.queue?.maxDepth ?? .max, 4)
    }

    func testDetectorInputSizeFollowsRapidOCR() {
        // 384×191: shorter side 191 < 736 → ×3.853: 1479.6 → 1479 → /32 = 46.2 → 1472; 735.9
        // → 735 → 22.97 → 736.
        XCTAssertEqual(OCRPipeline.detectorInputSize(width: 384, height: 191, limit: .shorterAtLeast(736))?.width, 1472)
        XCTAssertEqual(OCRPipeline.detectorInputSize(width: 384, height: 191, limit: .shorterAtLeast(736))?.height, 736)
        // Longer side at most 960 (PaddleOCR's default): 384×191 stays, rounded to 384×192;
        // 1920×1080 → ×0.5 → 960×540 → 960×544 (540/32 = 16.875 → 17).
        XCTAssertEqual(OCRPipeline.detectorInputSize(width: 384, height: 191, limit: .longerAtMost(960)).map { [$0.width, $0.height] }, [384, 192])
        XCTAssertEqual(OCRPipeline.detectorInputSize(width: 1920, height: 1080, limit: .longerAtMost(960)).map { [$0.width, $0.height] }, [960, 544])
        // Already large enough: no scaling, only rounding (1000/32 = 31.25 → 992; 800 = 25·32).
        XCTAssertEqual(OCRPipeline.detectorInputSize(width: 1000, height: 800, limit: .shorterAtLeast(736))?.width, 992)
        // Python's round is half to even: 16/32 = 0.5 → 0 → no input.
        XCTAssertNil(OCRPipeline.detectorInputSize(width: 16, height: 900, limit: .shorterAtLeast(8)))
        // Recognizer batch width: at least 320; else 48 × the widest aspect, truncated.
        func crop(_ width: Int, _ height: Int) -> TextCrop {
            TextCrop(box: [], image: Image(sized: width, height: height, channels: 3, pixels: [UInt8](repeating: 0, count: width * height * 3)))
        }
        XCTAssertEqual(OCRPipeline.recognizerWidth([crop(100, 48)]), 320)
        XCTAssertEqual(OCRPipeline.recognizerWidth([crop(100, 48), crop(480, 30)]), 768)
    }
}
