import Broker
import Foundation
import Frontend
import PipelineSpec
import IR
import Runtime

/// Errors of the driver itself (inputs it reads before the runtime sees them).
public struct DriverError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One ranked class of a top-k output.
public struct RankedClass: Sendable, Hashable {
    public var index: Int
    public var score: Float
    public var label: String?
}

/// One line of read text: its box (corners as x, y pairs, clockwise from the top-left for a
/// 4-corner box), the text and its score.
public struct TextLine: Sendable, Hashable, Codable {
    public var box: [[Double]]
    public var text: String
    public var score: Double
}

/// One detected object: its box (x1, y1, x2, y2 in input pixels), score and, for a face, its
/// landmarks (x, y of the eyes, nose and mouth corners); for an object of a class, the class's
/// name (its index when the graph names none).
public struct Detection: Sendable, Hashable, Codable {
    public var box: [Double]
    public var score: Double
    public var landmarks: [[Double]]?
    public var label: String?
}

/// Where a graph's broker edges (queues with `broker: redis://…`) run.
public enum BrokerEdges: Sendable {
    /// In this process, like any queue (tests, or a graph tried out on one machine).
    case inProcess
    /// Through Redis streams consumed by `visionc worker` processes: on the server each edge
    /// names, or on `server` for all of them.
    case redis(server: BrokerAddress?)

    var factory: RemoteSegmentFactory? {
        if case .redis(let server) = self { return RedisStreamEdge.factory(server: server) }
        return nil
    }

    /// The streams the graph's broker edges use (none when they run in process).
    public func addresses(of graph: Graph) -> [BrokerAddress] {
        guard case .redis(let server) = self else { return [] }
        return graph.nodes.compactMap { node in node.op == .queue ? BrokerAddress(queue: node.attributes, server: server) : nil }
    }
}

/// What one pipeline run gives back for one input.
public struct PipelineResult: Sendable {
    public var input: String
    public var outputs: [Tensor]
    /// One list per `Ranking` of the pipeline, best first.
    public var rankings: [[RankedClass]]
    /// One list per `TextReading` of the pipeline, in its order.
    public var texts: [[TextLine]]
    /// One list per `DetectionReading` of the pipeline, best first.
    public var detections: [[Detection]]
    public var profile: Profile
}

/// Runs a compiled pipeline on encoded images. Plans once per input size and reuses its
/// buffers (see `Executable`). A graph without queues runs on one `Executable`, and one
/// runner serves one thread at a time; a graph with batching queues runs on a
/// `StagedExecutable`, and one runner serves any number of threads at once (`isShared`):
/// their requests are what the queues batch together.
public final class PipelineRunner: @unchecked Sendable {
    public let compiled: CompiledPipeline
    private enum Engine {
        case single(Executable)
        case staged(StagedExecutable)
    }
    private let engine: Engine
    /// The streams of the graph's broker edges this runner sends to.
    public let brokerAddresses: [BrokerAddress]

    /// - Parameters:
    ///   - threads: intra-op threads per worker (a queue's own `threads` wins for its stage).
    ///   - inputWorkers: for a graph with queues, the workers of its first stage (decode and
    ///     preprocessing, one request each); ignored otherwise.
    ///   - brokers: where broker edges run: through Redis (the default, on the server each
    ///     names or one given for all) or in this process like any queue.
    public init(_ compiled: CompiledPipeline, threads: Int? = nil, inputWorkers: Int = 1, brokers: BrokerEdges = .redis(server: nil)) throws {
        self.compiled = compiled
        brokerAddresses = brokers.addresses(of: compiled.optimized)
        var options = RuntimeOptions()
        if let threads { options.threads = threads }
        if StagePartition.isStaged(compiled.optimized) {
            engine = .staged(try StagedExecutable(
                graph: compiled.optimized, options: options, inputWorkers: inputWorkers, remote: brokers.factory))
        } else {
            engine = .single(try Executable(graph: compiled.optimized, options: options))
        }
    }

    /// Whether many threads may call `run` at once (the graph has batching queues).
    public var isShared: Bool {
        if case .staged = engine { return true }
        return false
    }

    /// The queues' figures so far, for a graph with batching queues.
    public func queueStatistics() -> PipelineStatistics? {
        if case .staged(let staged) = engine { return staged.statistics() }
        return nil
    }

