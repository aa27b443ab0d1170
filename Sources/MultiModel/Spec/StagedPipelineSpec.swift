import Driver
import Runtime
import Foundation
import PipelineSpec
import Yams

/// A multi-model pipeline file: a graph of stages, each an op from `StageOp.catalog`, wired by
/// named values, with a batching queue in front of any stage that declares one.
///
/// ```yaml
/// pipeline: ocr
/// inputs: {image: jpeg}                # the one request value
/// models:                              # relative to this file
///   det: ../assets/models/ch_PP-OCRv4_det_infer.onnx
///   rec: ../assets/models/ch_PP-OCRv4_rec_infer.onnx
/// settings: {threads_per_model: 2}     # optional: intra-op threads of each model worker
/// stages:
///   - {name: decoded, op: decode_jpeg, inputs: [image], params: {color: bgr}}
///   - {name: det, op: ocr_detect, inputs: [decoded], model: det}
///   - {name: crops, op: text_crops, inputs: [det]}                 # fan-out: one child per box
///   - name: rec
///     op: text_recognize
///     inputs: [crops]
///     model: rec
///     queue: {max_batch: 6, max_delay_us: 2000, capacity: 64}     # the edge into rec batches
///     workers: 1                                                   # optional, threads: N optional
///   - {name: lines, op: gather, inputs: [rec]}                     # fan-in, in child order
///   - {name: ocr, op: text_lines, inputs: [lines]}
/// outputs: [ocr]
/// ```
///
/// A stage may read any value defined before it that is in scope: values made between a
/// fan-out and its gather exist per child and are out of scope after the gather, which
/// hands on only the list it collects. Stages run in the listed order per record, so the list
/// is a topological order of the graph; different requests (and different children of one
/// request) are in different stages at once.
public struct StagedPipelineSpec: Sendable {
    public struct StageSpec: Sendable {
        public var name: String
        public var op: StageOp
        public var inputs: [String]
        /// What the stage writes: per record, per fan-out child, or the gathered list.
        public var kind: ValueKind
        /// The `models` key and its resolved path, for a model stage.
        public var model: (key: String, path: String)?
        /// The queue in front of the stage; nil when the file declares none (items go one at a time).
        public var queue: QueuePolicy?
        public var workers: Int
        /// Intra-op threads of each model worker (the stage's `threads`, else `threads_per_model`).
        public var threads: Int
        public var location: SourceLocation
        let makeWorker: StageWorkerFactory?
    }

    public var name: String
    public var description: String?
    public var path: String
    /// The request value every record starts with (encoded JPEG bytes).
    public var input: String
    public var stages: [StageSpec]
    public var output: String
    public var outputKind: ValueKind

    /// Whether the YAML file at `path` is a staged pipeline (has a top-level `stages` list)
    /// rather than a single-graph pipeline (`nodes`).
    public static func isStaged(path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let root = try? Yams.compose(yaml: text), let mapping = root.mapping
        else { return false }
        return mapping["stages"] != nil
    }

    /// The stages to run, with `makeWorker` closures that open the models when the pipeline
    /// starts, each model compiled with `options` (by default as `visionc run` compiles).
    public func runtimeStages(options: CompileOptions = CompileOptions()) -> [Stage] {
        stages.map { spec in
            let policy = spec.queue ?? QueuePolicy()
            guard let factory = spec.makeWorker else { return .gather(spec.name, collecting: spec.inputs[0]) }
            let context = StageWorkerContext(modelPath: spec.model?.path, threads: spec.threads, options: options)
            let make: @Sendable () throws -> any StageWorker = { try factory(context) }
            return spec.op.role == .expand
                ? .expand(spec.name, inputs: spec.inputs, policy: policy, workers: spec.workers, worker: make)
                : .map(spec.name, inputs: spec.inputs, policy: policy, workers: spec.workers, worker: make)
        }
    }

    /// The same pipeline with `maxBatch` (and a capacity of at least that) on every declared
    /// queue and/or another intra-op thread count on every model stage, for measuring them.
    public func adjusted(maxBatch: Int? = nil, threadsPerModel: Int? = nil) -> StagedPipelineSpec {
        var copy = self
        for index in copy.stages.indices {
            if let maxBatch, let policy = copy.stages[index].queue {
                copy.stages[index].queue = QueuePolicy(
                    maxBatch: maxBatch, maxDelayMicroseconds: policy.maxDelayMicroseconds, capacity: max(policy.capacity, maxBatch))
            }
            if let threadsPerModel, copy.stages[index].model != nil { copy.stages[index].threads = threadsPerModel }
        }
        return copy
    }

