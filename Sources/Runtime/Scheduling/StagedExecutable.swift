import Foundation
import IR

/// Runs a graph with stage boundaries (batching queues, fan-outs, fan-ins): the graph is
/// cut into a chain of stages (`StagePartition`) and a `StagedPipeline` moves each request
/// through them, its values travelling in its record by IR name.
///
/// - The first stage runs per request on `inputWorkers` workers; a map stage inside a
///   fan-out runs per child.
/// - A batched stage runs on the batches its queue forms: the queued `[1, …]` values of up to
///   `max_batch` requests (or children) stacked on axis 0, its outputs split back into one row
///   each.
/// - A fan-out makes one child per row of its list; a fan-in concatenates the children's
///   rows in child order (zero rows when there were none).
///
/// Thread-safe, unlike `Executable`: requests from many threads are what share batches.
/// A request's `Profile` holds its wait for a first-stage worker (`request`, category `queue`),
/// every node time of every stage it and its children went through, and each wait in a
/// batching queue (named after the queue's value). A batched stage's node times are the whole
/// batch's: what the request waited through, so its entries add up to its latency.
///
/// Results equal the unstaged graph's up to float rounding: the same ops run on the same
/// rows, but a kernel may block a batch of several rows differently from a batch of one.
///
/// Broker edges (queues with `broker`): given a `remote` factory, the stages from the first
/// broker edge on run elsewhere — one stage here stands for them, handing each request's
/// carried values to the `RemoteSegment` and taking back the outputs. Without one, broker
/// edges run in process like any queue. A `visionc worker` runs the same class from the
/// stage its edge leads into (`startingAt`), taking records off the stream with `run(values:)`.
public final class StagedExecutable: @unchecked Sendable {
    public let partition: StagePartition
    /// The stage this executable begins with: 0, or a broker edge's stage in a worker.
    public let firstStage: Int
    private let pipeline: StagedPipeline

    /// - Parameters:
    ///   - options: threads per worker, and the default of a queue without `threads`.
    ///   - inputWorkers: workers of the first stage (decode and preprocessing, one request each).
    ///   - maxInFlight: requests admitted before `run` waits for earlier ones to finish.
    ///   - startingAt: the first stage to run (a broker edge's, in a worker process).
    ///   - remote: makes the segment behind the next broker edge; nil runs broker edges here.
    public init(
        graph: Graph, options: RuntimeOptions = RuntimeOptions(), inputWorkers: Int = 1, maxInFlight: Int = 256,
        startingAt firstStage: Int = 0, remote: RemoteSegmentFactory? = nil
    ) throws {
        try Verifier.verify(graph)
        partition = try StagePartition(graph)
        guard firstStage == 0 || partition.stages.indices.contains(firstStage) && partition.stages[firstStage].broker != nil else {
            throw RuntimeError.invalidGraph("a staged run begins at the graph's input or at a broker edge")
        }
        self.firstStage = firstStage
        var stages: [Stage] = []
        let rowTypes = partition.rowTypes
        for (index, stage) in partition.stages.enumerated() where index >= firstStage {
            let reads = stage.sources
            if let remote, stage.broker != nil, index > firstStage {
                let carried = partition.carried(into: index)
                let segment = try remote(index, partition)
                let capacity = min(256, max(1, stage.broker?.int("capacity", default: 64) ?? 64))
                stages.append(.map(stage.name, inputs: [Self.traceKey, Self.readyKey] + carried, policy: QueuePolicy(maxBatch: 1, capacity: max(1, maxInFlight)), workers: capacity) {
                    RemoteStageWorker(segment: segment, carried: carried, rowTypes: rowTypes)
                })
                break
            }
            switch stage.kind {
            case .map:
                let workers = index == firstStage ? max(1, index == 0 ? inputWorkers : stage.broker?.int("workers", default: 1) ?? 1) : 1
                let stageOptions = Self.options(options, threads: index == firstStage ? stage.broker?.int("threads", default: 0) : nil)
                stages.append(.map(stage.name, inputs: [Self.traceKey, Self.readyKey] + reads, policy: QueuePolicy(maxBatch: 1, capacity: max(1, maxInFlight)), workers: workers) {
                    try StepWorker(stage: stage, rowTypes: rowTypes, options: stageOptions, batched: false, first: index == firstStage)
                })
            case .batched(let queue):
                let stageOptions = Self.options(options, threads: queue.int("threads", default: 0))
                let policy = QueuePolicy(
                    maxBatch: queue.int("max_batch", default: 1), maxDelayMicroseconds: queue.int("max_delay_us", default: 0),
                    capacity: queue.int("capacity", default: 64), timeoutMicroseconds: queue.int("timeout_us", default: 0))
                let padAxes = queue.int("pad_to_largest", default: 0) == 1 ? Layout(rawValue: queue.string("layout") ?? "").flatMap(ShapeInference.spatialAxes) : nil
                stages.append(.map(stage.name, inputs: [Self.traceKey, Self.readyKey] + reads, policy: policy, workers: queue.int("workers", default: 1)) {
                    try StepWorker(stage: stage, rowTypes: rowTypes, options: stageOptions, batched: true, padAxes: padAxes)
                })
            case .fanOut(let list):
                stages.append(.expand(stage.name, inputs: [list], policy: QueuePolicy(maxBatch: 1, capacity: max(1, maxInFlight))) {
                    ClosureWorker.perRecord { values in
                        let rows = try RecordValue.tensor(values[0], name: list)
                        return try rows.rows(count: rows.shape.first ?? 0, value: list) as [any Sendable]
                    }
                })
            case .fanIn(let values, let results, _):
                stages.append(.gather(stage.name, collecting: values, into: results))
            }
        }
        // Each caller waits for its own request, so results go out as they finish.
        pipeline = try StagedPipeline(name: graph.name, stages: stages, maxInFlight: maxInFlight, ordered: false)
    }

