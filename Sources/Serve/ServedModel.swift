import Broker
import Driver
import Foundation
import PipelineSpec
import IR
import Prometheus
import Runtime

/// How a served model runs requests: its workers and the queue in front of them.
public struct ServingOptions: Sendable {
    /// Worker threads, each with its own runner (plans and buffers).
    public var workers: Int
    /// Kernel threads of each worker.
    public var threadsPerWorker: Int
    /// Requests waiting for a worker beyond which new ones get 503.
    public var maxQueueSize: Int
    /// Priority levels of the queue (Triton's `priority_levels`): a waiting request of level 1
    /// goes to the next free worker before any of level 2, and so on; FIFO within a level.
    public var priorityLevels: Int
    /// The level of a request that names none (or priority 0, as Triton's clients send).
    public var defaultPriority: Int
    /// How long a request may wait for a worker before it is answered 503 (Triton's
    /// `default_timeout_microseconds` with `timeout_action: REJECT`); 0: no limit. A request's
    /// own `timeout` parameter overrides it.
    public var queueTimeoutMicroseconds: Int
    /// Where the graphs' broker edges run (Redis, or in process).
    public var brokers: BrokerEdges

    public init(
        workers: Int, threadsPerWorker: Int, maxQueueSize: Int, priorityLevels: Int = 1, defaultPriority: Int? = nil,
        queueTimeoutMicroseconds: Int = 0, brokers: BrokerEdges = .redis(server: nil)
    ) {
        self.brokers = brokers
        self.workers = max(1, workers)
        self.threadsPerWorker = max(1, threadsPerWorker)
        self.maxQueueSize = max(0, maxQueueSize)
        self.priorityLevels = max(1, priorityLevels)
        self.defaultPriority = min(max(1, defaultPriority ?? self.priorityLevels), self.priorityLevels)
        self.queueTimeoutMicroseconds = max(0, queueTimeoutMicroseconds)
    }
}

/// How one request asks to be scheduled: Triton's request parameters `priority` (1 is the
/// highest level; 0 or none: the model's default) and `timeout` (microseconds it may wait for
/// a worker; none: the model's default).
public struct SchedulingRequest: Sendable, Equatable {
    public var priority: Int?
    public var timeoutMicroseconds: Int?

    public init(priority: Int? = nil, timeoutMicroseconds: Int? = nil) {
        self.priority = priority
        self.timeoutMicroseconds = timeoutMicroseconds
    }
}

/// One tensor of a model's metadata: name, Open Inference Protocol datatype, shape (-1 where
/// a size is known only per request).
public struct TensorMetadata: Sendable, Equatable {
    public var name: String
    public var datatype: String
    public var shape: [Int]
}

/// A compiled graph served as a model: a fixed pool of workers, each owning a
/// `PipelineRunner`, fed from one bounded queue (FIFO per priority level, highest level
/// first; a request past its timeout is answered 503 unrun). A request that finds the queue full is
/// refused at once (503) rather than queued without bound; the inference itself never runs on
/// the server's event loops.
public final class ServedModel: @unchecked Sendable {
    public let name: String
    public let compiled: CompiledPipeline
    public let input: TensorMetadata
    public let outputs: [TensorMetadata]
    /// The human-readable result output (top-k classes as JSON), when the graph ranks.
    public static let resultOutput = "result"

    private let options: ServingOptions
    /// The one runner every thread shares when the graph has batching queues.
    private let shared: PipelineRunner?
    /// Threads that take requests from the queue: the workers, plus a batch's worth per
    /// batching queue when the runner is shared.
    private let callers: Int
    private let lock = NSCondition()
    /// Waiting requests, one FIFO per priority level (index 0 is level 1).
    private var levels: [[Job]]
    private var waiting: Int { levels.reduce(0) { $0 + $1.count } }
    private var stopping = false
    private var threads: [Thread] = []
    private var statistics = ModelStatistics()
    private let metrics: ModelMetrics

    /// One queued request: its input and where its answer goes.
    private struct Job {
        var input: [UInt8]
        var enqueued: UInt64
        /// Uptime nanoseconds after which a worker answers 503 instead of running it.
        var deadline: UInt64?
        /// The request's identity across broker edges, when the client gave an id.
        var requestID: String?
        var finish: @Sendable (Outcome) -> Void
    }

