import Driver
import Foundation
import TestSupport
import XCTest

/// The README's worked YOLOX example, run as written: its YAML block, with the model and
/// labels paths pointed at `Tests/Data/yolox-shaped.onnx` (YOLOX-S's interface, an answer known
/// by construction: see scripts/make_detector_test_data.py) and a two-class labels file, on a
/// black 1280×960 photo with one white 128×128 square. Letterbox, grid decode, class-agnostic NMS,
/// mapping back through the letterbox and labelling must together give exactly the square's
/// cells of every level, in the photo's pixels.
final class DetectorExampleTests: XCTestCase {
    /// The YAML block under the README's "A new YOLOX-style model" paragraph.
    private func readmeExample() throws -> String {
        let readme = try String(contentsOf: TestPaths.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try XCTUnwrap(readme.range(of: "**A new YOLOX-style model, no Swift.**"), "the README lost its YOLOX example")
        let rest = readme[section.upperBound...]
        let start = try XCTUnwrap(rest.range(of: "```yaml\n"))
        let end = try XCTUnwrap(rest[start.upperBound...].range(of: "```"))
        return String(rest[start.upperBound..<end.lowerBound])
    }

    func testTheREADMEsYOLOXGraphFindsTheSquaresCellsInThePhotosPixels() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("detector-example-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "square\nother\n".write(to: directory.appendingPathComponent("coco_classes.txt"), atomically: true, encoding: .utf8)
        let yaml = try readmeExample().replacingOccurrences(of: "model: yolox_s.onnx", with: "model: \(TestPaths.testData("yolox-shaped.onnx").path)")
        XCTAssertTrue(yaml.contains("labels: coco_classes.txt"), yaml)
        let graph = directory.appendingPathComponent("detect_yolox.yaml")
        try yaml.write(to: graph, atomically: true, encoding: .utf8)

        let runner = try PipelineRunner(try Compiler.compile(path: graph.path, options: CompileOptions()))
        let found = try XCTUnwrap(try runner.run(path: TestPaths.testData("square-1280x960.png").path).detections.first)
        // The letterbox halves the 1280×960 photo into the top-left of the 640×640 frame, where
        // the square (x 160…224, y 96…160) is 8×8 cells of stride 8, 4×4 of 16, 2×2 of 32; each
        // cell's box comes back doubled, in the photo's pixels.
        var expected: [[Double]] = []
        for stride in [8, 16, 32] {
            for row in (96 / stride)..<(160 / stride) {
                for col in (160 / stride)..<(224 / stride) {
                    expected.append([col, row, col + 1, row + 1].map { Double($0 * stride * 2) })
                }
            }
        }
        XCTAssertEqual(found.count, expected.count)
        XCTAssertEqual(Set(found.map(\.box)), Set(expected))
        for detection in found {
            XCTAssertEqual(detection.label, "square")
            XCTAssertEqual(detection.score, 1, accuracy: 1e-4)
        }
    }
}