    deinit { pipeline.shutdown() }

    /// `options` with a queue's own thread count, when it has one (> 0).
    private static func options(_ options: RuntimeOptions, threads: Int?) -> RuntimeOptions {
        guard let threads, threads > 0 else { return options }
        return RuntimeOptions(threads: threads, planCacheCapacity: options.planCacheCapacity)
    }

    /// Where a request's record keeps its `RequestTrace` (no IR name is empty).
    static let traceKey = ""
    /// When the stage before finished the record (no IR name has an `@`).
    static let readyKey = "@ready"
    static let requestStage = "request"

    /// Runs one request through every stage, waiting for its batches and children; callable
    /// from any thread.
    /// - Parameters:
    ///   - inputs: one tensor per graph input, in order.
    ///   - capture: IR names of values to copy out, from whichever stage computes them (inside
    ///     a fan-out, the first child's; in a batched stage, the request's row when the value
    ///     has one row per request, else the whole batch's).
    /// - Throws: the error of the stage that failed (a request that fails in a per-request
    ///   stage fails alone; a failure in a batched stage fails every request of that batch).
    ///   - requestID: the request's identity across broker edges (a request submitted twice
    ///     under one id runs once); a fresh one when nil.
    public func run(inputs: [Tensor], capture: Set<String> = [], requestID: String? = nil) throws -> RunResult {
        guard firstStage == 0 else { throw RuntimeError.invalidGraph("this executable begins at a broker edge; run it with run(values:)") }
        guard inputs.count == partition.inputs.count else {
            throw RuntimeError.inputCount(expected: partition.inputs.count, given: inputs.count)
        }
        let (record, trace) = try process(Dictionary(uniqueKeysWithValues: zip(partition.inputs, inputs)), capture: capture, requestID: requestID)
        return trace.result(outputs: try partition.outputs.map { try output($0, of: record) })
    }

    /// Runs one request that crossed the broker edge into `firstStage`: `values` are what
    /// crossed (`StagePartition.carried(into:)`); returns the outputs these stages write
    /// (`StagePartition.returned(from:)`) and the request's node times.
    public func run(values: [String: Tensor], requestID: String) throws -> RemoteResult {
        let (record, trace) = try process(values, capture: [], requestID: requestID)
        var returned: [String: Tensor] = [:]
        for name in partition.returned(from: firstStage) { returned[name] = try output(name, of: record) }
        return RemoteResult(values: returned, timings: trace.result(outputs: []).profile.entries)
    }

    private func process(_ values: [String: Tensor], capture: Set<String>, requestID: String?) throws -> (Record, RequestTrace) {
        let trace = RequestTrace(capture: capture, requestID: requestID ?? UUID().uuidString)
        var record: [String: any Sendable] = [Self.traceKey: trace, Self.readyKey: trace.submittedAt]
        for (name, tensor) in values { record[name] = tensor }
        switch pipeline.process([Record(record)])[0] {
        case .success(let finished): return (finished, trace)
        case .failure(let error as StageError): throw error.underlying
        case .failure(let error): throw error
        }
    }

