import Foundation
import IR
import PipelineSpec
import Runtime

/// A `visionc worker` process's loop: consumes one broker edge's stream through the edge's
/// consumer group and runs the stages behind it (up to the next broker edge, which it
/// publishes to in turn), answering each request once.
///
/// Delivery, step by step:
/// 1. XREADGROUP hands this consumer new entries, at most as many as it has free slots (a
///    slot per request its stages can hold at once: `max_batch × workers`), so entries wait in
///    Redis, not here, and a dead worker strands at most its slots.
/// 2. Each entry runs on a slot thread through a `StagedExecutable` that begins at the edge's
///    stage; concurrent slots are what a batched stage's queue batches together.
/// 3. The answer script stores the answer under the request's result key only if none is
///    there (`SET NX`), notifies the front end, then XACKs and XDELs the entry — one atomic
///    step, so an answer stored is an entry done, and running an entry twice (after a
///    takeover) still yields one answer. A request whose answer already exists is not run.
/// 4. Every `claim_after_ms / 2`, XAUTOCLAIM takes over entries idle longer than
///    `claim_after_ms` in any consumer's pending list (a worker killed mid-request). An entry
///    delivered more than `max_deliveries` times is not run again: it is copied to the edge's
///    dead-letter stream and answered with an error.
/// 5. A worker that stops on SIGTERM finishes what it took and leaves the group; the live
///    workers delete consumers that hold nothing and were idle for ten takeover periods.
/// 6. Errors the request causes are answered at once (no retry helps a corrupt image);
///    Redis being unreachable while answering is retried for a minute, then the entry is left
///    pending for a takeover.
///
/// `VISIONC_FAILPOINT=crash-on-request:PREFIX` makes the process kill itself (SIGKILL) when it
/// picks up a request whose id starts with PREFIX: the poison input of the fault tests, the
/// only way to make a worker die on an input, since no input is allowed to crash it.
public final class StreamWorker: @unchecked Sendable {
    public let address: BrokerAddress
    public let stage: String
    public let consumer: String
    let keys: EdgeKeys
    private let executable: StagedExecutable
    private let claimAfterMilliseconds: Int
    private let maxDeliveries: Int
    private let slots: Int
    private let crashPrefix: String?
    private let fingerprint: String

    private let condition = NSCondition()
    private var pending: [(id: String, fields: [String: [UInt8]])] = []
    private var busy = 0
    private var stopping = false
    private var counts = WorkerCounts()

    /// What this worker did, for its log and the tests.
    public struct WorkerCounts: Sendable, Equatable {
        public var processed = 0
        public var failed = 0
        public var redelivered = 0
        public var deadLettered = 0
        public var skipped = 0
    }

    /// - Parameters:
    ///   - stage: the partition's stage the edge leads into (`StagePartition.brokerStage(named:)`).
    ///   - server: the Redis server to use instead of the one the YAML names.
    ///   - consumer: this worker's name in the group (unique per live worker).
    public init(graph: Graph, stage index: Int, server: BrokerAddress?, options: RuntimeOptions, consumer: String) throws {
        let partition = try StagePartition(graph)
        guard partition.stages.indices.contains(index), let queue = partition.stages[index].broker,
              let address = BrokerAddress(queue: queue, server: server) else {
            throw RuntimeError.invalidGraph("stage \(index) is not behind a broker edge")
        }
        self.address = address
        stage = partition.stages[index].name
        self.consumer = consumer
        keys = EdgeKeys(address)
        claimAfterMilliseconds = queue.int("claim_after_ms", default: 10_000)
        maxDeliveries = queue.int("max_deliveries", default: 3)
        slots = max(1, queue.int("max_batch", default: 1) * queue.int("workers", default: 1))
        fingerprint = BrokerPayload.fingerprint(of: partition, from: index)
        executable = try StagedExecutable(
            graph: graph, options: options, maxInFlight: slots, startingAt: index, remote: RedisStreamEdge.factory(server: server))
        let failpoint = ProcessInfo.processInfo.environment["VISIONC_FAILPOINT"] ?? ""
        crashPrefix = failpoint.hasPrefix("crash-on-request:") ? String(failpoint.dropFirst("crash-on-request:".count)) : nil
    }

