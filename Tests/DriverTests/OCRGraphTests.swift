import Driver
import Foundation
import IR
import Passes
import Runtime
import TestSupport
import XCTest

/// The PP-OCR cascade as one IR graph (Graphs/ocr.yaml) on real images: compiled by the same
/// compiler as every graph, run by the same runner.
final class OCRGraphTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    private static let graph = root + "/Graphs/ocr.yaml"
    private static func image(_ name: String) -> String { root + "/assets/images/" + name }

    private func requireAssets() throws {
        let models = ["ch_PP-OCRv4_det_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx"]
        for path in models.map({ Self.root + "/assets/models/" + $0 }) + [Self.image("page.jpg")] where !FileManager.default.fileExists(atPath: path) {
            throw XCTSkip("\(path) missing (run scripts/setup)")
        }
    }

    /// Graphs/ocr.yaml with `edits` (old → new text) applied, compiled from a copy in a
    /// temporary directory (model paths made absolute).
    private func compile(_ edits: [(String, String)] = [], level: OptimizationLevel = .O2) throws -> CompiledPipeline {
        var text = try String(contentsOfFile: Self.graph, encoding: .utf8).replacingOccurrences(of: "../assets/", with: Self.root + "/assets/")
        for (old, new) in edits {
            XCTAssertTrue(text.contains(old), "Graphs/ocr.yaml no longer has '\(old)'")
            text = text.replacingOccurrences(of: old, with: new)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ocr-\(getpid())-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Compiler.compile(path: path, options: CompileOptions(level: level))
    }

    func testPageReadsItsLinesInReadingOrderAtO0AndO2() throws {
        try requireAssets()
        let o2 = try PipelineRunner(try compile()).run(path: Self.image("page.jpg"))
        let lines = try XCTUnwrap(o2.texts.first)
        // RapidOCR 1.4.4 with the graph's detector limit (longer side ≤ 960) reads 5 lines here
        // (scripts/compare_ocr.py); the fragments are theirs.
        XCTAssertEqual(lines.count, 5, "\(lines.map(\.text))")
        let fragments = ["Region-based", "markers of the coins", "background.These markers", "histogram", ">>markers"]
        for (line, fragment) in zip(lines, fragments) {
            XCTAssertTrue(line.text.contains(fragment), "'\(line.text)' lacks '\(fragment)'")
            XCTAssertGreaterThan(line.score, 0.85)
        }
        // Top to bottom, boxes inside the 384×191 image, clockwise from the top-left.
        XCTAssertEqual(lines.map { $0.box[0][1] }, lines.map { $0.box[0][1] }.sorted())
        for line in lines {
            XCTAssertEqual(line.box.count, 4)
            XCTAssertTrue(line.box.allSatisfy { (0...384).contains($0[0]) && (0...191).contains($0[1]) })
            XCTAssertLessThan(line.box[0][0], line.box[1][0])
            XCTAssertLessThan(line.box[1][1], line.box[2][1])
        }
        // -O0 runs the same ops unfused and unfolded: the same lines, scores up to rounding.
        let o0 = try XCTUnwrap(try PipelineRunner(try compile(level: .O0)).run(path: Self.image("page.jpg")).texts.first)
        XCTAssertEqual(o0.map(\.text), lines.map(\.text))
        XCTAssertEqual(o0.map(\.box), lines.map(\.box))
        for (a, b) in zip(o0, lines) { XCTAssertEqual(a.score, b.score, accuracy: 1e-3) }
    }

    func testTheDetectorInputIsFusedAndFoldedAndTheStagesAreCut() throws {
        try requireAssets()
        let compiled = try compile()
        let ops = compiled.optimized.nodes.map(\.op)
        // Detector, classifier and recognizer inputs each become one preprocess kernel; the
        // detector's normalization is folded into its first convolution.
        XCTAssertEqual(ops.filter { $0 == .preprocess }.count, 3)
        XCTAssertFalse(ops.contains(.normalize))
        let stages = try StagePartition(compiled.optimized).stages
        XCTAssertEqual(stages.map(\.name).filter { $0.hasSuffix(".then") }.count, 2, "after the classifier's batch, and after the fan-in: \(stages.map(\.name))")
        XCTAssertTrue(stages.contains { if case .fanIn(let values, _, _) = $0.kind { values.count == 2 } else { false } })
    }

    /// Requests with different box counts (a page with five lines, scene text, an image with
    /// none) in flight at once through batching queues that pad lines to the batch's widest:
    /// every request gets its own lines, exactly once, as when it runs alone. Lines are
    /// identified by their boxes: a batch pads a line to another width than it has alone, so
    /// the recognizer's text and scores may differ.
    func testEveryRequestGetsItsOwnLinesExactlyOnceUnderConcurrency() throws {
        try requireAssets()
        let compiled = try compile([
            ("min_score: 0.5", "min_score: 0"),  // every box becomes a line, whatever its batch did to its score
            ("queue: {max_batch: 6, max_delay_us: 2000, capacity: 64}", "queue: {max_batch: 3, max_delay_us: 1000, capacity: 3}"),
            ("queue: {max_batch: 1, capacity: 64, workers: 2, threads: 1, pad_to_largest: true}",
             "queue: {max_batch: 4, max_delay_us: 1000, capacity: 4, workers: 2, threads: 1, pad_to_largest: true}"),
        ])
        let runner = try PipelineRunner(compiled)
        XCTAssertTrue(runner.isShared)
        let images = ["page.jpg", "text.jpg", "scenetext01.jpg"].map(Self.image)
        let expected = try images.map { try XCTUnwrap(runner.run(path: $0).texts.first).map(\.box) }
        XCTAssertGreaterThanOrEqual(expected[0].count, 5, "its five lines, and boxes scoring under 0.5")
        XCTAssertGreaterThan(expected[2].count, 0)
        let order = (0..<9).map { ($0 * 7) % 3 }
        let results = ConcurrentResults<[[[Double]]]>(count: order.count)
        DispatchQueue.concurrentPerform(iterations: order.count) { index in
            results.set(index, Result { try runner.run(path: images[order[index]]).texts.first?.map(\.box) ?? [] })
        }
        for (index, which) in order.enumerated() {
            let result = results.get(index)
            XCTAssertEqual(try XCTUnwrap(result).get(), expected[which])
        }
        let statistics = try XCTUnwrap(runner.queueStatistics())
        let rec = try XCTUnwrap(statistics.stages.first { $0.name.hasPrefix("rec.queue") })
        XCTAssertEqual(rec.items, (Array(0..<images.count) + order).map { expected[$0].count }.reduce(0, +), "each box recognized exactly once")
        XCTAssertLessThanOrEqual(rec.queue?.maxDepth ?? .max, 4)
    }

    func testLabelsFromAModelNeedAModelNodeBeforeTheDecode() throws {
        try requireAssets()
        XCTAssertThrowsError(try compile([("    input: rec\n    ops: [{ctc_decode: {labels: model}}]", "    input: rec_input\n    ops: [{ctc_decode: {labels: model}}]")])) { error in
            XCTAssertTrue("\(error)".contains("ctc_decode with labels: model must read a model node's output"), "\(error)")
        }
    }
}