    private func output(_ name: String, of record: Record) throws -> Tensor {
        guard let value = record[name] else { throw RuntimeError.invalidGraph("output %\(name) was never computed") }
        return try RecordValue.tensor(value, name: name, rowType: partition.rowTypes[name])
    }

    /// The queues' and workers' figures so far (items, batch sizes, waits, depth).
    public func statistics() -> PipelineStatistics { pipeline.statistics() }
}

/// Everything one request accumulates across stages and children: node times, warnings and
/// captured values. Shared by reference between a request's records (children copy their
/// parent's record), so it locks.
final class RequestTrace: @unchecked Sendable {
    let capture: Set<String>
    let requestID: String
    let submittedAt = monotonicSeconds()
    private let lock = NSLock()
    private var entries: [NodeTiming] = []
    private var warnings: [String] = []
    private var captured: [String: Tensor] = [:]

    init(capture: Set<String>, requestID: String) {
        self.capture = capture
        self.requestID = requestID
    }

    func add(_ timings: [NodeTiming], warnings more: [String] = [], captured values: [String: Tensor] = [:]) {
        lock.lock()
        entries += timings
        warnings += more
        captured.merge(values) { first, _ in first }
        lock.unlock()
    }

    func result(outputs: [Tensor]) -> RunResult {
        lock.lock()
        defer { lock.unlock() }
        return RunResult(outputs: outputs, captured: captured, profile: Profile(entries: entries), warnings: warnings)
    }
}

/// How record values become tensors: a tensor as is; a fan-in's array of child rows stacked
/// on axis 0 (`rowType` gives the shape of zero rows).
enum RecordValue {
    static func tensor(_ value: any Sendable, name: String, rowType: TensorType? = nil) throws -> Tensor {
        if let tensor = value as? Tensor { return tensor }
        guard let rows = value as? [any Sendable] else {
            throw RuntimeError.invalidGraph("record value %\(name) is a \(type(of: value)), not a tensor")
        }
        let tensors = try rows.map { row -> Tensor in
            guard let tensor = row as? Tensor else { throw RuntimeError.invalidGraph("a collected row of %\(name) is not a tensor") }
            return tensor
        }
        if tensors.isEmpty {
            guard let rowType, let trailing = rowType.knownShape?.dropFirst() else {
                throw RuntimeError.shape(value: name, "a fan-out with no children, and rows of unknown shape to make zero of")
            }
            let shape = [0] + Array(trailing)
            return Tensor(shape: shape, data: TensorData.copying(rowType.dtype, from: UnsafeRawPointer(bitPattern: 1)!, count: 0))
        }
        return try Tensor.stacking(tensors, value: name)
    }
}

/// Runs one map or batched stage's steps: plans and data-dependent ops, in order, on values
/// by IR name. A batched worker stacks each record's values into one batch first and splits
/// what it writes back into one row per record.
final class StepWorker: StageWorker {
    private enum CompiledStep {
        case plan(Executable, inputs: [String], outputs: [String], names: Set<String>)
        case dataDependent(Node, inputs: [String], outputs: [String])
    }

    private let stage: StagePartition.Stage
    private let steps: [CompiledStep]
    private let batched: Bool
    private let first: Bool
    private let rowTypes: [String: TensorType]

    /// Height and width axes of the queued images when the queue pads them to the batch's largest.
    private let padAxes: (Int, Int)?

    init(
        stage: StagePartition.Stage, rowTypes: [String: TensorType], options: RuntimeOptions, batched: Bool, first: Bool = false,
        padAxes: (Int, Int)? = nil
    ) throws {
        self.stage = stage
        self.padAxes = padAxes
        self.rowTypes = rowTypes
        self.batched = batched
        self.first = first
        steps = try stage.steps.map { step in
            switch step {
            case .plan(let graph):
                .plan(
                    try Executable(graph: graph, options: options), inputs: graph.inputs.map { graph[$0].name },
                    outputs: graph.outputs.map { graph[$0].name }, names: Set(graph.values.map(\.name)))
            case .dataDependent(let node, let inputs, let outputs):
                .dataDependent(node, inputs: inputs, outputs: outputs)
            }
        }
    }

