import Foundation
import XCTest

@testable import MultiModel

/// The MTCNN cascade on a real photo through the staged runtime.
final class FacePipelineTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func testAstronautHasOneFaceWithLandmarksInsideIt() throws {
        let models = FacePipeline.Models(
            pnet: Self.root + "/assets/models/mtcnn_pnet.onnx", rnet: Self.root + "/assets/models/mtcnn_rnet.onnx",
            onet: Self.root + "/assets/models/mtcnn_onet.onnx")
        let imagePath = Self.root + "/assets/images/astronaut.jpg"
        for path in [models.pnet, models.rnet, models.onet, imagePath] where !FileManager.default.fileExists(atPath: path) {
            throw XCTSkip("\(path) missing (run scripts/setup)")
        }
        let pipeline = try StagedPipeline(name: "faces", stages: FacePipeline.stages(models: models, settings: FacePipeline.Settings()))
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