    /// Asks `run` to return: it stops reading, finishes what it took and returns.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    public var counters: WorkerCounts {
        condition.lock()
        defer { condition.unlock() }
        return counts
    }

    /// Reads, runs and answers until `stop`; Redis outages are waited out.
    public func run() {
        let done = DispatchGroup()
        for slot in 0..<slots {
            done.enter()
            let thread = Thread { [self] in
                serve()
                done.leave()
            }
            thread.name = "visionc-worker-\(slot)"
            thread.start()
        }
        let connection = RedisConnection(address, timeoutSeconds: 5)
        var groupReady = false
        var waiting = false
        var nextClaim = 0.0
        let claimInterval = max(0.05, Double(claimAfterMilliseconds) * 0.5e-3)
        while true {
            condition.lock()
            while !stopping && pending.count + busy >= slots { condition.wait() }
            let free = slots - pending.count - busy
            let done = stopping
            condition.unlock()
            if done { break }
            do {
                if !groupReady {
                    try ensureGroup(connection)
                    groupReady = true
                }
                if monotonicSeconds() >= nextClaim {
                    nextClaim = monotonicSeconds() + claimInterval
                    try claim(connection, count: free)
                    continue
                }
                let block = Int(min(1, claimInterval) * 1000)
                let reply = try connection.call(
                    "XREADGROUP", "GROUP", EdgeKeys.group, consumer, "COUNT", String(free), "BLOCK", String(block), "STREAMS", keys.stream, ">")
                take(reply.elements.first?.elements.dropFirst().first?.elements ?? [], redelivered: false)
            } catch BrokerError.command(let message) where message.contains("NOGROUP") {
                groupReady = false  // Redis came back without the group (no persistence): make it again.
            } catch {
                // Said once per outage; the worker keeps trying until Redis answers or it is stopped.
                if !waiting { FileHandle.standardError.write(Data("visionc worker: \(error); retrying\n".utf8)) }
                waiting = true
                Thread.sleep(forTimeInterval: 0.2)
                continue
            }
            if waiting { FileHandle.standardError.write(Data("visionc worker: \(address) answers again\n".utf8)) }
            waiting = false
        }
        done.wait()
        // Every entry this worker took is answered: leave the group (a consumer with pending
        // entries is never deleted, which would drop them).
        _ = try? connection.call("XGROUP", "DELCONSUMER", keys.stream, EdgeKeys.group, consumer)
    }

    /// Deletes consumers that hold no entries and have been idle for ten takeover periods
    /// (workers killed after their entries were taken over), so the group's consumer count is
    /// the live workers.
    private func forgetDeadConsumers(_ connection: RedisConnection) throws {
        for info in try connection.call("XINFO", "CONSUMERS", keys.stream, EdgeKeys.group).elements {
            let fields = info.elements
            var values: [String: RedisReply] = [:]
            for index in stride(from: 0, to: fields.count - 1, by: 2) { values[fields[index].text ?? ""] = fields[index + 1] }
            guard let name = values["name"]?.text, name != consumer, values["pending"]?.integer == 0,
                  let idle = values["idle"]?.integer, idle > 10 * claimAfterMilliseconds else { continue }
            try connection.call("XGROUP", "DELCONSUMER", keys.stream, EdgeKeys.group, name)
        }
    }

    private func ensureGroup(_ connection: RedisConnection) throws {
        let reply = try connection.send(["XGROUP", "CREATE", keys.stream, EdgeKeys.group, "0", "MKSTREAM"].map { Array($0.utf8) })
        if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") { throw BrokerError.command("XGROUP CREATE: \(message)") }
    }

    /// Queues entries of an XREADGROUP or XAUTOCLAIM reply for the slot threads.
    private func take(_ entries: [RedisReply], redelivered: Bool) {
        let parsed = entries.compactMap { entry -> (String, [String: [UInt8]])? in
            let parts = entry.elements
            guard let id = parts.first?.text else { return nil }
            return (id, BrokerPayload.pairs(parts.count > 1 ? parts[1].elements : []))
        }
        condition.lock()
        pending += parsed.map { (id: $0.0, fields: $0.1) }
        if redelivered { counts.redelivered += parsed.count }
        condition.broadcast()
        condition.unlock()
    }

    /// Takes over entries idle past `claim_after_ms`; dead-letters those delivered too often.
    private func claim(_ connection: RedisConnection, count: Int) throws {
        let reply = try connection.call(
            "XAUTOCLAIM", keys.stream, EdgeKeys.group, consumer, String(claimAfterMilliseconds), "0-0", "COUNT", String(count))
        let parts = reply.elements
        // Entries deleted while pending (answered by a worker that then lost its ack): ack them.
        for deleted in parts.count > 2 ? parts[2].elements : [] {
            if let id = deleted.text { try connection.call("XACK", keys.stream, EdgeKeys.group, id) }
        }
        var retry: [RedisReply] = []
        for entry in parts.count > 1 ? parts[1].elements : [] {
            guard let id = entry.elements.first?.text else { continue }
            let pendingInfo = try connection.call("XPENDING", keys.stream, EdgeKeys.group, id, id, "1")
            let deliveries = pendingInfo.elements.first?.elements.dropFirst(3).first?.integer ?? 1
            if deliveries > maxDeliveries {
                try deadLetter(connection, id: id, fields: BrokerPayload.pairs(entry.elements.count > 1 ? entry.elements[1].elements : []), deliveries: deliveries)
            } else {
                retry.append(entry)
                try connection.call("HINCRBY", keys.statistics, "redelivered", "1")
            }
        }
        take(retry, redelivered: true)
        try forgetDeadConsumers(connection)
    }

    private func deadLetter(_ connection: RedisConnection, id: String, fields: [String: [UInt8]], deliveries: Int) throws {
        let request = String(decoding: fields["request"] ?? [], as: UTF8.self)
        var copy: [[UInt8]] = ["XADD", keys.deadLetters, "MAXLEN", "~", "10000", "*", "entry", id, "deliveries", String(deliveries), "stage", stage]
            .map { Array($0.utf8) }
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { copy += [Array(name.utf8), value] }
        try connection.call(copy)
        let message = "request '\(request)' was delivered \(deliveries) times (max_deliveries \(maxDeliveries)) and its worker died each time; dead-lettered to \(keys.deadLetters)"
        try answer(connection, id: id, fields: fields, with: BrokerPayload.answer(status: .dead, message: message), counter: "dead_letters")
        condition.lock()
        counts.deadLettered += 1
        condition.unlock()
    }

    /// A slot thread: runs queued entries until the worker stops and the queue is empty.
    private func serve() {
        let connection = RedisConnection(address, timeoutSeconds: 5)
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            guard !pending.isEmpty else {
                condition.unlock()
                return
            }
            let (id, fields) = pending.removeFirst()
            busy += 1
            condition.unlock()
            let outcome = process(connection, id: id, fields: fields)
            condition.lock()
            busy -= 1
            switch outcome {
            case .processed: counts.processed += 1
            case .failed: counts.failed += 1
            case .skipped: counts.skipped += 1
            case .unanswered: break
            }
            condition.broadcast()
            condition.unlock()
        }
    }

    private enum Outcome { case processed, failed, skipped, unanswered }

    private func process(_ connection: RedisConnection, id: String, fields: [String: [UInt8]]) -> Outcome {
        let request = String(decoding: fields["request"] ?? [], as: UTF8.self)
        if let crashPrefix, request.hasPrefix(crashPrefix) { kill(getpid(), SIGKILL) }
        // Answered already (a takeover raced a slow worker, or a replay): do not run it again.
        if (try? connection.call("EXISTS", keys.result(request)).integer) == 1 {
            return (try? answer(connection, id: id, fields: fields, with: [], counter: "skipped")) != nil ? .skipped : .unanswered
        }
        let stored: [UInt8]
        let outcome: Outcome
        do {
            guard !request.isEmpty, fields["reply"] != nil else { throw BrokerError.protocolError("entry \(id) has no request id or reply stream") }
            let sent = String(decoding: fields["graph"] ?? [], as: UTF8.self)
            guard sent == fingerprint else {
                throw BrokerError.protocolError(
                    "the front end compiled the stages behind this edge differently (graph \(sent), this worker's \(fingerprint)): start both from the same graph file with the same -O and --fidelity")
            }
            let result = try executable.run(values: try BrokerPayload.values(fields), requestID: request)
            (stored, outcome) = (BrokerPayload.answer(status: .ok, result: result), .processed)
        } catch let error as RuntimeError where error.isInputFault {
            (stored, outcome) = (BrokerPayload.answer(status: .input, message: "\(error)"), .failed)
        } catch let error as RemoteStageError {
            (stored, outcome) = (BrokerPayload.answer(status: error.inputFault ? .input : .error, message: error.message), .failed)
        } catch {
            (stored, outcome) = (BrokerPayload.answer(status: .error, message: "\(error)"), .failed)
        }
        // Redis may be restarting: keep the answer and retry for a minute before leaving the
        // entry pending for a takeover.
        let giveUp = monotonicSeconds() + 60
        while true {
            do {
                try answer(connection, id: id, fields: fields, with: stored, counter: outcome == .processed ? "processed" : "failed")
                return outcome
            } catch {
                if monotonicSeconds() > giveUp { return .unanswered }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
    }

    private func answer(_ connection: RedisConnection, id: String, fields: [String: [UInt8]], with stored: [UInt8], counter: String) throws {
        let request = String(decoding: fields["request"] ?? [], as: UTF8.self)
        let reply = fields["reply"] ?? Array(keys.replies("unknown").utf8)
        let arguments: [[UInt8]] = [
            Array("EVAL".utf8), Array(EdgeScripts.answer.utf8), Array("4".utf8),
            Array(keys.stream.utf8), Array(keys.result(request).utf8), reply, Array(keys.statistics.utf8),
            Array(EdgeKeys.group.utf8), Array(id.utf8), Array(String(EdgeKeys.resultTTLSeconds).utf8), stored, Array(request.utf8),
            Array(counter.utf8),
        ]
        try connection.call(arguments)
    }
}