    func process(_ batch: [[any Sendable]]) throws -> [any Sendable] {
        let startedAt = monotonicSeconds()
        let traces = try batch.map { values -> RequestTrace in
            guard let trace = values[0] as? RequestTrace else { throw RuntimeError.invalidGraph("a staged record carries its trace") }
            return trace
        }
        // When each record became ready for this stage (the previous stage finished it).
        let readyAt = zip(batch, traces).map { values, trace in values[1] as? Double ?? trace.submittedAt }
        // The stage's inputs, stacked over the batch when batched.
        var environment: [String: Tensor] = [:]
        for (position, name) in stage.reads.enumerated() {
            var perRecord = try batch.map { try RecordValue.tensor($0[position + 2], name: name, rowType: rowTypes[name]) }
            if batched, let (hAxis, wAxis) = padAxes, perRecord.count > 1 {
                let height = perRecord.map { $0.shape[hAxis] }.max() ?? 0, width = perRecord.map { $0.shape[wAxis] }.max() ?? 0
                perRecord = try perRecord.map { try $0.zeroPadded(axes: (hAxis, wAxis), to: (height, width), value: name) }
            }
            if batched {
                for tensor in perRecord where tensor.shape.first != 1 {
                    throw RuntimeError.shape(value: name, "a queued value needs a leading dim of 1, got \(tensor.shape)")
                }
                environment[name] = try Tensor.stacking(perRecord, value: name)
            } else {
                environment[name] = perRecord[0]
            }
        }
        let capture = traces.reduce(into: Set<String>()) { $0.formUnion($1.capture) }
        var timings: [NodeTiming] = []
        var warnings: [String] = []
        var captured: [String: Tensor] = [:]
        for step in steps {
            switch step {
            case .plan(let executable, let inputs, let outputs, let names):
                let operands = try inputs.map { name -> Tensor in
                    guard let value = environment[name] else { throw RuntimeError.invalidGraph("stage '\(stage.name)' has no value %\(name)") }
                    return value
                }
                let result = try executable.run(inputs: operands, capture: capture.intersection(names))
                for (name, tensor) in zip(outputs, result.outputs) { environment[name] = tensor }
                timings += result.profile.entries
                warnings += result.warnings
                captured.merge(result.captured) { first, _ in first }
            case .dataDependent(let node, let inputs, let outputs):
                let start = monotonicSeconds()
                let operands = try inputs.map { name -> Tensor in
                    guard let value = environment[name] else { throw RuntimeError.invalidGraph("stage '\(stage.name)' has no value %\(name)") }
                    return value
                }
                let results = try DataDependentOps.run(node, operands, name: outputs[0])
                for (name, tensor) in zip(outputs, results) { environment[name] = tensor }
                if capture.contains(outputs[0]) { captured[outputs[0]] = results[0] }
                timings.append(NodeTiming(name: outputs[0], op: node.op, category: node.op.category, seconds: monotonicSeconds() - start))
            }
        }
        let writes = try stage.writes.map { name -> Tensor in
            guard let value = environment[name] else { throw RuntimeError.invalidGraph("stage '\(stage.name)' did not compute %\(name)") }
            return value
        }
        let finishedAt = monotonicSeconds()
        guard batched else {
            // The first stage counts the request's wait for a worker.
            let wait = first ? [NodeTiming(name: StagedExecutable.requestStage, op: .queue, category: .queue, seconds: max(0, startedAt - readyAt[0]))] : []
            traces[0].add(wait + timings, warnings: warnings, captured: captured.filter { traces[0].capture.contains($0.key) })
            var values = Dictionary(uniqueKeysWithValues: zip(stage.writes, writes.map { $0 as any Sendable }))
            values[StagedExecutable.readyKey] = finishedAt
            return [RecordValues(values)]
        }
        let rows = try writes.map { try $0.rows(count: batch.count, value: stage.name) }
        let capturedRows = captured.mapValues { tensor in
            tensor.shape.first == batch.count ? (try? tensor.rows(count: batch.count, value: stage.name)) ?? [] : []
        }
        // Children of one request may share a batch: its trace gets the batch's node times
        // once and the longest of their waits (what the request waited through).
        var longestWait: [ObjectIdentifier: Double] = [:]
        for (record, trace) in traces.enumerated() {
            longestWait[ObjectIdentifier(trace), default: 0] = max(longestWait[ObjectIdentifier(trace), default: 0], startedAt - readyAt[record])
        }
        var traced = Set<ObjectIdentifier>()
        return traces.indices.map { record -> any Sendable in
            var own = captured
            for (name, split) in capturedRows where !split.isEmpty { own[name] = split[record] }
            let trace = traces[record]
            if traced.insert(ObjectIdentifier(trace)).inserted {
                let wait = NodeTiming(name: stage.name, op: .queue, category: .queue, seconds: max(0, longestWait[ObjectIdentifier(trace)] ?? 0))
                trace.add([wait] + timings, warnings: warnings, captured: own.filter { trace.capture.contains($0.key) })
            }
            var values = Dictionary(uniqueKeysWithValues: zip(stage.writes, rows.map { $0[record] as any Sendable }))
            values[StagedExecutable.readyKey] = finishedAt
            return RecordValues(values)
        }
    }
}

