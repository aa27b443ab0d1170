import Driver
import Foundation
import MultiModel
import Runtime

/// `visionc run` for a multi-model staged pipeline (see `StagedPipelineSpec`): every image goes
/// through the staged pipeline at once (stages overlap across images), results print in
/// input order.
enum CascadeRun {
    /// - Parameters:
    ///   - options: how each stage's model is compiled (`-O`, `--fidelity`, `--backends`).
    ///   - threadsPerModel: intra-op threads of every model worker (`--threads`; default: the graph's).
    static func run(graph: String, images: [String], json: Bool, options: CompileOptions, threadsPerModel: Int?) throws -> Int {
        let spec = try StagedPipelineSpec.load(path: graph).adjusted(threadsPerModel: threadsPerModel)
        guard spec.outputKind == .faces else {
            throw CascadeRunError("\(graph): output '\(spec.output)' is \(spec.outputKind); `visionc run` prints faces")
        }
        let pipeline = try StagedPipeline(name: spec.name, stages: spec.runtimeStages(options: options))
        defer { pipeline.shutdown() }
        var failures = 0
        let records = try images.map { path -> Record in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CascadeRunError("\(path): cannot read input file")
            }
            return Record([spec.input: [UInt8](data)])
        }
        for (path, result) in zip(images, pipeline.process(records)) {
            do {
                let faces = try result.get().value(spec.output, as: [FaceDetection].self)
                print(json ? jsonLine(path, faces) : text(path, faces))
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("error: \(path): \(error)\n".utf8))
            }
        }
        return failures
    }

    private static func jsonLine(_ path: String, _ faces: [FaceDetection]) -> String {
        let results = faces.map { face -> [String: Any] in
            [
                "box": [face.box.x1, face.box.y1, face.box.x2, face.box.y2],
                "score": face.box.score,
                "landmarks": face.landmarks.map { [$0.x, $0.y] },
            ]
        }
        let object: [String: Any] = ["input": path, "results": results]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    private static func text(_ path: String, _ faces: [FaceDetection]) -> String {
        var lines = ["\(path): \(faces.count) face\(faces.count == 1 ? "" : "s")"]
        for face in faces {
            let box = face.box
            lines.append(String(format: "  [%.1f, %.1f, %.1f, %.1f] score %.4f", box.x1, box.y1, box.x2, box.y2, box.score))
        }
        return lines.joined(separator: "\n")
    }
}

struct CascadeRunError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
