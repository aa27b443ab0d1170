import IR

/// Runs a graph with batching queues: the graph is cut into stages at its `queue` nodes
/// (`StagePartition`), each stage gets its own `Executable` per worker, and a
/// `StagedPipeline` moves requests between them. Stage 0 runs per request on
/// `inputWorkers` workers; every later stage runs on the batches its queue forms: the
/// queued `[1, …]` values of up to `max_batch` requests stacked on axis 0, the stage's
/// outputs split back into one row per request.
///
/// Thread-safe, unlike `Executable`: requests from many threads are what share batches.
/// A request's `Profile` holds its wait for a first-stage worker (`request`, category
/// `queue`), stage 0's node times, its wait in each batching queue (named after the queue's
/// value) and, for batched stages, each node's time for the whole batch: what the request
/// waited through, so the entries add up to its latency (the work per request is the
/// queue statistics' business: batch sizes and busy time).
///
/// Results equal the unqueued graph's up to float rounding: the same ops run on the same
/// rows, but a kernel may block a batch of several rows differently from a batch of one.
public final class StagedExecutable: @unchecked Sendable {
    public let partition: StagePartition
    private let pipeline: StagedPipeline
    private let outputCount: Int

    /// - Parameters:
    ///   - options: stage 0's threads per worker, and the default of a queue without `threads`.
    ///   - inputWorkers: workers of stage 0 (decode and preprocessing run there, one request each).
    ///   - maxInFlight: requests admitted before `run` waits for earlier ones to finish.
    public init(graph: Graph, options: RuntimeOptions = RuntimeOptions(), inputWorkers: Int = 1, maxInFlight: Int = 256) throws {
        try Verifier.verify(graph)
        partition = try StagePartition(graph)
        outputCount = graph.outputs.count
        var stages: [Stage] = []
        for (index, stage) in partition.stages.enumerated() {
            let inputs = [index == 0 ? Self.requestKey : partition.stages[index - 1].name]
            if let queue = stage.queue {
                let threads = queue.int("threads", default: 0)
                let stageOptions = threads > 0 ? RuntimeOptions(threads: threads, planCacheCapacity: options.planCacheCapacity) : options
                let policy = QueuePolicy(
                    maxBatch: queue.int("max_batch", default: 1), maxDelayMicroseconds: queue.int("max_delay_us", default: 0),
                    capacity: queue.int("capacity", default: 64))
                let graph = stage.graph
                stages.append(.map(stage.name, inputs: inputs, policy: policy, workers: queue.int("workers", default: 1)) {
                    try BatchedStageWorker(graph: graph, options: stageOptions)
                })
            } else {
                let graph = stage.graph
                stages.append(.map(stage.name, inputs: inputs, policy: QueuePolicy(maxBatch: 1, capacity: max(1, maxInFlight)), workers: max(1, inputWorkers)) {
                    try RequestStageWorker(graph: graph, options: options)
                })
            }
        }
        // Each caller waits for its own request, so results go out as they finish.
        pipeline = try StagedPipeline(name: graph.name, stages: stages, maxInFlight: maxInFlight, ordered: false)
    }

    deinit { pipeline.shutdown() }

    static let requestKey = "request"

    /// Runs one request through every stage, waiting for its batches; callable from any thread.
    /// - Throws: the error of the stage that failed (a bad request fails alone, not its batch-mates,
    ///   unless the failure is in a batched stage, which fails every request of that batch).
    ///   - capture: IR names of values to copy out, from whichever stage computes them (a
    ///     batched stage's value is split to the request's row when it has one row per request).
    public func run(inputs: [Tensor], capture: Set<String> = []) throws -> RunResult {
        let result = pipeline.process([Record([Self.requestKey: StagedRequest(inputs: inputs, capture: capture, submittedAt: monotonicSeconds())])])[0]
        let record: Record
        switch result {
        case .success(let finished): record = finished
        case .failure(let error as StageError): throw error.underlying
        case .failure(let error): throw error
        }
        var outputs = [Tensor?](repeating: nil, count: outputCount)
        var profile = Profile()
        var warnings: [String] = []
        var captured: [String: Tensor] = [:]
        for stage in partition.stages {
            let output: StageOutput = try record.value(stage.name)
            captured.merge(output.captured) { first, _ in first }
            for (tensor, destination) in zip(output.tensors, stage.outputs) {
                if case .graphOutput(let position) = destination { outputs[position] = tensor }
            }
            profile.entries += output.profile.entries
            warnings += output.warnings
        }
        return RunResult(outputs: outputs.map { $0! }, captured: captured, profile: profile, warnings: warnings)
    }

    /// The queues' and workers' figures so far (items, batch sizes, waits, depth).
    public func statistics() -> PipelineStatistics { pipeline.statistics() }
}

/// A request as stage 0 receives it.
struct StagedRequest: Sendable {
    var inputs: [Tensor]
    var capture: Set<String>
    /// When `run` submitted it: the wait for a free first-stage worker starts here.
    var submittedAt: Double
}

/// What one stage produced for one request: its graph's outputs (the last one is the next
/// queue's value when there is a next stage), the values it captured, the request's time in
/// its time, and when it finished (the next queue's wait starts there).
struct StageOutput: Sendable {
    var tensors: [Tensor]
    var capture: Set<String>
    var captured: [String: Tensor]
    var profile: Profile
    var warnings: [String]
    var finishedAt: Double
}