/// The ops whose result size depends on data, run between plans on whole tensors.
enum DataDependentOps {
    static func run(_ node: Node, _ operands: [Tensor], name: String) throws -> [Tensor] {
        switch node.op {
        case .nms: return [try NonMaximumSuppression.run(node, operands, name: name)]
        case .dbBoxes: return try DBBoxesOp.run(node, operands, name: name)
        case .perspectiveCrop: return try PerspectiveCropOp.run(node, operands, name: name)
        case .textLines: return try TextLinesOp.run(node, operands, name: name)
        case .resizeByScale: return try ResizeByScaleOp.run(node, operands, name: name)
        case .mtcnnPNetBoxes: return try MTCNNOps.pnetBoxes(node, operands, name: name)
        case .mtcnnMerge: return try MTCNNOps.merge(node, operands, name: name)
        case .mtcnnRefine: return try MTCNNOps.refine(node, operands, name: name)
        case .mtcnnFaces: return try MTCNNOps.faces(node, operands, name: name)
        case .detections: return try DetectionsOp.run(node, operands, name: name)
        default: throw RuntimeError.unsupported(op: node.op, value: name, reason: "not a data-dependent op")
        }
    }
}

extension Tensor {
    /// Tensors of equal dtype and trailing shape, concatenated on axis 0.
    static func stacking(_ parts: [Tensor], value: String) throws -> Tensor {
        guard let first = parts.first else { throw RuntimeError.shape(value: value, "an empty batch") }
        if parts.count == 1 { return first }
        let trailing = Array(first.shape.dropFirst())
        for part in parts where part.dtype != first.dtype || Array(part.shape.dropFirst()) != trailing {
            throw RuntimeError.shape(value: value, "rows stacked together must agree in dtype and shape beyond axis 0: \(first.dtype)\(first.shape) and \(part.dtype)\(part.shape)")
        }
        let shape = [parts.reduce(0) { $0 + $1.shape[0] }] + trailing
        return Tensor(shape: shape, data: TensorData.joined(parts.map(\.data)))
    }

    /// The tensor grown with zeros after its ends on two axes to the given extents. Copied a
    /// row at a time: everything from the later axis inward is contiguous in both tensors.
    func zeroPadded(axes: (Int, Int), to extents: (Int, Int), value: String) throws -> Tensor {
        guard shape.count > max(axes.0, axes.1) else { throw RuntimeError.shape(value: value, "\(shape) has no axes \(axes.0) and \(axes.1) to pad") }
        var target = shape
        (target[axes.0], target[axes.1]) = extents
        guard target != shape else { return self }
        let last = max(axes.0, axes.1)
        let row = shape[last...].reduce(1, *), targetRow = target[last...].reduce(1, *)
        // Offset of each source row (a position over the axes before `last`) in the target.
        var offsets = [0]
        for axis in 0..<last {
            let stride = target[(axis + 1)..<last].reduce(1, *) * targetRow
            offsets = offsets.flatMap { base in (0..<shape[axis]).map { base + $0 * stride } }
        }
        // Per target element the index of its source element; padding reads the zero appended after them.
        var indices = [Int](repeating: count, count: target.reduce(1, *))
        for (index, offset) in offsets.enumerated() {
            for k in 0..<row { indices[offset + k] = index * row + k }
        }
        let zero = TensorData.joined([data, TensorData.copying(dtype, from: [UInt64](repeating: 0, count: 1), count: 1)])
        return Tensor(shape: target, data: zero.gathered(indices))
    }

    /// The tensor cut on axis 0 into `count` equal parts, each keeping axis 0 (of size 1 per row).
    func rows(count: Int, value: String) throws -> [Tensor] {
        guard let rows = shape.first, rows == count else {
            throw RuntimeError.shape(value: value, "\(shape.first ?? 0) rows for \(count) requests or children")
        }
        let shape = [1] + self.shape.dropFirst()
        let stride = self.shape.dropFirst().reduce(1, *)
        return (0..<count).map { Tensor(shape: shape, data: data.gathered(Array($0 * stride..<($0 + 1) * stride))) }
    }
}
