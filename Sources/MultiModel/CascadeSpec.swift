import Foundation
import Yams

/// A multi-model pipeline file: which cascade, its models, its settings, and the batching
/// policy of each queue edge. The stage graph of each cascade is defined in Swift
/// (`FacePipeline.stages`, `OCRPipeline.stages`); the YAML chooses the models and tunes the
/// queues.
///
/// ```yaml
/// pipeline: faces
/// cascade: mtcnn                     # mtcnn or ocr
/// models: {pnet: ../assets/models/mtcnn_pnet.onnx, rnet: ..., onet: ...}   # relative to this file
/// settings: {min_face: 20, scale_factor: 0.709, threads_per_model: 1}      # optional
/// queues:                            # optional; per queue edge (the stage it feeds)
///   rnet: {max_batch: 16, max_delay_us: 2000, capacity: 256}
///   onet: {max_batch: 16, max_delay_us: 2000, capacity: 256}
/// ```
///
/// `cascade: ocr` takes `models: {det, cls, rec}`, `settings: {threads_per_model, text_score}` and
/// `queues: {cls, rec}`.
public struct CascadeSpec: Sendable {
    public enum Cascade: Sendable {
        case mtcnn(FacePipeline.Models, FacePipeline.Settings)
        case ocr(OCRPipeline.Models, OCRPipeline.Settings)
    }

    public var name: String
    public var cascade: Cascade

    /// Whether the YAML file at `path` is a cascade (has a top-level `cascade` key) rather
    /// than a single-graph pipeline.
    public static func isCascade(path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let root = try? Yams.compose(yaml: text), let mapping = root.mapping
        else { return false }
        return mapping["cascade"] != nil
    }

    public static func load(path: String) throws -> CascadeSpec {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw VisionError("\(path): cannot read the file")
        }
        guard let root = try Yams.compose(yaml: text), root.mapping != nil else {
            throw VisionError("\(path):1:1: error: expected a mapping with keys pipeline, cascade, models")
        }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let base = URL(fileURLWithPath: absolute).deletingLastPathComponent()
        func fail(_ node: Node, _ message: String) -> VisionError {
            VisionError("\(path):\(node.mark?.line ?? 1):\(node.mark?.column ?? 1): error: \(message)")
        }
        func check(_ node: Node, keys: [String], owner: String) throws -> Node.Mapping {
            guard let map = node.mapping else { throw fail(node, "\(owner) must be a mapping") }
            for key in map.keys {
                guard let name = key.string, keys.contains(name) else {
                    throw fail(key, "unknown key '\(key.string ?? "?")' in \(owner); expected one of \(keys.joined(separator: ", "))")
                }
            }
            return map
        }
        func int(_ node: Node?, _ what: String, default value: Int, minimum: Int) throws -> Int {
            guard let node else { return value }
            guard let parsed = node.int, parsed >= minimum else { throw fail(node, "\(what) must be an integer ≥ \(minimum)") }
            return parsed
        }
        func double(_ node: Node?, _ what: String, default value: Double) throws -> Double {
            guard let node else { return value }
            guard let parsed = node.float, parsed > 0 else { throw fail(node, "\(what) must be a number > 0") }
            return parsed
        }

        let top = try check(root, keys: ["pipeline", "description", "cascade", "models", "settings", "queues"], owner: "the pipeline")
        guard let name = top["pipeline"]?.string else { throw fail(root, "missing 'pipeline: NAME'") }
        guard let cascadeNode = top["cascade"], let kind = cascadeNode.string, ["mtcnn", "ocr"].contains(kind) else {
            throw fail(top["cascade"] ?? root, "'cascade' must be mtcnn or ocr")
        }
        let modelKeys = kind == "mtcnn" ? ["pnet", "rnet", "onet"] : ["det", "cls", "rec"]
        guard let modelsNode = top["models"] else { throw fail(root, "missing 'models' (\(modelKeys.joined(separator: ", ")))") }
        let modelMap = try check(modelsNode, keys: modelKeys, owner: "models")
        func modelPath(_ key: String) throws -> String {
            guard let value = modelMap[key]?.string, !value.isEmpty else { throw fail(modelsNode, "models.\(key) must be a file path") }
            return value.hasPrefix("/") ? value : base.appendingPathComponent(value).standardized.path
        }
        let settingKeys = kind == "mtcnn" ? ["min_face", "scale_factor", "threads_per_model"] : ["threads_per_model", "text_score"]
        let settingMap = try top["settings"].map { try check($0, keys: settingKeys, owner: "settings") }
        let threads = try int(settingMap?["threads_per_model"], "settings.threads_per_model", default: 1, minimum: 1)
        let queueMap = try top["queues"].map { try check($0, keys: kind == "mtcnn" ? ["rnet", "onet"] : ["cls", "rec"], owner: "queues") }
        func policy(_ key: String, _ current: QueuePolicy) throws -> QueuePolicy {
            guard let entry = queueMap?[key] else { return current }
            let fields = try check(entry, keys: ["max_batch", "max_delay_us", "capacity"], owner: "queues.\(key)")
            let maxBatch = try int(fields["max_batch"], "max_batch", default: current.maxBatch, minimum: 1)
            let delay = try int(fields["max_delay_us"], "max_delay_us", default: current.maxDelayMicroseconds, minimum: 0)
            let capacity = try int(fields["capacity"], "capacity", default: max(current.capacity, maxBatch), minimum: maxBatch)
            return QueuePolicy(maxBatch: maxBatch, maxDelayMicroseconds: delay, capacity: capacity)
        }