    /// Compiles nothing itself: `compiled` is the graph after the passes; each worker builds
    /// its runner (and so its plans) before the model reports ready.
    /// - Parameter registry: where the model's Prometheus metrics live (one per server).
    public init(_ compiled: CompiledPipeline, options: ServingOptions, registry: PrometheusCollectorRegistry) throws {
        self.compiled = compiled
        self.options = options
        levels = Array(repeating: [], count: options.priorityLevels)
        name = compiled.spec.name
        metrics = ModelMetrics(registry: registry, model: compiled.spec.name)
        let graph = compiled.optimized
        guard graph.inputs.count == 1 else {
            throw DriverError("\(name): a served graph takes one encoded image; it has \(graph.inputs.count) inputs")
        }
        input = TensorMetadata(name: graph[graph.inputs[0]].name, datatype: "BYTES", shape: [1])
        var outputs = graph.outputs.map { id in
            let type = graph.type(of: id)
            return TensorMetadata(name: graph[id].name, datatype: Self.datatype(type.dtype), shape: type.shape.map { $0.value ?? -1 })
        }
        if !compiled.rankings.isEmpty || !compiled.textReadings.isEmpty || !compiled.detectionReadings.isEmpty { outputs.append(TensorMetadata(name: Self.resultOutput, datatype: "BYTES", shape: [1])) }
        self.outputs = outputs
        // A graph with batching queues runs on one shared runner (its first stage gets the
        // workers); enough threads call it at once for every queue to fill a whole batch.
        let runners: [PipelineRunner]
        if StagePartition.isStaged(graph) {
            let shared = try PipelineRunner(compiled, threads: options.threadsPerWorker, inputWorkers: options.workers, brokers: options.brokers)
            // A broker edge holds up to its capacity of requests in other processes.
            let batchSlots = graph.nodes.filter { $0.op == .queue }.reduce(0) { slots, queue in
                let attributes = queue.attributes
                if attributes.string("broker") != nil, case .redis = options.brokers { return slots + min(256, attributes.int("capacity", default: 64)) }
                return slots + attributes.int("max_batch", default: 1) * attributes.int("workers", default: 1)
            }
            runners = Array(repeating: shared, count: options.workers + batchSlots)
        } else {
            runners = try (0..<options.workers).map { _ in try PipelineRunner(compiled, threads: options.threadsPerWorker) }
        }
        shared = runners.first.flatMap { $0.isShared ? $0 : nil }
        callers = runners.count
        if let addresses = shared?.brokerAddresses, !addresses.isEmpty {
            let edges = addresses.map { EdgeMetrics(registry: registry, model: compiled.spec.name, edge: $0.description) }
            let thread = Thread { [weak self] in Self.refresh(edges, addresses: addresses, while: { self.map { !$0.isStopping } ?? false }) }
            thread.name = "visionc-\(name)-broker-metrics"
            thread.start()
        }
        for (index, runner) in runners.enumerated() {
            let owned = OwnedRunner(runner)
            // Each thread keeps the model alive until `shutdown` lets it finish.
            let thread = Thread { self.work(owned.runner) }
            thread.name = "visionc-\(name)-\(index)"
            threads.append(thread)
            thread.start()
        }
    }

