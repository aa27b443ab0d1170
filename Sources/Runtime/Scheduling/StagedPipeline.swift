import Foundation

/// Runs a chain of stages, each on its own worker thread(s), with a batching queue in front
/// of every worker stage, fan-out into child records and fan-in back to their parent.
///
/// Guarantees (tested in `StagedPipelineTests`):
/// - every submitted request gets exactly one result, success or the first error any of its
///   records hit, and results are delivered in submission order (a reorder buffer holds
///   early finishers), or as soon as each is done when made with `ordered: false` (for
///   callers that each wait for their own request, where order only adds head-of-line waits);
/// - every child of a fan-out reaches its gather exactly once and lands in its own slot, so
///   gathered arrays keep child order whatever order the workers finish in; a fan-out with
///   no children forwards the parent at once with an empty array;
/// - memory stays bounded: `submit` blocks while `maxInFlight` requests are undelivered
///   (a slow result callback holds requests in flight, so it throttles the producers), and
///   each queue holds at most its `capacity` items, blocking the stage that feeds it.
///
/// No stage ever blocks on delivery (the reorder buffer takes any finished request), so a
/// full queue always drains and bounded queues cannot deadlock. Call `shutdown()` when done:
/// worker threads keep the pipeline alive until then.
public final class StagedPipeline: @unchecked Sendable {
    public typealias Completion = @Sendable (Result<Record, any Error>) -> Void

    private struct Envelope: Sendable {
        let request: Int
        /// The child index at each open fan-out level, outermost first.
        var path: [Int]
        var record: Record
    }

    private struct GatherKey: Hashable {
        let request: Int
        let path: [Int]
    }

    private struct GatherState {
        var parent: Record
        var slots: [(any Sendable)?]
        var received = 0
    }

    private final class StageCounters: @unchecked Sendable {
        let lock = NSLock()
        var items = 0
        var busySeconds = 0.0
    }

    private final class WorkerBox: @unchecked Sendable {
        let worker: any StageWorker
        init(_ worker: any StageWorker) { self.worker = worker }
    }

    public let name: String
    public let stages: [Stage]
    public let maxInFlight: Int
    private let queues: [BatchQueue<Envelope>?]
    private let counters: [StageCounters]
    /// For each expand stage, the gather that closes it.
    private let closingGather: [Int: Int]
    private let startedAt = monotonicSeconds()

    private let state = NSCondition()
    private var nextRequest = 0
    /// Every request below it has been delivered.
    private var nextToDeliver = 0
    /// Requests at or above `nextToDeliver` delivered early (only without `ordered`).
    private var deliveredEarly: Set<Int> = []
    /// The request whose callback is running (still in flight, but never finished again).
    private var delivering: Int?
    private let ordered: Bool
    private var highestInFlight = 0
    private var stopping = false
    private var completions: [Int: Completion] = [:]
    private var finished: [Int: Result<Record, any Error>] = [:]
    private var failed: Set<Int> = []
    private var gathers: [GatherKey: GatherState] = [:]
    private let threadsDone = DispatchGroup()

    /// Checks the stage chain, makes every worker (errors surface here) and starts the threads.
    /// - Parameters:
    ///   - maxInFlight: requests admitted before `submit` blocks.
    ///   - ordered: deliver results in submission order (else as each request finishes).
    public init(name: String, stages: [Stage], maxInFlight: Int = 64, ordered: Bool = true) throws {
        guard maxInFlight >= 1 else { throw PipelineError.invalidStages("maxInFlight must be at least 1") }
        self.ordered = ordered
        self.name = name
        self.stages = stages
        self.maxInFlight = maxInFlight
        closingGather = try Self.matchFanOuts(stages)
        queues = stages.map { stage in
            stage.role == .gather ? nil : BatchQueue<Envelope>(name: stage.name, policy: stage.policy)
        }
        counters = stages.map { _ in StageCounters() }

        var workers: [(Int, WorkerBox)] = []
        for (index, stage) in stages.enumerated() where stage.role != .gather {
            guard let make = stage.makeWorker, stage.workers >= 1 else {
                throw PipelineError.invalidStages("stage '\(stage.name)' needs at least one worker")
            }
            for _ in 0..<stage.workers { workers.append((index, WorkerBox(try make()))) }
        }
        for (index, box) in workers {
            threadsDone.enter()
            let thread = Thread { [self] in
                workerLoop(stage: index, worker: box.worker)
                threadsDone.leave()
            }
            thread.name = "\(name).\(stages[index].name)"
            thread.start()
        }
        threadsDone.enter()
        let delivery = Thread { [self] in
            deliveryLoop()
            threadsDone.leave()
        }
        delivery.name = "\(name).deliver"
        delivery.start()
    }