    /// The stage graph as `visionc compile` prints it: one line per stage with its op, role,
    /// inputs, value kind, model, workers and queue policy.
    public var dump: String {
        var lines = ["pipeline \(name): \(stages.count) stages, \(Set(stages.compactMap { $0.model?.key }).count) models", "  input \(input): jpeg"]
        var depth = 0
        for stage in stages {
            if stage.op.role == .gather { depth -= 1 }
            let indent = String(repeating: "  ", count: depth + 1)
            var line = "\(indent)\(stage.name) = \(stage.op.name)(\(stage.inputs.joined(separator: ", "))) : \(stage.kind)"
            switch stage.op.role {
            case .expand: line += "  fan-out"
            case .gather: line += "  fan-in"
            case .map: break
            }
            if let model = stage.model { line += "  model \(model.key) (\(URL(fileURLWithPath: model.path).lastPathComponent)), \(stage.threads) thread\(stage.threads == 1 ? "" : "s")" }
            if stage.op.role != .gather {
                line += "  workers \(stage.workers)"
                if let queue = stage.queue {
                    line += "  queue {max_batch: \(queue.maxBatch), max_delay_us: \(queue.maxDelayMicroseconds), capacity: \(queue.capacity)}"
                }
            }
            lines.append(line)
            if stage.op.role == .expand { depth += 1 }
        }
        lines.append("  output \(output): \(outputKind)")
        return lines.joined(separator: "\n")
    }
}

// MARK: - Loading