    /// The encoded image of a request's inputs: exactly one, named as the model's input,
    /// BYTES with one element (REST and gRPC requests alike).
    func image(from inputs: [RequestInput]) throws(InferenceError) -> [UInt8] {
        guard inputs.count == 1, let input = inputs.first, input.name == self.input.name else {
            throw InferenceError(.badRequest, "model '\(name)' takes one input, '\(self.input.name)' (BYTES: an encoded image); got \(inputs.map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        guard input.datatype == "BYTES", input.elements.count == 1 else {
            throw InferenceError(.badRequest, "input '\(input.name)' must be BYTES with one element (one encoded image); got \(input.datatype) \(input.shape)")
        }
        return input.elements[0]
    }

    /// Runs one image; throws 503 when the queue is full, the request waited past its
    /// timeout or the model is stopping, and 400 for a priority outside the model's levels.
    /// - Parameter id: the client's request id. Across a broker edge, a request sent again
    ///   with the same id and the same image runs once (the image's hash joins the id, so a
    ///   client that reuses ids for different images still gets each one run).
    public func infer(image: [UInt8], scheduling: SchedulingRequest = SchedulingRequest(), id: String? = nil) async throws(InferenceError) -> PipelineResult {
        let started = DispatchTime.now().uptimeNanoseconds
        let priority = scheduling.priority.flatMap { $0 == 0 ? nil : $0 } ?? options.defaultPriority
        guard (1...options.priorityLevels).contains(priority) else {
            throw InferenceError(.badRequest, "priority \(priority) is outside model '\(name)''s levels 1…\(options.priorityLevels) (1 is the highest; 0: the default, \(options.defaultPriority))")
        }
        let timeout = scheduling.timeoutMicroseconds ?? options.queueTimeoutMicroseconds
        guard timeout >= 0 else { throw InferenceError(.badRequest, "timeout \(timeout) µs is negative") }
        // A timeout too long to add to the clock (a client may send up to 2^63 µs) is none.
        let (nanoseconds, tooLong) = UInt64(timeout).multipliedReportingOverflow(by: 1000)
        let (end, pastClock) = started.addingReportingOverflow(nanoseconds)
        let deadline = timeout > 0 && !tooLong && !pastClock ? end : nil
        let result: Outcome = await withCheckedContinuation { continuation in
            let requestID = id.flatMap { $0.isEmpty ? nil : "\($0)-\(String(fnv1a64(image), radix: 16))" }
            let job = Job(input: image, enqueued: started, deadline: deadline, requestID: requestID) { continuation.resume(returning: $0) }
            lock.lock()
            defer { lock.unlock() }
            guard !stopping else {
                continuation.resume(returning: .failure(InferenceError(.unavailable, "model '\(name)' is shutting down")))
                return
            }
            // Up to `maxQueueSize` wait beyond what the idle workers take at once.
            guard waiting < options.maxQueueSize + max(0, callers - busy) else {
                continuation.resume(returning: .failure(InferenceError(
                    .unavailable, "model '\(name)': the queue is full (\(options.maxQueueSize) waiting); retry later")))
                return
            }
            levels[priority - 1].append(job)
            metrics.pending.set(Double(waiting))
            lock.signal()
        }
        let total = DispatchTime.now().uptimeNanoseconds - started
        record(try? result.map { RequestTiming($0.0.profile, queue: $0.queueNanoseconds, total: total) }.get(), total: total)
        return try result.get().0
    }

    /// One request in the statistics and the metrics: its timing, nil when it failed.
    private func record(_ timing: RequestTiming?, total: UInt64) {
        lock.lock()
        statistics.record(timing, failedAfter: total)
        lock.unlock()
        metrics.record(timing)
    }

    /// Triton's statistics object for this model (`/v2/models/{m}/stats`).
    public func statisticsObject() -> [String: Any] {
        lock.lock()
        defer { lock.unlock() }
        // With batching queues, an execution is one batch of the last queue (Triton counts
        // model executions); without, every request is one.
        let executions = shared?.queueStatistics()?.stages.last?.queue?.batches
        return statistics.object(name: name, executions: executions)
    }

    /// The server's own time per stage category (its queue included), summed over every
    /// successful request so far, and their count: what `visionc bench` subtracts from a
    /// client's latency to find the protocol's share.
    public func stageTotals() -> ServerTotals {
        lock.lock()
        defer { lock.unlock() }
        return ServerTotals(requests: statistics.successes, seconds: statistics.stageNanoseconds.mapValues { Double($0) * 1e-9 })
    }

    private var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    /// Reads each broker edge's figures into its gauges about once a second while `running`.
    private static func refresh(_ edges: [EdgeMetrics], addresses: [BrokerAddress], while running: () -> Bool) {
        let connections = addresses.map { RedisConnection($0, timeoutSeconds: 1) }
        while running() {
            for (index, edge) in edges.enumerated() {
                if let figures = try? EdgeFigures.read(addresses[index], on: connections[index]) { edge.set(figures) }
            }
            Thread.sleep(forTimeInterval: 1)
        }
    }

    /// Requests now waiting for a worker.
    public var pendingRequests: Int {
        lock.lock()
        defer { lock.unlock() }
        return waiting
    }

    /// Lets the workers finish what is queued, then stops them.
    public func shutdown() {
        lock.lock()
        stopping = true
        lock.broadcast()
        lock.unlock()
    }

    /// Workers running a request now.
    private var busy = 0

    private func work(_ runner: PipelineRunner) {
        while true {
            lock.lock()
            while waiting == 0 && !stopping { lock.wait() }
            guard let level = levels.firstIndex(where: { !$0.isEmpty }) else {
                lock.unlock()
                return
            }
            let job = levels[level].removeFirst()
            metrics.pending.set(Double(waiting))
            let now = DispatchTime.now().uptimeNanoseconds
            if let deadline = job.deadline, now > deadline {
                lock.unlock()
                job.finish(.failure(InferenceError(
                    .unavailable, "model '\(name)': the request waited \((now - job.enqueued) / 1000) µs for a worker, past its timeout of \((deadline - job.enqueued) / 1000) µs; retry later")))
                continue
            }
            busy += 1
            lock.unlock()
            let waited = now - job.enqueued
            let outcome: Outcome
            do {
                let tensor = Tensor(shape: [job.input.count], bytes: job.input)
                outcome = .success((try runner.run(input: tensor, name: "request", requestID: job.requestID).0, waited))
            } catch let error as QueueTimeoutError {
                outcome = .failure(InferenceError(.unavailable, "\(error); retry later"))
            } catch let error as BrokerUnavailableError {
                outcome = .failure(InferenceError(.unavailable, "\(error)"))
            } catch let error as RemoteStageError {
                outcome = .failure(InferenceError(error.inputFault ? .badRequest : .internalError, "\(error)"))
            } catch let error as RuntimeError {
                outcome = .failure(InferenceError(error.isInputFault ? .badRequest : .internalError, "\(error)"))
            } catch {
                outcome = .failure(InferenceError(.internalError, "\(error)"))
            }
            lock.lock()
            busy -= 1
            lock.unlock()
            job.finish(outcome)
        }
    }

    static func datatype(_ dtype: DType) -> String {
        switch dtype {
        case .f32, .bf16: "FP32"  // bf16 values are widened when copied out
        case .i64: "INT64"
        case .i32: "INT32"
        case .u8: "UINT8"
        case .bool: "BOOL"
        case .i8: "INT8"
        case .i16: "INT16"
        case .u16: "UINT16"
        case .u32: "UINT32"
        case .u64: "UINT64"
        case .f16: "FP16"
        case .f64: "FP64"
        }
    }
}

/// What a queued request comes back with: its result and how long it waited for a worker.
typealias Outcome = Result<(PipelineResult, queueNanoseconds: UInt64), InferenceError>

/// Where one successful request's time went, in nanoseconds, split once for the statistics
/// and the metrics: Triton's phases (decode and preprocess are `compute_input`, the model
/// `compute_infer`, postprocess `compute_output`) and the paper's stage categories.
struct RequestTiming {
    var total: UInt64
    var queue: UInt64
    var stages: [StageCategory: UInt64]

