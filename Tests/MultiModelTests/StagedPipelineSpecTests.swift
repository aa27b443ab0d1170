import Foundation
import Runtime
import XCTest

@testable import MultiModel

/// Staged pipeline files: the repository's graphs load into the stage DAG they declare, and
/// every kind of wiring mistake is refused with the file, line and column and what was expected.
final class StagedPipelineSpecTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("staged-spec-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func load(_ yaml: String) throws -> StagedPipelineSpec {
        let path = directory.appendingPathComponent("graph.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try StagedPipelineSpec.load(path: path)
    }

    /// A small face graph (P-Net proposals, R-Net scores); `stages` replaces its stage list.
    private func faces(stages: String, outputs: String = "[faces]", models: String = "{pnet: p.onnx, rnet: r.onnx}") -> String {
        "pipeline: t\ninputs: {image: jpeg}\nmodels: \(models)\nstages:\n\(stages)\noutputs: \(outputs)\n"
    }

    private let goodStages = """
          - {name: decoded, op: decode_jpeg, inputs: [image]}
          - {name: proposals, op: mtcnn_proposals, inputs: [decoded], model: pnet}
          - {name: rnet, op: mtcnn_score, inputs: [proposals], model: rnet, queue: {max_batch: 4}}
          - {name: scores, op: gather, inputs: [rnet]}
          - {name: faces, op: mtcnn_faces, inputs: [scores]}
        """

    func testTheFaceGraphDeclaresItsStageDAG() throws {
        let faces = try StagedPipelineSpec.load(path: Self.root + "/Graphs/faces.yaml")
        XCTAssertEqual(faces.stages.map(\.name), ["decoded", "proposals", "rnet", "rnet_all", "refined", "onet", "onet_all", "faces"])
        XCTAssertEqual(faces.stages.map(\.op.role), [.map, .expand, .map, .gather, .expand, .map, .gather, .map])
        XCTAssertEqual(faces.stages.compactMap { $0.model?.key }, ["pnet", "rnet", "onet"])
        XCTAssertEqual(faces.stages[1].model?.path, Self.root + "/assets/models/mtcnn_pnet.onnx")
        XCTAssertEqual(faces.stages.map(\.queue?.maxBatch), [nil, nil, 16, nil, nil, 16, nil, nil])
        XCTAssertEqual(faces.stages[2].threads, 1, "threads_per_model")
        let refine = try XCTUnwrap(faces.stages.first { $0.name == "refined" })
        XCTAssertEqual(refine.inputs, ["decoded", "rnet_all"], "a stage with two named inputs")
        XCTAssertEqual(faces.outputKind, .faces)
        XCTAssertTrue(faces.dump.contains("    onet = mtcnn_score(refined) : face_score  model onet (mtcnn_onet.onnx), 1 thread  workers 1  queue {max_batch: 16"), faces.dump)
        XCTAssertTrue(faces.dump.contains("onet_all = gather(onet) : [face_score]  fan-in"), faces.dump)

        // The runtime chain keeps the declared roles and queues.
        let stages = faces.runtimeStages()
        XCTAssertEqual(stages.map(\.role), faces.stages.map(\.op.role))
        XCTAssertEqual(stages[2].policy, QueuePolicy(maxBatch: 16, maxDelayMicroseconds: 2000, capacity: 256))
        XCTAssertEqual(stages[3].inputs, ["rnet"])
    }

    func testAdjustedChangesOnlyDeclaredQueuesAndModelStages() throws {
        let spec = try load(faces(stages: goodStages))
        let adjusted = spec.adjusted(maxBatch: 16, threadsPerModel: 3)
        XCTAssertEqual(adjusted.stages.map(\.queue?.maxBatch), [nil, nil, 16, nil, nil])
        XCTAssertEqual(adjusted.stages[2].queue?.capacity, 64)
        XCTAssertEqual(adjusted.stages.filter { $0.model != nil }.map(\.threads), [3, 3])
        XCTAssertEqual(spec.stages.filter { $0.model != nil }.map(\.threads), [1, 1], "threads_per_model defaults to 1")
    }

    func testWiringMistakesAreLocatedAndExplained() throws {
        let cases: [(String, String)] = [
            (faces(stages: goodStages.replacingOccurrences(of: "op: mtcnn_proposals", with: "op: mtcnn_proposal")),
             "graph.yaml:6:27: error: unknown op 'mtcnn_proposal' in stage 'proposals'; expected one of decode_jpeg, gather, "),
            (faces(stages: goodStages.replacingOccurrences(of: "op: mtcnn_proposals", with: "op: mtcnn_proposal")), "(did you mean 'mtcnn_proposals'?)"),
            (faces(stages: goodStages.replacingOccurrences(of: "inputs: [proposals], model: rnet", with: "inputs: [decoded], model: rnet")),
             "stage 'rnet' (mtcnn_score) gets (image); expected inputs of kinds (face_candidate)"),
            (faces(stages: goodStages.replacingOccurrences(of: "inputs: [scores]", with: "inputs: [rnet]")),
             "stage 'faces' reads 'rnet', which exists only inside a fan-out that is already gathered"),
            (faces(stages: goodStages.replacingOccurrences(of: "inputs: [scores]", with: "inputs: [score]")),
             "stage 'faces' reads 'score', which no earlier stage makes; expected one of decoded, image, scores (did you mean 'scores'?)"),
            (faces(stages: goodStages.replacingOccurrences(of: "  - {name: scores, op: gather, inputs: [rnet]}\n  - {name: faces, op: mtcnn_faces, inputs: [scores]}", with: ""),
                   outputs: "[rnet]"),
             "fan-out stage 'proposals' is never gathered"),
            (faces(stages: goodStages.replacingOccurrences(of: "inputs: [rnet]}", with: "inputs: [decoded]}")),
             "gather 'scores' collects 'decoded', made outside fan-out 'proposals'"),
            (faces(stages: goodStages + "\n  - {name: again, op: gather, inputs: [faces]}"), "gather 'again' with 1 inputs and no fan-out open"),
            (faces(stages: goodStages.replacingOccurrences(of: "op: mtcnn_faces, inputs: [scores]", with: "op: mtcnn_faces, inputs: [scores], model: pnet")),
             "a model on stage 'faces' (mtcnn_faces); expected no model: the op runs none"),
            (faces(stages: goodStages.replacingOccurrences(of: "inputs: [decoded], model: pnet", with: "inputs: [decoded]"), models: "{rnet: r.onnx}"),
             "stage 'proposals' (mtcnn_proposals) has no model; expected model: KEY"),
            (faces(stages: goodStages.replacingOccurrences(of: "model: rnet,", with: "model: refine,")),
             "model 'refine' of stage 'rnet'; expected a key of 'models' (pnet, rnet)"),
            (faces(stages: goodStages, models: "{pnet: p.onnx, rnet: r.onnx, onet: o.onnx}"), "model 'onet' is used by no stage"),
            (faces(stages: goodStages.replacingOccurrences(of: "model: pnet}", with: "model: pnet, params: {min_fac: 20}}")),
             "unknown key 'min_fac' in the params of stage 'proposals' (mtcnn_proposals)"),
            (faces(stages: goodStages.replacingOccurrences(of: "inputs: [image]}", with: "inputs: [image], params: {color: gray}}")),
             "stage 'decoded' parameter 'color' is 'gray'; expected one of rgb, bgr"),
            (faces(stages: goodStages.replacingOccurrences(of: "queue: {max_batch: 4}", with: "queue: {max_batch: 4, capacity: 2}")),
             "capacity is '2'; expected an integer ≥ 4"),
            (faces(stages: goodStages.replacingOccurrences(of: "queue: {max_batch: 4}", with: "queue: {batch: 4}")),
             "unknown key 'batch' in the queue of stage 'rnet'"),
            (faces(stages: goodStages.replacingOccurrences(of: "inputs: [rnet]}", with: "inputs: [rnet], queue: {max_batch: 2}}")),
             "a worker setting on gather 'scores'"),
            (faces(stages: goodStages.replacingOccurrences(of: "inputs: [scores]}", with: "inputs: [scores], threads: 2}")),
             "threads on stage 'faces', which runs no model"),
            (faces(stages: goodStages.replacingOccurrences(of: "{name: faces,", with: "{name: rnet,")), "a second value named 'rnet'"),
            (faces(stages: goodStages, outputs: "[rnet]"), "output 'rnet' is not a value outside every fan-out"),
            (faces(stages: goodStages, outputs: "[faces, decoded]"), "2 outputs; expected exactly one output value"),
            ("pipeline: t\ninputs: {image: png}\nstages: []\noutputs: [x]\n", "input kind 'png'; expected jpeg"),
            ("pipeline: t\nstage: []\n", "unknown key 'stage' in the pipeline; expected one of pipeline, description, inputs, models, settings, stages, outputs (did you mean 'stages'?)"),
        ]
        for (yaml, expected) in cases {
            XCTAssertThrowsError(try load(yaml), expected) { error in
                XCTAssertTrue("\(error)".contains(expected), "got: \(error)\nexpected to contain: \(expected)")
                XCTAssertTrue("\(error)".contains("graph.yaml:"), "no location in: \(error)")
            }
        }
    }

    func testDecodeParamsReachTheDecoder() throws {
        let photo = Self.root + "/assets/images/astronaut.jpg"  // 512×512, colour
        guard FileManager.default.fileExists(atPath: photo) else { throw XCTSkip("\(photo) missing (run scripts/setup)") }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: photo)))
        func decode(_ params: String) throws -> Image {
            let spec = try load("pipeline: t\nstages:\n  - {name: decoded, op: decode_jpeg, inputs: [image], params: \(params)}\noutputs: [decoded]\n")
            let pipeline = try StagedPipeline(name: "t", stages: spec.runtimeStages())
            defer { pipeline.shutdown() }
            return try XCTUnwrap(pipeline.process([Record(["image": bytes])]).first).get().value("decoded", as: Image.self)
        }
        let rgb = try decode("{color: rgb}"), bgr = try decode("{color: bgr, max_pixels: 262144}")
        XCTAssertEqual([rgb.width, rgb.height, bgr.width, bgr.height], [512, 512, 512, 512])
        let (a, b) = (rgb.pixels, bgr.pixels)
        var swapped = a.count == b.count
        for pixel in stride(from: 0, to: a.count, by: 3) where a[pixel] != b[pixel + 2] || a[pixel + 2] != b[pixel] {
            swapped = false
        }
        XCTAssertTrue(swapped, "bgr is rgb with red and blue swapped")
        XCTAssertTrue(rgb.pixels != bgr.pixels, "a colour photo differs between the two orders")
        XCTAssertThrowsError(try decode("{max_pixels: 262143}")) { error in
            XCTAssertTrue("\(error)".contains("262143"), "\(error)")
        }
    }

    func testStagedFilesAreToldApartFromSingleGraphPipelines() {
        XCTAssertFalse(StagedPipelineSpec.isStaged(path: Self.root + "/Graphs/ocr.yaml"), "one IR graph")
        XCTAssertTrue(StagedPipelineSpec.isStaged(path: Self.root + "/Graphs/faces.yaml"))
        XCTAssertFalse(StagedPipelineSpec.isStaged(path: Self.root + "/Graphs/classify.yaml"))
        XCTAssertFalse(StagedPipelineSpec.isStaged(path: Self.root + "/Graphs/no-such-file.yaml"))
    }
}