extension StagedPipelineSpec {
    public static func load(path: String) throws -> StagedPipelineSpec {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SpecError(at: SourceLocation(file: path, line: 1, column: 1), found: "a file that cannot be read", expected: "a pipeline YAML file")
        }
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else { throw YamlError.dataCouldNotBeDecoded(encoding: .utf8) }
            root = composed
        } catch let error as YamlError {
            throw SpecError(at: SourceLocation(file: path, line: 1, column: 1), found: "invalid YAML (\(error))", expected: "a YAML mapping")
        }
        return try Loader(path: path).pipeline(root)
    }

    /// Reads and checks one file; every error carries file:line:column.
    private struct Loader {
        let path: String
        let base: URL

        init(path: String) {
            self.path = path
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            base = URL(fileURLWithPath: absolute).deletingLastPathComponent()
        }

        func at(_ node: Node) -> SourceLocation { SourceLocation(file: path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1) }

        func fail(_ node: Node, _ found: String, expected: String, suggestion: String? = nil) -> SpecError {
            SpecError(at: at(node), found: found, expected: expected, suggestion: suggestion)
        }

        /// The mapping `node`, with every key one of `keys`.
        func mapping(_ node: Node, keys: [String], owner: String) throws -> Node.Mapping {
            guard let map = node.mapping else { throw fail(node, "\(owner) is not a mapping", expected: "a mapping with keys \(keys.joined(separator: ", "))") }
            for key in map.keys {
                let name = key.string ?? "?"
                guard keys.contains(name) else {
                    throw fail(key, "unknown key '\(name)' in \(owner)", expected: "one of \(keys.joined(separator: ", "))", suggestion: closestName(to: name, among: keys))
                }
            }
            return map
        }

        func integer(_ node: Node?, _ what: String, default value: Int, minimum: Int) throws -> Int {
            guard let node else { return value }
            guard let parsed = node.int, parsed >= minimum else { throw fail(node, "\(what) is '\(node.string ?? "?")'", expected: "an integer ≥ \(minimum)") }
            return parsed
        }

        func names(_ node: Node, _ what: String) throws -> [String] {
            if let single = node.string { return [single] }
            guard let sequence = node.sequence, !sequence.isEmpty else { throw fail(node, "\(what) is empty or not a list", expected: "a list of value names") }
            return try sequence.map { item in
                guard let name = item.string else { throw fail(item, "\(what) holds a non-name", expected: "value names") }
                return name
            }
        }

        func pipeline(_ root: Node) throws -> StagedPipelineSpec {
            let top = try mapping(root, keys: ["pipeline", "description", "inputs", "models", "settings", "stages", "outputs"], owner: "the pipeline")
            guard let name = top["pipeline"]?.string else { throw fail(root, "no 'pipeline: NAME'", expected: "the pipeline's name") }

            // The request input: exactly one JPEG value.
            var input = "image"
            if let node = top["inputs"] {
                guard let map = node.mapping else { throw fail(node, "inputs is not a mapping", expected: "{NAME: jpeg}") }
                guard map.count == 1, let (key, kind) = map.first.map({ ($0.key, $0.value) }), let inputName = key.string else {
                    throw fail(node, "\(map.count) inputs", expected: "exactly one request input, e.g. {image: jpeg}")
                }
                guard kind.string == "jpeg" else { throw fail(kind, "input kind '\(kind.string ?? "?")'", expected: "jpeg") }
                input = inputName
            }

            var models: [String: String] = [:]
            if let node = top["models"] {
                guard let map = node.mapping else { throw fail(node, "models is not a mapping", expected: "{KEY: path/to/model.onnx, ...}") }
                for (key, value) in map {
                    guard let keyName = key.string, let file = value.string, !file.isEmpty else {
                        throw fail(value, "models entry '\(key.string ?? "?")' is not a file path", expected: "a path to an .onnx file, relative to this file")
                    }
                    models[keyName] = file.hasPrefix("/") ? file : base.appendingPathComponent(file).standardized.path
                }
            }

            let settings = try top["settings"].map { try mapping($0, keys: ["threads_per_model"], owner: "settings") }
            let threadsPerModel = try integer(settings?["threads_per_model"], "settings.threads_per_model", default: 1, minimum: 1)

            guard let stagesNode = top["stages"], let stageNodes = stagesNode.sequence, !stageNodes.isEmpty else {
                throw fail(top["stages"] ?? root, "no stages", expected: "a 'stages' list")
            }
            // Values in scope, innermost fan-out last: name → kind.
            var scopes: [[String: ValueKind]] = [[input: .jpeg]]
            var openFanOuts: [String] = []
            var defined: Set<String> = [input]
            var stages: [StageSpec] = []
            var usedModels = Set<String>()
            for node in stageNodes {
                let stage = try self.stage(
                    node, models: models, threadsPerModel: threadsPerModel, scopes: &scopes, openFanOuts: &openFanOuts, defined: &defined)
                if let model = stage.model { usedModels.insert(model.key) }
                stages.append(stage)
            }
            if let unclosed = openFanOuts.last {
                throw fail(stagesNode, "fan-out stage '\(unclosed)' is never gathered", expected: "a 'gather' stage after it that collects one value per child")
            }
            if let unused = models.keys.sorted().first(where: { !usedModels.contains($0) }), let node = top["models"] {
                throw fail(node, "model '\(unused)' is used by no stage", expected: "every models entry named by a stage's 'model'")
            }

            guard let outputsNode = top["outputs"] else { throw fail(root, "no 'outputs'", expected: "outputs: [STAGE]") }
            let outputs = try names(outputsNode, "outputs")
            guard outputs.count == 1, let output = outputs.first else { throw fail(outputsNode, "\(outputs.count) outputs", expected: "exactly one output value") }
            guard let outputKind = scopes[0][output] else {
                throw fail(outputsNode, "output '\(output)' is not a value outside every fan-out", expected: "a stage name",
                           suggestion: closestName(to: output, among: Array(scopes[0].keys)))
            }
            return StagedPipelineSpec(
                name: name, description: top["description"]?.string, path: path, input: input, stages: stages, output: output, outputKind: outputKind)
        }

        func stage(
            _ node: Node, models: [String: String], threadsPerModel: Int, scopes: inout [[String: ValueKind]], openFanOuts: inout [String],
            defined: inout Set<String>
        ) throws -> StageSpec {
            let map = try mapping(node, keys: ["name", "op", "inputs", "model", "params", "queue", "workers", "threads"], owner: "a stage")
            guard let name = map["name"]?.string, !name.isEmpty else { throw fail(node, "a stage without a name", expected: "name: NAME") }
            guard !defined.contains(name), !name.hasSuffix(".index") else {
                throw fail(map["name"] ?? node, "a second value named '\(name)'", expected: "a name unique in the pipeline")
            }
            guard let opNode = map["op"], let opName = opNode.string else { throw fail(node, "stage '\(name)' has no op", expected: "op: NAME") }
            guard let op = StageOp.named(opName) else {
                let known = StageOp.catalog.map(\.name)
                throw fail(opNode, "unknown op '\(opName)' in stage '\(name)'", expected: "one of \(known.joined(separator: ", "))",
                           suggestion: closestName(to: opName, among: known))
            }
            guard let inputsNode = map["inputs"] else { throw fail(node, "stage '\(name)' has no inputs", expected: "inputs: [VALUE, ...]") }
            let inputs = try names(inputsNode, "stage '\(name)' inputs")

            // Inputs: in scope and of the kinds the op reads.
            let visible = scopes.reduce(into: [String: ValueKind]()) { $0.merge($1) { _, inner in inner } }
            var kinds: [ValueKind] = []
            for input in inputs {
                guard let kind = visible[input] else {
                    throw fail(inputsNode, "stage '\(name)' reads '\(input)', \(defined.contains(input) ? "which exists only inside a fan-out that is already gathered" : "which no earlier stage makes")",
                               expected: "one of \(visible.keys.sorted().joined(separator: ", "))", suggestion: closestName(to: input, among: Array(visible.keys)))
                }
                kinds.append(kind)
            }
            if op.role == .gather {
                guard inputs.count == 1, let openFanOut = openFanOuts.last else {
                    throw fail(inputsNode, "gather '\(name)' with \(inputs.count) inputs\(openFanOuts.isEmpty ? " and no fan-out open" : "")",
                               expected: "one input made after an open fan-out stage")
                }
                guard scopes[scopes.count - 1][inputs[0]] != nil else {
                    throw fail(inputsNode, "gather '\(name)' collects '\(inputs[0])', made outside fan-out '\(openFanOut)'", expected: "a value made per child of '\(openFanOut)'")
                }
            } else if kinds != op.inputs {
                throw fail(inputsNode, "stage '\(name)' (\(op.name)) gets (\(kinds.map(\.description).joined(separator: ", ")))",
                           expected: "inputs of kinds (\(op.inputs.map(\.description).joined(separator: ", ")))")
            }

            // Model, parameters, workers, queue.
            var model: (key: String, path: String)?
            if let modelNode = map["model"] {
                guard op.usesModel else { throw fail(modelNode, "a model on stage '\(name)' (\(op.name))", expected: "no model: the op runs none") }
                guard let key = modelNode.string, let path = models[key] else {
                    throw fail(modelNode, "model '\(modelNode.string ?? "?")' of stage '\(name)'", expected: "a key of 'models' (\(models.keys.sorted().joined(separator: ", ")))",
                               suggestion: closestName(to: modelNode.string ?? "", among: Array(models.keys)))
                }
                model = (key, path)
            } else if op.usesModel {
                throw fail(node, "stage '\(name)' (\(op.name)) has no model", expected: "model: KEY (a key of 'models')")
            }
            let paramsNode = map["params"]
            let paramKeys = op.parameters.map(\.name)
            let params = try paramsNode.map { try mapping($0, keys: paramKeys, owner: "the params of stage '\(name)' (\(op.name))") } ?? [:]
            var paramValues: [String: Node] = [:]
            for (key, value) in params { if let keyName = key.string { paramValues[keyName] = value } }
            let factory = try op.configure?(StageParameters(file: path, stage: name, values: paramValues, owner: paramsNode ?? node))

            if op.role == .gather, let extra = map["queue"] ?? map["workers"] ?? map["threads"] ?? map["model"] {
                throw fail(extra, "a worker setting on gather '\(name)'", expected: "none: a gather runs inline, without a worker or queue")
            }
            let workers = try integer(map["workers"], "stage '\(name)' workers", default: 1, minimum: 1)
            if let threadsNode = map["threads"], model == nil {
                throw fail(threadsNode, "threads on stage '\(name)', which runs no model", expected: "threads only on model stages")
            }
            let threads = try integer(map["threads"], "stage '\(name)' threads", default: threadsPerModel, minimum: 1)
            var queue: QueuePolicy?
            if let queueNode = map["queue"] {
                let fields = try mapping(queueNode, keys: ["max_batch", "max_delay_us", "capacity"], owner: "the queue of stage '\(name)'")
                let maxBatch = try integer(fields["max_batch"], "max_batch", default: 1, minimum: 1)
                let delay = try integer(fields["max_delay_us"], "max_delay_us", default: 0, minimum: 0)
                let capacity = try integer(fields["capacity"], "capacity", default: max(64, maxBatch), minimum: maxBatch)
                queue = QueuePolicy(maxBatch: maxBatch, maxDelayMicroseconds: delay, capacity: capacity)
            }

            // What the stage defines, and in which scope.
            defined.insert(name)
            let kind = op.role == .gather ? .list(kinds[0]) : op.output
            switch op.role {
            case .map: scopes[scopes.count - 1][name] = kind
            case .expand:
                openFanOuts.append(name)
                scopes.append([name: kind])
            case .gather:
                openFanOuts.removeLast()
                scopes.removeLast()
                scopes[scopes.count - 1][name] = kind
            }
            return StageSpec(
                name: name, op: op, inputs: inputs, kind: kind, model: model, queue: queue, workers: workers, threads: threads, location: at(node),
                makeWorker: factory)
        }
    }
}
