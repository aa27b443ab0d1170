import Foundation
import Yams

/// A multi-model pipeline file: which cascade, its models, its settings, and the batching
/// policy of each queue edge. The stage graph of each cascade is defined in Swift
/// (`FacePipeline.stages`); the YAML chooses the models and tunes the queues.
///
/// ```yaml
/// pipeline: faces
/// cascade: mtcnn                     # the only cascade so far
/// models: {pnet: ../assets/models/mtcnn_pnet.onnx, rnet: ..., onet: ...}   # relative to this file
/// settings: {min_face: 20, scale_factor: 0.709, threads_per_model: 1}      # optional
/// queues:                            # optional; per queue edge (the stage it feeds)
///   rnet: {max_batch: 16, max_delay_us: 2000, capacity: 256}
///   onet: {max_batch: 16, max_delay_us: 2000, capacity: 256}
/// ```
public struct CascadeSpec: Sendable {
    public var name: String
    public var models: FacePipeline.Models
    public var settings: FacePipeline.Settings

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
        guard let root = try Yams.compose(yaml: text), let mapping = root.mapping else {
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
        guard let cascadeNode = top["cascade"], cascadeNode.string == "mtcnn" else {
            throw fail(top["cascade"] ?? root, "'cascade' must be mtcnn")
        }
        guard let modelsNode = top["models"] else { throw fail(root, "missing 'models' (pnet, rnet, onet)") }
        let modelMap = try check(modelsNode, keys: ["pnet", "rnet", "onet"], owner: "models")
        func modelPath(_ key: String) throws -> String {
            guard let value = modelMap[key]?.string, !value.isEmpty else { throw fail(modelsNode, "models.\(key) must be a file path") }
            return value.hasPrefix("/") ? value : base.appendingPathComponent(value).standardized.path
        }
        let models = FacePipeline.Models(pnet: try modelPath("pnet"), rnet: try modelPath("rnet"), onet: try modelPath("onet"))

        var settings = FacePipeline.Settings()
        if let node = top["settings"] {
            let map = try check(node, keys: ["min_face", "scale_factor", "threads_per_model"], owner: "settings")
            settings.minFace = try double(map["min_face"], "settings.min_face", default: settings.minFace)
            settings.scaleFactor = try double(map["scale_factor"], "settings.scale_factor", default: settings.scaleFactor)
            guard settings.scaleFactor < 1 else { throw fail(node, "settings.scale_factor must be below 1") }
            settings.threadsPerModel = try int(map["threads_per_model"], "settings.threads_per_model", default: 1, minimum: 1)
        }
        if let node = top["queues"] {
            let map = try check(node, keys: ["rnet", "onet"], owner: "queues")
            func policy(_ key: String, _ current: QueuePolicy) throws -> QueuePolicy {
                guard let entry = map[key] else { return current }
                let fields = try check(entry, keys: ["max_batch", "max_delay_us", "capacity"], owner: "queues.\(key)")
                let maxBatch = try int(fields["max_batch"], "max_batch", default: current.maxBatch, minimum: 1)
                let delay = try int(fields["max_delay_us"], "max_delay_us", default: current.maxDelayMicroseconds, minimum: 0)
                let capacity = try int(fields["capacity"], "capacity", default: max(current.capacity, maxBatch), minimum: maxBatch)
                return QueuePolicy(maxBatch: maxBatch, maxDelayMicroseconds: delay, capacity: capacity)
            }
            settings.rnetQueue = try policy("rnet", settings.rnetQueue)
            settings.onetQueue = try policy("onet", settings.onetQueue)
        }
        return CascadeSpec(name: name, models: models, settings: settings)
    }

    public func stages() -> [Stage] { FacePipeline.stages(models: models, settings: settings) }
}