/// Stage 0: one request at a time.
final class RequestStageWorker: StageWorker {
    private let executable: Executable
    private let valueNames: Set<String>

    init(graph: Graph, options: RuntimeOptions) throws {
        executable = try Executable(graph: graph, options: options)
        valueNames = Set(graph.values.map(\.name))
    }

    func process(_ batch: [[any Sendable]]) throws -> [any Sendable] {
        try batch.map { values in
            guard let request = values[0] as? StagedRequest else { throw RuntimeError.invalidGraph("a staged request carries its input tensors") }
            let wait = NodeTiming(name: StagedExecutable.requestKey, op: .queue, category: .queue, seconds: max(0, monotonicSeconds() - request.submittedAt))
            let result = try executable.run(inputs: request.inputs, capture: request.capture.intersection(valueNames))
            return StageOutput(
                tensors: result.outputs, capture: request.capture, captured: result.captured,
                profile: Profile(entries: [wait] + result.profile.entries),
                warnings: result.warnings, finishedAt: monotonicSeconds())
        }
    }
}

/// A stage behind a queue: stacks the batch's queued values, runs once, splits the outputs by row.
final class BatchedStageWorker: StageWorker {
    private let executable: Executable
    private let queueName: String
    private let valueNames: Set<String>

    init(graph: Graph, options: RuntimeOptions) throws {
        executable = try Executable(graph: graph, options: options)
        queueName = graph[graph.inputs[0]].name
        valueNames = Set(graph.values.map(\.name))
    }

    func process(_ batch: [[any Sendable]]) throws -> [any Sendable] {
        let startedAt = monotonicSeconds()
        let previous = try batch.map { values -> StageOutput in
            guard let output = values[0] as? StageOutput, let queued = output.tensors.last else {
                throw RuntimeError.invalidGraph("a batched stage reads the previous stage's output")
            }
            guard queued.shape.first == 1 else {
                throw RuntimeError.shape(value: queueName, "a queued value needs a leading dim of 1, got \(queued.shape)")
            }
            return output
        }
        let stacked = try Tensor.stacking(previous.map { $0.tensors.last! }, value: queueName)
        let capture = previous.reduce(into: Set<String>()) { $0.formUnion($1.capture) }.intersection(valueNames)
        let result = try executable.run(inputs: [stacked], capture: capture)
        let rows = try result.outputs.map { try $0.rows(count: batch.count, value: queueName) }
        // A captured value with one row per request is split; any other is the batch's, whole.
        let capturedRows = result.captured.mapValues { tensor in
            tensor.shape.first == batch.count ? (try? tensor.rows(count: batch.count, value: queueName)) ?? [] : []
        }
        let profile = result.profile.entries
        let finishedAt = monotonicSeconds()
        return previous.indices.map { request in
            let wait = NodeTiming(name: queueName, op: .queue, category: .queue, seconds: max(0, startedAt - previous[request].finishedAt))
            let captured = result.captured.reduce(into: [String: Tensor]()) { captured, entry in
                let rows = capturedRows[entry.key] ?? []
                captured[entry.key] = rows.isEmpty ? entry.value : rows[request]
            }
            return StageOutput(
                tensors: rows.map { $0[request] }, capture: previous[request].capture, captured: captured,
                profile: Profile(entries: [wait] + profile), warnings: result.warnings, finishedAt: finishedAt)
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
            throw RuntimeError.shape(value: value, "requests of one batch must agree in dtype and shape beyond axis 0: \(first.dtype)\(first.shape) and \(part.dtype)\(part.shape)")
        }
        let shape = [parts.reduce(0) { $0 + $1.shape[0] }] + trailing
        switch first.data {
        case .u8: return Tensor(shape: shape, data: .u8(parts.flatMap { part -> [UInt8] in if case .u8(let a) = part.data { a } else { [] } }))
        case .i32: return Tensor(shape: shape, data: .i32(parts.flatMap { part -> [Int32] in if case .i32(let a) = part.data { a } else { [] } }))
        case .i64: return Tensor(shape: shape, data: .i64(parts.flatMap { part -> [Int64] in if case .i64(let a) = part.data { a } else { [] } }))
        case .f32: return Tensor(shape: shape, data: .f32(parts.flatMap { part -> [Float] in if case .f32(let a) = part.data { a } else { [] } }))
        }
    }

    /// The tensor cut on axis 0 into `count` equal parts, each keeping axis 0 (of size 1 per row).
    func rows(count: Int, value: String) throws -> [Tensor] {
        guard let rows = shape.first, rows == count else {
            throw RuntimeError.shape(value: value, "a batched output has \(shape.first ?? 0) rows for \(count) requests")
        }
        let shape = [1] + self.shape.dropFirst()
        let stride = self.shape.dropFirst().reduce(1, *)
        func split<T>(_ a: [T], _ make: ([T]) -> TensorData) -> [Tensor] {
            (0..<count).map { Tensor(shape: shape, data: make(Array(a[$0 * stride..<($0 + 1) * stride]))) }
        }
        switch data {
        case .u8(let a): return split(a, TensorData.u8)
        case .i32(let a): return split(a, TensorData.i32)
        case .i64(let a): return split(a, TensorData.i64)
        case .f32(let a): return split(a, TensorData.f32)
        }
    }
}