    private static func matchFanOuts(_ stages: [Stage]) throws -> [Int: Int] {
        var names = Set<String>()
        var open: [Int] = []
        var closing: [Int: Int] = [:]
        for (index, stage) in stages.enumerated() {
            guard names.insert(stage.name).inserted else {
                throw PipelineError.invalidStages("two stages are named '\(stage.name)'")
            }
            switch stage.role {
            case .map: break
            case .expand: open.append(index)
            case .gather:
                guard let expand = open.popLast() else {
                    throw PipelineError.invalidStages("gather '\(stage.name)' has no expand before it to close")
                }
                guard !stage.inputs.isEmpty, stage.inputs.count == stage.gathered.count else {
                    throw PipelineError.invalidStages("gather '\(stage.name)' must name one array per collected value")
                }
                closing[expand] = index
            }
        }
        if let unclosed = open.last {
            throw PipelineError.invalidStages("expand '\(stages[unclosed].name)' is never gathered")
        }
        return closing
    }

    // MARK: - Submitting and delivering

    /// Admits one request, waiting while `maxInFlight` requests are undelivered.
    /// `completion` runs exactly once, on the delivery thread (in submission order when `ordered`).
    public func submit(_ record: Record, completion: @escaping Completion) {
        state.lock()
        while inFlight >= maxInFlight && !stopping { state.wait() }
        if stopping {
            state.unlock()
            completion(.failure(PipelineError.shutDown))
            return
        }
        let request = nextRequest
        nextRequest += 1
        completions[request] = completion
        highestInFlight = max(highestInFlight, inFlight)
        state.unlock()
        forward(Envelope(request: request, path: [], record: record), to: 0)
    }

    /// Submits every record and waits for all results, returned in input order.
    public func process(_ records: [Record]) -> [Result<Record, any Error>] {
        let collector = ResultCollector(count: records.count)
        for (index, record) in records.enumerated() {
            submit(record) { collector.set(index, $0) }
        }
        return collector.wait()
    }

    /// Submitted and not yet delivered (call with `state` locked).
    private var inFlight: Int { nextRequest - nextToDeliver - deliveredEarly.count }

    /// The finished request to deliver next, if any (call with `state` locked).
    private var deliverable: Int? {
        if ordered { return finished[nextToDeliver] == nil ? nil : nextToDeliver }
        return finished.keys.min()
    }

    private func deliveryLoop() {
        state.lock()
        while true {
            while deliverable == nil && !(stopping && nextToDeliver == nextRequest) { state.wait() }
            guard let request = deliverable, let result = finished.removeValue(forKey: request) else { break }
            let completion = completions.removeValue(forKey: request)
            failed.remove(request)
            delivering = request
            state.unlock()
            completion?(result)
            state.lock()
            // Counted as delivered only once the callback returns, so a slow consumer keeps
            // its requests in flight and `submit` waits.
            delivering = nil
            deliveredEarly.insert(request)
            while deliveredEarly.remove(nextToDeliver) != nil { nextToDeliver += 1 }
            state.broadcast()
        }
        state.unlock()
    }

    private func finish(_ request: Int, _ result: Result<Record, any Error>) {
        state.lock()
        defer { state.unlock() }
        guard request >= nextToDeliver, finished[request] == nil, !failed.contains(request),
              !deliveredEarly.contains(request), delivering != request else { return }
        finished[request] = result
        if case .failure = result {
            failed.insert(request)
            gathers = gathers.filter { $0.key.request != request }
        }
        state.broadcast()
    }

    private func isDead(_ request: Int) -> Bool {
        state.lock()
        defer { state.unlock() }
        return request < nextToDeliver || finished[request] != nil || deliveredEarly.contains(request) || delivering == request
    }

    // MARK: - Moving records between stages

    private func forward(_ envelope: Envelope, to index: Int) {
        guard index < stages.count else {
            finish(envelope.request, .success(envelope.record))
            return
        }
        let stage = stages[index]
        guard stage.role == .gather else {
            // A closed queue refuses the item only during shutdown, after every request was delivered.
            queues[index]?.push(envelope)
            return
        }
        var parentPath = envelope.path
        guard let slot = parentPath.popLast() else { return }
        let key = GatherKey(request: envelope.request, path: parentPath)
        var collected: [any Sendable] = []
        for input in stage.inputs {
            guard let value = envelope.record[input] else {
                finish(envelope.request, .failure(PipelineError.missingValue(input, available: envelope.record.values.keys.sorted())))
                return
            }
            collected.append(value)
        }
        state.lock()
        // Missing state: the request failed and its gathers were dropped.
        guard var gather = gathers[key], slot < gather.slots.count, gather.slots[slot] == nil else {
            state.unlock()
            return
        }
        gather.slots[slot] = collected
        gather.received += 1
        guard gather.received == gather.slots.count else {
            gathers[key] = gather
            state.unlock()
            return
        }
        gathers[key] = nil
        state.unlock()
        var parent = gather.parent
        let slots = gather.slots.compactMap { $0 as? [any Sendable] }
        for (position, name) in stage.gathered.enumerated() { parent[name] = slots.map { $0[position] } }
        forward(Envelope(request: envelope.request, path: parentPath, record: parent), to: index + 1)
    }