    init(_ profile: Profile, queue: UInt64, total: UInt64) {
        self.total = total
        var stages: [StageCategory: UInt64] = [:]
        for stage in StageCategory.allCases { stages[stage] = UInt64(max(0, profile.seconds(by: stage)) * 1e9) }
        // The wait for a worker, plus a batched graph's waits inside it (its batching queues).
        stages[.queue, default: 0] += queue
        self.queue = stages[.queue] ?? queue
        self.stages = stages
    }

    var computeInput: UInt64 { (stages[.decode] ?? 0) + (stages[.preprocess] ?? 0) }
    var computeInfer: UInt64 { stages[.inference] ?? 0 }
    var computeOutput: UInt64 { stages[.postprocess] ?? 0 }
}

/// A runner handed to the one worker thread that uses it (a runner serves one thread at a time).
private final class OwnedRunner: @unchecked Sendable {
    let runner: PipelineRunner
    init(_ runner: PipelineRunner) { self.runner = runner }
}

/// Counts and durations in Triton's statistics shape: `success` is whole requests, `queue`
/// the wait for a worker, and the compute phases split the run by the paper's categories
/// (decode and preprocess are `compute_input`, the model `compute_infer`, postprocess
/// `compute_output`). Without batching, every request is one execution.
struct ModelStatistics {
    private var success = Duration(), failure = Duration(), queue = Duration()
    private var computeInput = Duration(), computeInfer = Duration(), computeOutput = Duration()
    private var lastInferenceMilliseconds: UInt64 = 0
    /// Successful requests' time per stage category, summed.
    private(set) var stageNanoseconds: [StageCategory: UInt64] = [:]
    var successes: Int { success.count }

    struct Duration {
        var count = 0
        var nanoseconds: UInt64 = 0
        mutating func add(_ ns: UInt64) {
            count += 1
            nanoseconds &+= ns
        }
        var object: [String: Any] { ["count": count, "ns": nanoseconds] }
    }

    /// One request: its timing when it succeeded, else how long it took to fail.
    mutating func record(_ timing: RequestTiming?, failedAfter total: UInt64) {
        lastInferenceMilliseconds = UInt64(Date().timeIntervalSince1970 * 1000)
        guard let timing else {
            failure.add(total)
            return
        }
        success.add(timing.total)
        queue.add(timing.queue)
        computeInput.add(timing.computeInput)
        computeInfer.add(timing.computeInfer)
        computeOutput.add(timing.computeOutput)
        stageNanoseconds.merge(timing.stages, uniquingKeysWith: &+)
    }

    func object(name: String, executions: Int? = nil) -> [String: Any] {
        [
            "model_stats": [[
                "name": name, "version": "1", "last_inference": lastInferenceMilliseconds,
                "inference_count": success.count, "execution_count": executions ?? success.count,
                "inference_stats": [
                    "success": success.object, "fail": failure.object, "queue": queue.object,
                    "compute_input": computeInput.object, "compute_infer": computeInfer.object,
                    "compute_output": computeOutput.object,
                ],
                "batch_stats": [] as [Any],
            ] as [String: Any]],
        ]
    }
}
