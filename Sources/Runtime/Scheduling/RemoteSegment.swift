import IR

/// The stages behind a broker edge, run by other processes: a `StagedExecutable` hands one
/// request's values across and waits for what the stages give back. The Runtime knows only
/// this contract; the `Broker` module implements it over a Redis stream.
public protocol RemoteSegment: Sendable {
    /// Runs the remote stages on one request.
    /// - Parameters:
    ///   - values: the record values that cross the edge (`StagePartition.carried(into:)`).
    ///   - requestID: the request's identity: a request submitted twice under one id runs once.
    /// - Returns: the graph outputs the remote stages write (`StagePartition.returned(from:)`)
    ///   and the node times they took, with the broker's own share as a `transfer` entry.
    func run(_ values: [String: Tensor], requestID: String) throws -> RemoteResult
}

public struct RemoteResult: Sendable {
    public var values: [String: Tensor]
    public var timings: [NodeTiming]

    public init(values: [String: Tensor], timings: [NodeTiming]) {
        self.values = values
        self.timings = timings
    }
}

/// A request a remote stage could not run; `inputFault` when the request's own data caused it
/// (a corrupt image), as opposed to the workers' or the broker's.
public struct RemoteStageError: Error, CustomStringConvertible {
    public let stage: String
    public let message: String
    public let inputFault: Bool

    public init(stage: String, message: String, inputFault: Bool) {
        self.stage = stage
        self.message = message
        self.inputFault = inputFault
    }

    public var description: String { "stage '\(stage)' (in a worker): \(message)" }
}

/// The broker cannot take or answer the request now (down, full, no result in time): retry later
/// (a server answers 503).
public struct BrokerUnavailableError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Makes the segment for the broker edge into stage `index` of a partition.
public typealias RemoteSegmentFactory = @Sendable (_ index: Int, _ partition: StagePartition) throws -> any RemoteSegment

/// The stage worker that stands for a remote segment: hands its record over and blocks until
/// the answer comes back, so it runs on as many threads as the edge may hold requests.
final class RemoteStageWorker: StageWorker {
    private let segment: any RemoteSegment
    private let carried: [String]
    private let rowTypes: [String: TensorType]

    init(segment: any RemoteSegment, carried: [String], rowTypes: [String: TensorType]) {
        self.segment = segment
        self.carried = carried
        self.rowTypes = rowTypes
    }

    func process(_ batch: [[any Sendable]]) throws -> [any Sendable] {
        try batch.map { values -> any Sendable in
            guard let trace = values[0] as? RequestTrace else { throw RuntimeError.invalidGraph("a staged record carries its trace") }
            var crossing: [String: Tensor] = [:]
            for (position, name) in carried.enumerated() {
                crossing[name] = try RecordValue.tensor(values[position + 2], name: name, rowType: rowTypes[name])
            }
            let result = try segment.run(crossing, requestID: trace.requestID)
            trace.add(result.timings)
            var record: [String: any Sendable] = result.values.mapValues { $0 as any Sendable }
            record[StagedExecutable.readyKey] = monotonicSeconds()
            return RecordValues(record)
        }
    }
}