    /// Reads a file the pipeline takes as encoded bytes, with a size cap so a wrong
    /// path (a device, a huge file) can't exhaust memory.
    public static func readInput(path: String, maxBytes: Int = 512 << 20) throws -> Tensor {
        let url = URL(fileURLWithPath: path)
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw DriverError("\(path): cannot read input file (no such file or not accessible)")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw DriverError("\(path): not a regular file")
        }
        if let size = attributes[.size] as? Int, size > maxBytes {
            throw DriverError("\(path): \(size) bytes is larger than the \(maxBytes)-byte input limit")
        }
        guard let data = try? Data(contentsOf: url) else {
            throw DriverError("\(path): cannot read input file")
        }
        return Tensor(shape: [data.count], bytes: [UInt8](data))
    }

    /// Runs the pipeline on one input, capturing the named values as well.
    /// - Parameter requestID: the request's identity across broker edges (a request submitted
    ///   twice under one id runs once); a fresh one when nil.
    public func run(input: Tensor, name: String, capture: Set<String> = [], requestID: String? = nil) throws -> (PipelineResult, [String: Tensor]) {
        let result: RunResult
        switch engine {
        case .single(let executable): result = try executable.run(inputs: [input], capture: capture)
        case .staged(let staged): result = try staged.run(inputs: [input], capture: capture, requestID: requestID)
        }
        let rankings = compiled.rankings.map { ranking -> [RankedClass] in
            let scores = result.outputs[ranking.scoresOutput].floats
            let indices = result.outputs[ranking.indicesOutput].integers
            return zip(scores, indices).map { score, index in
                let label = ranking.labels.flatMap { index >= 0 && index < $0.count ? $0[index] : nil }
                return RankedClass(index: index, score: score, label: label)
            }
        }
        let texts = compiled.textReadings.map { reading in Self.lines(reading, outputs: result.outputs) }
        let detections = compiled.detectionReadings.map { reading in Self.detections(reading, outputs: result.outputs) }
        return (
            PipelineResult(input: name, outputs: result.outputs, rankings: rankings, texts: texts, detections: detections, profile: result.profile),
            result.captured
        )
    }

    /// The text of each row of a reading: token t is `labels[t − 1]`; −1 ends a row.
    static func lines(_ reading: TextReading, outputs: [Tensor]) -> [TextLine] {
        let boxes = outputs[reading.boxesOutput], tokens = outputs[reading.tokensOutput], scores = outputs[reading.scoresOutput].floats
        let corners = boxes.floats.map(Double.init), ids = tokens.integers
        let (k, length) = (boxes.shape.last ?? 0, tokens.shape.last ?? 0)
        return scores.indices.map { row in
            let box = stride(from: 0, to: k - 1, by: 2).map { [corners[row * k + $0], corners[row * k + $0 + 1]] }
            let text = ids[(row * length)..<((row + 1) * length)].prefix { $0 > 0 }.map { id in
                id <= reading.labels.count ? reading.labels[id - 1] : ""
            }.joined()
            return TextLine(box: box, text: text, score: Double(scores[row]))
        }
    }

    /// One detection per row of a reading's boxes.
    static func detections(_ reading: DetectionReading, outputs: [Tensor]) -> [Detection] {
        let boxes = outputs[reading.boxesOutput].floats.map(Double.init), scores = outputs[reading.scoresOutput].floats
        let landmarks = reading.landmarksOutput.map { outputs[$0] }
        let points = landmarks?.floats.map(Double.init) ?? [], perRow = landmarks?.shape.last ?? 0
        let classes = reading.classesOutput.map { outputs[$0].integers }
        return scores.indices.map { row in
            Detection(
                box: Array(boxes[(row * 4)..<(row * 4 + 4)]), score: Double(scores[row]),
                landmarks: landmarks == nil ? nil : stride(from: 0, to: perRow - 1, by: 2).map { [points[row * perRow + $0], points[row * perRow + $0 + 1]] },
                label: classes.map { classes in
                    let c = classes[row]
                    return reading.labels.flatMap { $0.indices.contains(c) ? $0[c] : nil } ?? String(c)
                })
        }
    }

    public func run(path: String) throws -> PipelineResult {
        try run(input: try Self.readInput(path: path), name: path).0
    }
}
