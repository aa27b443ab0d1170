import Driver
import Foundation
import IR
import Runtime
import TestSupport
import XCTest

/// Graphs/detect-layout.yaml (PicoDet-LCNet over the general detection ops) against RapidLayout
/// with ONNX Runtime on real pages: the boxes the peer finds (assets/references/layout.json,
/// written by `scripts/compare_layout.py --reference`), judged as that script judges them.
final class LayoutGraphTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    private struct Reference: Decodable {
        struct Box: Decodable {
            var box: [Double]
            var score: Double
            var label: String
        }
        struct Image: Decodable {
            var image: String
            var boxes: [Box]
        }
        var iouMin: Double
        var scoreMaxDifference: Double
        var images: [Image]
    }

    private func reference() throws -> Reference {
        let referencePath = Self.root + "/assets/references/layout.json"
        guard FileManager.default.fileExists(atPath: Self.root + "/assets/models/layout_cdla.onnx") else {
            throw XCTSkip("assets/models/layout_cdla.onnx missing (run scripts/setup)")
        }
        guard FileManager.default.fileExists(atPath: referencePath) else {
            throw XCTSkip("\(referencePath) missing (run scripts/compare_layout.py --reference)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: referencePath)))
    }

    func testEveryPeerBoxIsFoundWithItsLabelAndScore() throws {
        let reference = try reference()
        XCTAssertGreaterThanOrEqual(reference.images.count, 3, "the agreement set is the OCR test pages")
        XCTAssertGreaterThan(reference.images.map(\.boxes.count).reduce(0, +), 3)
        let runner = try PipelineRunner(try Compiler.compile(path: Self.root + "/Graphs/detect-layout.yaml", options: CompileOptions()))
        for entry in reference.images {
            let ours = try XCTUnwrap(try runner.run(path: Self.root + "/assets/" + entry.image).detections.first)
            XCTAssertEqual(ours.count, entry.boxes.count, "\(entry.image): visionc finds \(ours.count) boxes, the peer \(entry.boxes.count)")
            var unpaired = ours
            for peer in entry.boxes {
                let candidates = unpaired.indices.filter { unpaired[$0].label == peer.label }
                guard let best = candidates.max(by: { boxIoU(unpaired[$0].box, peer.box) < boxIoU(unpaired[$1].box, peer.box) }) else {
                    XCTFail("\(entry.image): the peer's \(peer.label) \(peer.box) has no visionc box of that label")
                    continue
                }
                let found = unpaired.remove(at: best)
                XCTAssertGreaterThanOrEqual(boxIoU(found.box, peer.box), reference.iouMin, "\(entry.image): \(found.box) vs the peer's \(peer.box)")
                XCTAssertEqual(found.score, peer.score, accuracy: reference.scoreMaxDifference, "\(entry.image): \(peer.label)")
            }
        }
    }

    /// -O0 (every op a node, native kernels) finds the same boxes as -O2, and the decode ops
    /// stay plan steps: only nms and detections run between plans.
    func testO0AgreesAndOnlyTheSelectionRunsBetweenPlans() throws {
        let page = Self.root + "/assets/images/eurotext.jpg"
        _ = try reference()
        let compiled = try Compiler.compile(path: Self.root + "/Graphs/detect-layout.yaml", options: CompileOptions())
        XCTAssertEqual(compiled.optimized.nodes.filter { $0.op.hasDataDependentShape }.map(\.op), [.nms, .detections])
        let o2 = try XCTUnwrap(try PipelineRunner(compiled).run(path: page).detections.first)
        let o0 = try XCTUnwrap(try PipelineRunner(try Compiler.compile(path: Self.root + "/Graphs/detect-layout.yaml", options: CompileOptions(level: .O0)))
            .run(path: page).detections.first)
        XCTAssertEqual(o0.count, o2.count)
        for (a, b) in zip(o0, o2) {
            XCTAssertEqual(a.label, b.label)
            for (x, y) in zip(a.box, b.box) { XCTAssertEqual(x, y, accuracy: 0.05) }
            XCTAssertEqual(a.score, b.score, accuracy: 1e-4)
        }
    }

    /// Class names that cannot be right fail at compile time, at the YAML line that names them.
    func testLabelsFromANonModelNodeOrOfTheWrongCountAreRefused() throws {
        _ = try reference()
        let yaml = try String(contentsOfFile: Self.root + "/Graphs/detect-layout.yaml", encoding: .utf8)
            .replacingOccurrences(of: "../assets/", with: Self.root + "/assets/")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("layout-labels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "text\ntitle\nfigure\n".write(to: directory.appendingPathComponent("three.txt"), atomically: true, encoding: .utf8)
        for (replacement, message) in [
            ("{labels: model, model: stretched}", "'stretched' is not a model node before this one"),
            ("{labels: model, model: detector, metadata_key: names}", "the model of node 'detector' has no metadata entry 'names'"),
            ("{labels: three.txt}", "the scores have 10 classes, but there are 3 labels"),
        ] {
            let graph = directory.appendingPathComponent("layout.yaml")
            try yaml.replacingOccurrences(of: "{labels: model, model: detector}", with: replacement).write(to: graph, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try Compiler.compile(path: graph.path, options: CompileOptions())) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
                XCTAssertTrue("\(error)".contains("layout.yaml:"), "\(error)")
            }
        }
    }
}
