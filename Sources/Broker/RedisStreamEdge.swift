import Foundation
import IR
import PipelineSpec
import Runtime

/// The sending side of a broker edge: a `RemoteSegment` that publishes each request's carried
/// values to the edge's stream and waits for its answer.
///
/// - Admission: the publish script refuses a request when the stream already holds `capacity`
///   entries (its backlog: workers delete what they answer), and the wait for an answer is
///   bounded (`timeout`); both throw `BrokerUnavailableError` (a server answers 503), as does
///   Redis being unreachable. Memory stays bounded on both sides.
/// - Idempotence: a request id that was answered gets the stored answer without running; one
///   admitted by another front end and not yet answered is waited for by polling its result.
///   Two calls with one id here share one publication.
/// - Answers reach this front end through its own reply stream, read by one listener thread
///   (XREAD BLOCK); a waiter also checks its result key about once a second, so a lost
///   notification (a trimmed reply stream, a Redis restarted without persistence) costs time,
///   never the answer.
public final class RedisStreamEdge: RemoteSegment, @unchecked Sendable {
    public let address: BrokerAddress
    public let stage: String
    public let capacity: Int
    public let timeoutSeconds: Double
    let keys: EdgeKeys
    /// This front end's name in reply-stream keys.
    let frontEnd = UUID().uuidString.lowercased()

    private final class Waiter {
        var answer: [UInt8]?
        var failure: (any Error)?
    }

    private let condition = NSCondition()
    private var waiters: [String: Waiter] = [:]
    private var idle: [RedisConnection] = []

    /// - Parameters:
    ///   - stage: the stage the edge leads into (for messages).
    ///   - capacity: entries the stream may hold before a publish is refused.
    ///   - timeoutSeconds: how long a request waits for its answer.
    /// The stages behind the edge as this front end compiled them (`BrokerPayload.fingerprint`).
    let fingerprint: String

    public init(address: BrokerAddress, stage: String, capacity: Int, timeoutSeconds: Double, fingerprint: String) {
        self.fingerprint = fingerprint
        self.address = address
        self.stage = stage
        self.capacity = capacity
        self.timeoutSeconds = timeoutSeconds
        keys = EdgeKeys(address)
        // The listener holds the edge only while it reads, so the edge goes away with its last
        // user and the thread ends within one blocking read after.
        let thread = Thread { [weak self] in
            let connection = RedisConnection(address, timeoutSeconds: 3)
            var last = "0-0"
            while let edge = self {
                edge.listen(on: connection, after: &last)
            }
        }
        thread.name = "visionc-broker-replies"
        thread.start()
    }

    /// The segment for the broker edge into stage `index`, on the server the YAML names or on
    /// `server` (`--redis`): the factory a `StagedExecutable` takes.
    public static func factory(server: BrokerAddress?) -> RemoteSegmentFactory {
        { index, partition in
            let stage = partition.stages[index]
            guard let queue = stage.broker, let address = BrokerAddress(queue: queue, server: server) else {
                throw RuntimeError.invalidGraph("stage '\(stage.name)' has no broker address")
            }
            let timeout = queue.int("timeout_us", default: 0)
            return RedisStreamEdge(
                address: address, stage: stage.name, capacity: queue.int("capacity", default: 64),
                timeoutSeconds: timeout > 0 ? Double(timeout) * 1e-6 : 60, fingerprint: BrokerPayload.fingerprint(of: partition, from: index))
        }
    }

    public func run(_ values: [String: Tensor], requestID: String) throws -> RemoteResult {
        let started = monotonicSeconds()
        let answer = try answer(for: values, requestID: requestID)
        var result = try BrokerPayload.decodeAnswer(answer, stage: stage)
        // The broker's share: the round trip less what the workers spent on the request.
        let remote = result.timings.reduce(0) { $0 + $1.seconds }
        result.timings.append(NodeTiming(name: "broker:\(address.stream)", op: .queue, category: .transfer, seconds: max(0, monotonicSeconds() - started - remote)))
        return result
    }

