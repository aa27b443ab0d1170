import Foundation
import Runtime
import XCTest

@testable import MultiModel

/// The MTCNN cascade on a real photo through the staged runtime.
final class FacePipelineTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func testAstronautHasOneFaceWithLandmarksInsideIt() throws {
        let models = ["mtcnn_pnet.onnx", "mtcnn_rnet.onnx", "mtcnn_onet.onnx"].map { Self.root + "/assets/models/" + $0 }
        let imagePath = Self.root + "/assets/images/astronaut.jpg"
        for path in models + [imagePath] where !FileManager.default.fileExists(atPath: path) {
            throw XCTSkip("\(path) missing (run scripts/setup)")
        }
        let graph = try StagedPipelineSpec.load(path: Self.root + "/Graphs/faces.yaml")
        let pipeline = try StagedPipeline(name: "faces", stages: graph.runtimeStages())
        defer { pipeline.shutdown() }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: imagePath)))
        let first = try XCTUnwrap(pipeline.process([Record(["image": bytes])]).first).get().value("faces", as: [FaceDetection].self)
        XCTAssertEqual(first.count, 1)
        let face = try XCTUnwrap(first.first)
        XCTAssertGreaterThan(face.box.score, 0.9)
        for point in face.landmarks {
            XCTAssertTrue((face.box.x1...face.box.x2).contains(point.x) && (face.box.y1...face.box.y2).contains(point.y))
        }
    }
}