        if kind == "ocr" {
            let models = OCRPipeline.Models(detector: try modelPath("det"), classifier: try modelPath("cls"), recognizer: try modelPath("rec"))
            var settings = OCRPipeline.Settings()
            settings.threadsPerModel = threads
            if let node = settingMap?["text_score"] {
                guard let score = node.float, (0...1).contains(score) else { throw fail(node, "settings.text_score must be a number in 0…1") }
                settings.textScore = score
            }
            settings.classifierQueue = try policy("cls", settings.classifierQueue)
            settings.recognizerQueue = try policy("rec", settings.recognizerQueue)
            return CascadeSpec(name: name, cascade: .ocr(models, settings))
        }
        let models = FacePipeline.Models(pnet: try modelPath("pnet"), rnet: try modelPath("rnet"), onet: try modelPath("onet"))
        var settings = FacePipeline.Settings()
        if let map = settingMap, let node = top["settings"] {
            settings.minFace = try double(map["min_face"], "settings.min_face", default: settings.minFace)
            settings.scaleFactor = try double(map["scale_factor"], "settings.scale_factor", default: settings.scaleFactor)
            guard settings.scaleFactor < 1 else { throw fail(node, "settings.scale_factor must be below 1") }
        }
        settings.threadsPerModel = threads
        settings.rnetQueue = try policy("rnet", settings.rnetQueue)
        settings.onetQueue = try policy("onet", settings.onetQueue)
        return CascadeSpec(name: name, cascade: .mtcnn(models, settings))
    }

    public func stages() -> [Stage] {
        switch cascade {
        case .mtcnn(let models, let settings): FacePipeline.stages(models: models, settings: settings)
        case .ocr(let models, let settings): OCRPipeline.stages(models: models, settings: settings)
        }
    }

    /// The record value that holds a request's result: `[FaceDetection]` or `[OCRLine]`.
    public var resultName: String {
        switch cascade {
        case .mtcnn: "faces"
        case .ocr: "ocr"
        }
    }

    /// The same cascade with `maxBatch` (and a capacity of at least that) on every queue
    /// and/or another intra-op thread count per model worker, for measuring them.
    public func adjusted(maxBatch: Int? = nil, threadsPerModel: Int? = nil) -> CascadeSpec {
        func adjusted(_ policy: QueuePolicy) -> QueuePolicy {
            guard let maxBatch else { return policy }
            return QueuePolicy(maxBatch: maxBatch, maxDelayMicroseconds: policy.maxDelayMicroseconds, capacity: max(policy.capacity, maxBatch))
        }
        var copy = self
        switch cascade {
        case .mtcnn(let models, var settings):
            settings.rnetQueue = adjusted(settings.rnetQueue)
            settings.onetQueue = adjusted(settings.onetQueue)
            settings.threadsPerModel = threadsPerModel ?? settings.threadsPerModel
            copy.cascade = .mtcnn(models, settings)
        case .ocr(let models, var settings):
            settings.classifierQueue = adjusted(settings.classifierQueue)
            settings.recognizerQueue = adjusted(settings.recognizerQueue)
            settings.threadsPerModel = threadsPerModel ?? settings.threadsPerModel
            copy.cascade = .ocr(models, settings)
        }
        return copy
    }
}