    private func fanOut(_ envelope: Envelope, children: [any Sendable], stage index: Int) {
        let stage = stages[index]
        guard let gatherIndex = closingGather[index] else { return }
        if children.isEmpty {
            var parent = envelope.record
            for name in stages[gatherIndex].gathered { parent[name] = [any Sendable]() }
            forward(Envelope(request: envelope.request, path: envelope.path, record: parent), to: gatherIndex + 1)
            return
        }
        state.lock()
        // Registered before any child is queued, so no child can reach the gather first.
        gathers[GatherKey(request: envelope.request, path: envelope.path)] = GatherState(
            parent: envelope.record, slots: Array(repeating: nil, count: children.count))
        state.unlock()
        for (position, child) in children.enumerated() {
            var record = envelope.record
            record[stage.name] = child
            record["\(stage.name).index"] = position
            forward(Envelope(request: envelope.request, path: envelope.path + [position], record: record), to: index + 1)
        }
    }

    private func workerLoop(stage index: Int, worker: any StageWorker) {
        let stage = stages[index]
        guard let queue = queues[index] else { return }
        while let batch = queue.popBatch() {
            for envelope in queue.policy.timeoutMicroseconds > 0 ? queue.takeExpired() : [] {
                finish(envelope.request, .failure(QueueTimeoutError(queue: stage.name, timeoutMicroseconds: queue.policy.timeoutMicroseconds)))
            }
            let live = batch.filter { !isDead($0.request) }
            if live.isEmpty { continue }
            let outputs: [any Sendable]
            do {
                let inputs = try live.map { envelope in try stage.inputs.map { try envelope.record.value($0) as any Sendable } }
                let start = monotonicSeconds()
                outputs = try worker.process(inputs)
                let counter = counters[index]
                counter.lock.lock()
                counter.items += live.count
                counter.busySeconds += monotonicSeconds() - start
                counter.lock.unlock()
                guard outputs.count == live.count else {
                    throw PipelineError.wrongResultCount(stage: stage.name, expected: live.count, produced: outputs.count)
                }
            } catch {
                for envelope in live { finish(envelope.request, .failure(StageError(stage: stage.name, underlying: error))) }
                continue
            }
            for (envelope, output) in zip(live, outputs) {
                switch stage.role {
                case .map, .gather:
                    var next = envelope
                    if let values = output as? RecordValues {
                        for (name, value) in values.values { next.record[name] = value }
                    } else {
                        next.record[stage.name] = output
                    }
                    forward(next, to: index + 1)
                case .expand:
                    guard let children = output as? [any Sendable] else {
                        finish(envelope.request, .failure(StageError(stage: stage.name, underlying: PipelineError.wrongValueType(
                            stage.name, expected: "an array of children", found: "\(type(of: output))"))))
                        continue
                    }
                    fanOut(envelope, children: children, stage: index)
                }
            }
        }
    }

    // MARK: - Shutting down and statistics

    /// Waits until every submitted request is delivered, then stops all threads. Later
    /// submissions fail with `PipelineError.shutDown`.
    public func shutdown() {
        state.lock()
        if stopping {
            state.unlock()
            return
        }
        while nextToDeliver < nextRequest { state.wait() }
        stopping = true
        state.broadcast()
        state.unlock()
        for queue in queues { queue?.close() }
        threadsDone.wait()
    }

    public func statistics() -> PipelineStatistics {
        let stageStatistics = stages.indices.map { index -> StageStatistics in
            let counter = counters[index]
            counter.lock.lock()
            defer { counter.lock.unlock() }
            let stage = stages[index]
            return StageStatistics(
                name: stage.name, role: stage.role, workers: stage.workers, policy: stage.policy,
                queue: queues[index]?.statistics, items: counter.items, busySeconds: counter.busySeconds)
        }
        state.lock()
        defer { state.unlock() }
        return PipelineStatistics(
            stages: stageStatistics, requestsDelivered: nextToDeliver + deliveredEarly.count, maxInFlight: highestInFlight,
            wallSeconds: monotonicSeconds() - startedAt)
    }
}

/// A stage's worker failed; the request's result carries which stage.
/// A request dropped from a queue for waiting longer than its policy's timeout: the server
/// answers 503 (come back later), as Triton does for a rejected timeout.
public struct QueueTimeoutError: Error, CustomStringConvertible {
    public let queue: String
    public let timeoutMicroseconds: Int
    public var description: String {
        "the request waited more than \(timeoutMicroseconds) µs in the queue of stage '\(queue)' (timeout_us) and was dropped"
    }
}

public struct StageError: Error, CustomStringConvertible {
    public let stage: String
    public let underlying: any Error
    public var description: String { "stage '\(stage)': \(underlying)" }
}

/// Collects results by position from the delivery thread for `StagedPipeline.process`.
private final class ResultCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var results: [Result<Record, any Error>?]
    private var remaining: Int

    init(count: Int) {
        results = Array(repeating: nil, count: count)
        remaining = count
    }

    func set(_ index: Int, _ result: Result<Record, any Error>) {
        condition.lock()
        results[index] = result
        remaining -= 1
        condition.broadcast()
        condition.unlock()
    }

    func wait() -> [Result<Record, any Error>] {
        condition.lock()
        defer { condition.unlock() }
        while remaining > 0 { condition.wait() }
        return results.compactMap { $0 }
    }
}
