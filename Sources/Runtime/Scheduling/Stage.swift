/// One stage of a `StagedPipeline`.
///
/// Stages form a chain; fan-out and fan-in nest like brackets: every `expand` is closed by
/// a later `gather`, and the stages between them run once per child.
public struct Stage: Sendable {
    public enum Role: String, Sendable {
        /// One result per record, stored under the stage's name.
        case map
        /// Fan-out: the worker returns an array per record; each element becomes a child
        /// record (a copy of the parent plus the element under the stage's name, and its
        /// position under `<name>.index`).
        case expand
        /// Fan-in: no worker. Collects each value `inputs` names from every child of a parent,
        /// in child order, and forwards the parent with each array (`[any Sendable]`, empty
        /// when the fan-out had no children) under the matching name of `gathered`.
        case gather
    }

    public let name: String
    public let role: Role
    /// Record values passed to the worker, in this order (for a gather: the collected values).
    public let inputs: [String]
    /// A gather's names for the arrays it collects, one per input.
    public let gathered: [String]
    /// The queue in front of the stage (unused by a gather, which runs inline).
    public let policy: QueuePolicy
    /// Worker threads, each with its own `StageWorker`.
    public let workers: Int
    let makeWorker: (@Sendable () throws -> any StageWorker)?

    public static func map(
        _ name: String, inputs: [String], policy: QueuePolicy = QueuePolicy(), workers: Int = 1,
        worker: @escaping @Sendable () throws -> any StageWorker
    ) -> Stage {
        Stage(name: name, role: .map, inputs: inputs, gathered: [], policy: policy, workers: workers, makeWorker: worker)
    }

    public static func expand(
        _ name: String, inputs: [String], policy: QueuePolicy = QueuePolicy(), workers: Int = 1,
        worker: @escaping @Sendable () throws -> any StageWorker
    ) -> Stage {
        Stage(name: name, role: .expand, inputs: inputs, gathered: [], policy: policy, workers: workers, makeWorker: worker)
    }

    /// A gather of one value, its array under the stage's name.
    public static func gather(_ name: String, collecting value: String) -> Stage {
        gather(name, collecting: [value], into: [name])
    }

    /// A gather of several values from the same children, each array under its own name.
    public static func gather(_ name: String, collecting values: [String], into names: [String]) -> Stage {
        precondition(values.count == names.count && !values.isEmpty, "a gather names one array per collected value")
        return Stage(name: name, role: .gather, inputs: values, gathered: names, policy: QueuePolicy(), workers: 0, makeWorker: nil)
    }
}

/// What a map worker returns to add several values to a record, each under its own name
/// (instead of one value under the stage's name).
public struct RecordValues: Sendable {
    public var values: [String: any Sendable]
    public init(_ values: [String: any Sendable]) { self.values = values }
}

/// The work of one stage. Each worker thread owns one instance (a model stage owns its own
/// `Executable`, which is single-threaded), so implementations need no locking.
public protocol StageWorker: AnyObject {
    /// Processes one batch.
    /// - Parameter batch: per record, the values its stage's `inputs` name, in that order.
    /// - Returns: one result per record, in order (for an `expand` stage: an `[any Sendable]`
    ///   of children per record).
    func process(_ batch: [[any Sendable]]) throws -> [any Sendable]
}

/// A stateless worker from a closure, for host stages and tests.
public final class ClosureWorker: StageWorker {
    private let body: ([[any Sendable]]) throws -> [any Sendable]

    public init(_ body: @escaping ([[any Sendable]]) throws -> [any Sendable]) { self.body = body }

    /// A worker that handles each record on its own (no batching benefit).
    public static func perRecord(_ body: @escaping ([any Sendable]) throws -> any Sendable) -> ClosureWorker {
        ClosureWorker { batch in try batch.map(body) }
    }

    public func process(_ batch: [[any Sendable]]) throws -> [any Sendable] { try body(batch) }
}

/// What one stage did: its queue's view (waits, batch sizes, depth) and its workers' busy time.
public struct StageStatistics: Sendable {
    public var name: String
    public var role: Stage.Role
    public var workers: Int
    public var policy: QueuePolicy
    /// Nil for a gather, which has no queue.
    public var queue: QueueStatistics?
    /// Records processed and the seconds workers spent in `process` (summed over workers).
    public var items: Int
    public var busySeconds: Double

    /// Items per second of worker time: the stage's rate when it is not starved.
    public var itemsPerBusySecond: Double { busySeconds > 0 ? Double(items) / busySeconds : 0 }
}

/// A snapshot of a running or finished pipeline, for `visionc bench` and tests.
public struct PipelineStatistics: Sendable {
    public var stages: [StageStatistics]
    public var requestsDelivered: Int
    /// The most requests that were in flight at once (submitted, not yet delivered).
    public var maxInFlight: Int
    public var wallSeconds: Double
}