    private func answer(for values: [String: Tensor], requestID: String) throws -> [UInt8] {
        condition.lock()
        if let shared = waiters[requestID] {
            // The same id is in flight from here: wait for the one publication.
            defer { condition.unlock() }
            return try wait(for: shared, requestID: requestID, polling: false)
        }
        let waiter = Waiter()
        waiters[requestID] = waiter
        condition.unlock()
        let outcome: RedisReply
        do {
            let arguments: [[UInt8]] = [
                Array("EVAL".utf8), Array(EdgeScripts.publish.utf8), Array("3".utf8),
                Array(keys.stream.utf8), Array(keys.result(requestID).utf8), Array(keys.admitted(requestID).utf8),
                Array(String(capacity).utf8), Array(String(EdgeKeys.resultTTLSeconds).utf8), Array(requestID.utf8),
                Array(keys.replies(frontEnd).utf8), Array("graph".utf8), Array(fingerprint.utf8),
            ] + BrokerPayload.fields(values)
            outcome = try withConnection { try $0.call(arguments) }
        } catch {
            finish(requestID, failure: BrokerUnavailableError("stage '\(stage)': cannot publish to \(address): \(error); retry later"))
            throw BrokerUnavailableError("stage '\(stage)': cannot publish to \(address): \(error); retry later")
        }
        let code = outcome.elements.first?.integer
        switch code {
        case 2:
            let stored = outcome.elements.count > 1 ? outcome.elements[1].bytes ?? [] : []
            finish(requestID, answer: stored)
            return stored
        case 0:
            let error = BrokerUnavailableError("stage '\(stage)': the stream \(address) holds its capacity of \(capacity) requests; retry later")
            finish(requestID, failure: error)
            throw error
        case 1, 3:
            condition.lock()
            defer { condition.unlock() }
            return try wait(for: waiter, requestID: requestID, polling: code == 3)
        default:
            throw BrokerError.protocolError("the publish script answered \(outcome)")
        }
    }

    /// Waits (with `condition` locked) until the waiter has an answer, checking the result key
    /// every second (every 20 ms when `polling`: the notification goes to another front end).
    private func wait(for waiter: Waiter, requestID: String, polling: Bool) throws -> [UInt8] {
        let deadline = monotonicSeconds() + timeoutSeconds
        while waiter.answer == nil && waiter.failure == nil {
            let now = monotonicSeconds()
            guard now < deadline else {
                if waiters[requestID] === waiter { waiters[requestID] = nil }
                throw BrokerUnavailableError(
                    "stage '\(stage)': no answer from \(address) within \(Int(timeoutSeconds)) s (is a worker running? visionc worker GRAPH --stage \(stage)); retry later")
            }
            let slice = min(deadline - now, polling ? 0.02 : 1.0)
            if !condition.wait(until: Date(timeIntervalSinceNow: slice)) {
                condition.unlock()
                let stored = try? withConnection { try $0.call("GET", keys.result(requestID)) }
                condition.lock()
                if let bytes = stored?.bytes, waiter.answer == nil {
                    waiter.answer = bytes
                    if waiters[requestID] === waiter { waiters[requestID] = nil }
                    condition.broadcast()  // callers sharing this request's waiter
                }
            }
        }
        if let failure = waiter.failure { throw failure }
        return waiter.answer ?? []
    }

    private func finish(_ requestID: String, answer: [UInt8]? = nil, failure: (any Error)? = nil) {
        condition.lock()
        if let waiter = waiters.removeValue(forKey: requestID) {
            waiter.answer = answer
            waiter.failure = failure
            condition.broadcast()
        }
        condition.unlock()
    }

    /// Runs `body` on an idle pooled connection (made when none is), returning it after; a
    /// connection whose command failed is dropped.
    private func withConnection<T>(_ body: (RedisConnection) throws -> T) throws -> T {
        condition.lock()
        let connection = idle.popLast() ?? RedisConnection(address)
        condition.unlock()
        let result = try body(connection)
        condition.lock()
        idle.append(connection)
        condition.unlock()
        return result
    }

    /// One blocking read (at most a second) of this front end's reply stream: hands each stored
    /// answer to its waiter.
    private func listen(on connection: RedisConnection, after last: inout String) {
        do {
            let reply = try connection.call("XREAD", "COUNT", "256", "BLOCK", "1000", "STREAMS", keys.replies(frontEnd), last)
            // [[stream, [[id, [field, value…]]…]]]
            for entry in reply.elements.first?.elements.dropFirst().first?.elements ?? [] {
                let parts = entry.elements
                guard let id = parts.first?.text else { continue }
                last = id
                guard let request = BrokerPayload.pairs(parts.count > 1 ? parts[1].elements : [])["request"] else { continue }
                let requestID = String(decoding: request, as: UTF8.self)
                condition.lock()
                let waiting = waiters[requestID] != nil
                condition.unlock()
                guard waiting, let stored = try connection.call("GET", keys.result(requestID)).bytes else { continue }
                finish(requestID, answer: stored)
            }
        } catch {
            // Redis is down or restarting: waiters keep waiting (bounded by their timeout).
            Thread.sleep(forTimeInterval: 0.2)
        }
    }
}
