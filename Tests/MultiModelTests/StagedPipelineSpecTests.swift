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

    /// A small OCR graph; `stages` replaces its stage list.
    private func ocr(stages: String, outputs: String = "[ocr]", models: String = "{det: d.onnx, rec: r.onnx}") -> String {
        "pipeline: t\ninputs: {image: jpeg}\nmodels: \(models)\nstages:\n\(stages)\noutputs: \(outputs)\n"
    }

    private let goodStages = """
          - {name: decoded, op: decode_jpeg, inputs: [image]}
          - {name: det, op: ocr_detect, inputs: [decoded], model: det}
          - {name: crops, op: text_crops, inputs: [det]}
          - {name: rec, op: text_recognize, inputs: [crops], model: rec, queue: {max_batch: 4}}
          - {name: lines, op: gather, inputs: [rec]}
          - {name: ocr, op: text_lines, inputs: [lines]}
        """

    func testRepositoryGraphsDeclareTheirStageDAG() throws {
        let ocr = try StagedPipelineSpec.load(path: Self.root + "/Graphs/ocr.yaml")
        XCTAssertEqual(ocr.stages.map(\.name), ["decoded", "det", "crops", "cls", "rec", "lines", "ocr"])
        XCTAssertEqual(ocr.stages.map(\.op.role), [.map, .map, .expand, .map, .map, .gather, .map])
        XCTAssertEqual(ocr.stages.map(\.kind), [.image, .textMap, .textCrop, .textCrop, .textLine, .list(.textLine), .textLines])
        XCTAssertEqual(ocr.stages.compactMap { $0.model?.key }, ["det", "cls", "rec"])
        XCTAssertEqual(ocr.stages[1].model?.path, Self.root + "/assets/models/ch_PP-OCRv4_det_infer.onnx")
        XCTAssertEqual(ocr.stages.map(\.queue?.maxBatch), [nil, nil, nil, 6, 1, nil, nil])
        XCTAssertEqual(ocr.stages.map(\.workers), [1, 1, 1, 1, 2, 1, 1])
        XCTAssertEqual(ocr.stages[4].threads, 1, "a stage's threads override threads_per_model")
        XCTAssertEqual(ocr.stages[1].threads, 2)
        XCTAssertEqual(ocr.output, "ocr")
        XCTAssertEqual(ocr.outputKind, .textLines)

        let faces = try StagedPipelineSpec.load(path: Self.root + "/Graphs/faces.yaml")
        let refine = try XCTUnwrap(faces.stages.first { $0.name == "refined" })
        XCTAssertEqual(refine.inputs, ["decoded", "rnet_all"], "a stage with two named inputs")
        XCTAssertEqual(faces.stages.filter { $0.op.role == .expand }.map(\.name), ["proposals", "refined"])
        XCTAssertEqual(faces.outputKind, .faces)
        XCTAssertTrue(faces.dump.contains("    onet = mtcnn_score(refined) : face_score  model onet (mtcnn_onet.onnx), 1 thread  workers 1  queue {max_batch: 16"), faces.dump)
        XCTAssertTrue(faces.dump.contains("onet_all = gather(onet) : [face_score]  fan-in"), faces.dump)

        // The runtime chain keeps the declared roles and queues.
        let stages = ocr.runtimeStages()
        XCTAssertEqual(stages.map(\.role), ocr.stages.map(\.op.role))
        XCTAssertEqual(stages[3].policy, QueuePolicy(maxBatch: 6, maxDelayMicroseconds: 2000, capacity: 64))
        XCTAssertEqual(stages[5].inputs, ["rec"])
    }

    func testAdjustedChangesOnlyDeclaredQueuesAndModelStages() throws {
        let spec = try load(ocr(stages: goodStages))
        let adjusted = spec.adjusted(maxBatch: 16, threadsPerModel: 3)
        XCTAssertEqual(adjusted.stages.map(\.queue?.maxBatch), [nil, nil, nil, 16, nil, nil])
        XCTAssertEqual(adjusted.stages[3].queue?.capacity, 64)
        XCTAssertEqual(adjusted.stages.filter { $0.model != nil }.map(\.threads), [3, 3])
        XCTAssertEqual(spec.stages.filter { $0.model != nil }.map(\.threads), [1, 1], "threads_per_model defaults to 1")
    }

    func testWiringMistakesAreLocatedAndExplained() throws {
        let cases: [(String, String)] = [
            (ocr(stages: goodStages.replacingOccurrences(of: "op: text_crops", with: "op: text_crop")),
             "graph.yaml:7:23: error: unknown op 'text_crop' in stage 'crops'; expected one of decode_jpeg, gather, "),
            (ocr(stages: goodStages.replacingOccurrences(of: "op: text_crops", with: "op: text_crop")), "(did you mean 'text_crops'?)"),
            (ocr(stages: goodStages.replacingOccurrences(of: "inputs: [crops], model: rec", with: "inputs: [decoded], model: rec")),
             "stage 'rec' (text_recognize) gets (image); expected inputs of kinds (text_crop)"),
            (ocr(stages: goodStages.replacingOccurrences(of: "inputs: [lines]", with: "inputs: [rec]")),
             "stage 'ocr' reads 'rec', which exists only inside a fan-out that is already gathered"),
            (ocr(stages: goodStages.replacingOccurrences(of: "inputs: [lines]", with: "inputs: [line]")),
             "stage 'ocr' reads 'line', which no earlier stage makes; expected one of decoded, det, image, lines (did you mean 'lines'?)"),
            (ocr(stages: goodStages.replacingOccurrences(of: "  - {name: lines, op: gather, inputs: [rec]}\n", with: "")
                .replacingOccurrences(of: "inputs: [lines]", with: "inputs: [rec]")),
             "stage 'ocr' (text_lines) gets (text_line); expected inputs of kinds ([text_line])"),
            (ocr(stages: goodStages.replacingOccurrences(of: "  - {name: lines, op: gather, inputs: [rec]}\n  - {name: ocr, op: text_lines, inputs: [lines]}", with: ""),
                 outputs: "[rec]"),
             "fan-out stage 'crops' is never gathered"),
            (ocr(stages: goodStages.replacingOccurrences(of: "inputs: [rec]}", with: "inputs: [det]}")),
             "gather 'lines' collects 'det', made outside fan-out 'crops'"),
            (ocr(stages: goodStages + "\n  - {name: again, op: gather, inputs: [ocr]}"), "gather 'again' with 1 inputs and no fan-out open"),
            (ocr(stages: goodStages.replacingOccurrences(of: "op: text_crops, inputs: [det]", with: "op: text_crops, inputs: [det], model: det")),
             "a model on stage 'crops' (text_crops); expected no model: the op runs none"),
            (ocr(stages: goodStages.replacingOccurrences(of: "inputs: [decoded], model: det", with: "inputs: [decoded]"), models: "{rec: r.onnx}"),
             "stage 'det' (ocr_detect) has no model; expected model: KEY"),
            (ocr(stages: goodStages.replacingOccurrences(of: "model: rec,", with: "model: recognizer,")),
             "model 'recognizer' of stage 'rec'; expected a key of 'models' (det, rec)"),
            (ocr(stages: goodStages, models: "{det: d.onnx, rec: r.onnx, cls: c.onnx}"), "model 'cls' is used by no stage"),
            (ocr(stages: goodStages.replacingOccurrences(of: "model: det}", with: "model: det, params: {limit_sid: 64}}")),
             "unknown key 'limit_sid' in the params of stage 'det' (ocr_detect); expected one of limit_type, limit_side, max_side (did you mean 'limit_side'?)"),
            (ocr(stages: goodStages.replacingOccurrences(of: "inputs: [det]}", with: "inputs: [det], params: {unclip_ratio: -1}}")),
             "stage 'crops' parameter 'unclip_ratio' is '-1'; expected a number in 0.0…10.0"),
            (ocr(stages: goodStages.replacingOccurrences(of: "inputs: [image]}", with: "inputs: [image], params: {color: gray}}")),
             "stage 'decoded' parameter 'color' is 'gray'; expected one of rgb, bgr"),
            (ocr(stages: goodStages.replacingOccurrences(of: "queue: {max_batch: 4}", with: "queue: {max_batch: 4, capacity: 2}")),
             "capacity is '2'; expected an integer ≥ 4"),
            (ocr(stages: goodStages.replacingOccurrences(of: "queue: {max_batch: 4}", with: "queue: {batch: 4}")),
             "unknown key 'batch' in the queue of stage 'rec'"),
            (ocr(stages: goodStages.replacingOccurrences(of: "inputs: [rec]}", with: "inputs: [rec], queue: {max_batch: 2}}")),
             "a worker setting on gather 'lines'"),
            (ocr(stages: goodStages.replacingOccurrences(of: "inputs: [det]}", with: "inputs: [det], threads: 2}")),
             "threads on stage 'crops', which runs no model"),
            (ocr(stages: goodStages.replacingOccurrences(of: "{name: ocr,", with: "{name: det,")), "a second value named 'det'"),
            (ocr(stages: goodStages, outputs: "[rec]"), "output 'rec' is not a value outside every fan-out"),
            (ocr(stages: goodStages, outputs: "[ocr, det]"), "2 outputs; expected exactly one output value"),
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
        XCTAssertTrue(StagedPipelineSpec.isStaged(path: Self.root + "/Graphs/ocr.yaml"))
        XCTAssertTrue(StagedPipelineSpec.isStaged(path: Self.root + "/Graphs/faces.yaml"))
        XCTAssertFalse(StagedPipelineSpec.isStaged(path: Self.root + "/Graphs/classify.yaml"))
        XCTAssertFalse(StagedPipelineSpec.isStaged(path: Self.root + "/Graphs/no-such-file.yaml"))
    }
}
