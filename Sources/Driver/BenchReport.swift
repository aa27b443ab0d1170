import Broker
import Foundation
import IR

/// The JSON form of a `visionc bench` run (`--json`): one flat list of results, one per
/// input × concurrency × variant, so a script filters instead of walking a tree.
///
/// Schema `visionc-bench/1`, every key always present; ratios are null when undefined.
public struct BenchReport: Codable, Equatable, Sendable {
    public static let schema = "visionc-bench/1"

    public struct Latency: Codable, Equatable, Sendable {
        public var p50, p90, p95, p99, mean, min, max: Double
    }

    /// Mean ms per request in each `StageCategory`; they add up to the mean latency.
    public struct Breakdown: Codable, Equatable, Sendable {
        public var decode, preprocess, transfer, inference, postprocess, queue, other: Double

        init(_ values: [StageCategory: Double]) {
            decode = values[.decode] ?? 0
            preprocess = values[.preprocess] ?? 0
            transfer = values[.transfer] ?? 0
            inference = values[.inference] ?? 0
            postprocess = values[.postprocess] ?? 0
            queue = values[.queue] ?? 0
            other = values[.other] ?? 0
        }
    }

    public struct Node: Codable, Equatable, Sendable {
        public var name: String
        public var op: String
        public var category: String
        public var medianMs: Double

        enum CodingKeys: String, CodingKey {
            case name, op, category
            case medianMs = "median_ms"
        }
    }

    public struct Result: Codable, Equatable, Sendable {
        public var input: String
        public var imageSize: String
        public var files: Int
        public var variant: String
        public var concurrency: Int
        public var workers: Int
        public var threadsPerWorker: Int
        public var requests: Int
        public var images: Int
        public var seconds: Double
        public var throughputRps: Double
        public var imagesPerSecond: Double
        public var latencyMs: Latency
        public var breakdownMs: Breakdown
        /// Median of per-round throughput ratios to the first variant.
        public var throughputRatioToFirst: Double?
        public var nodes: [Node]
        /// One entry per batching queue of the graph (empty without queues).
        public var queues: [QueueFigures]
        /// One entry per broker edge run through Redis (empty without).
        public var brokers: [EdgeFigures] = []
        /// Megapixels of the source image decoded per second of decode time (null when unknown).
        public var decodeMegapixelsPerSecond: Double? = nil

        enum CodingKeys: String, CodingKey {
            case input, files, variant, concurrency, workers, requests, images, seconds, nodes, queues, brokers
            case imageSize = "image_size"
            case threadsPerWorker = "threads_per_worker"
            case throughputRps = "throughput_rps"
            case imagesPerSecond = "images_per_second"
            case latencyMs = "latency_ms"
            case breakdownMs = "breakdown_ms"
            case throughputRatioToFirst = "throughput_ratio_to_first"
            case decodeMegapixelsPerSecond = "decode_megapixels_per_second"
        }

        /// Written by hand so an undefined ratio is `null` rather than a missing key.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(input, forKey: .input)
            try c.encode(imageSize, forKey: .imageSize)
            try c.encode(files, forKey: .files)
            try c.encode(variant, forKey: .variant)
            try c.encode(concurrency, forKey: .concurrency)
            try c.encode(workers, forKey: .workers)
            try c.encode(threadsPerWorker, forKey: .threadsPerWorker)
            try c.encode(requests, forKey: .requests)
            try c.encode(images, forKey: .images)
            try c.encode(seconds, forKey: .seconds)
            try c.encode(throughputRps, forKey: .throughputRps)
            try c.encode(imagesPerSecond, forKey: .imagesPerSecond)
            try c.encode(latencyMs, forKey: .latencyMs)
            try c.encode(breakdownMs, forKey: .breakdownMs)
            try c.encode(throughputRatioToFirst, forKey: .throughputRatioToFirst)
            try c.encode(nodes, forKey: .nodes)
            try c.encode(queues, forKey: .queues)
            try c.encode(brokers, forKey: .brokers)
            try c.encode(decodeMegapixelsPerSecond, forKey: .decodeMegapixelsPerSecond)
        }
    }

    public var schema: String
    public var graph: String
    public var machine: MachineInfo
    public var variants: [String]
    public var batch: Int
    public var rounds: Int
    public var results: [Result]

    public init(_ bench: BenchResults) {
        schema = Self.schema
        graph = bench.graph
        machine = bench.machine
        variants = bench.variants
        batch = bench.batch
        rounds = bench.rounds
        results = bench.inputs.flatMap { input in
            input.levels.flatMap { level in
                level.variants.map { v in
                    Result(
                        input: input.name, imageSize: input.sizeLabel, files: input.files, variant: v.variant,
                        concurrency: level.load.concurrency, workers: level.load.workers,
                        threadsPerWorker: level.load.threadsPerWorker, requests: v.requests, images: v.images,
                        seconds: v.seconds, throughputRps: v.throughputRPS, imagesPerSecond: v.imagesPerSecond,
                        latencyMs: Latency(
                            p50: v.latencyMs.p50, p90: v.latencyMs.p90, p95: v.latencyMs.p95, p99: v.latencyMs.p99,
                            mean: v.latencyMs.mean, min: v.latencyMs.min, max: v.latencyMs.max),
                        breakdownMs: Breakdown(v.breakdownMs),
                        throughputRatioToFirst: v.throughputRatioToFirst.isFinite ? v.throughputRatioToFirst : nil,
                        nodes: v.nodes.map { Node(name: $0.name, op: $0.op.rawValue, category: $0.category.rawValue, medianMs: $0.medianMs) },
                        queues: v.queues, brokers: v.brokers, decodeMegapixelsPerSecond: input.decodeMegapixelsPerSecond(v))
                }
            }
        }
    }

    /// Pretty-printed JSON with sorted keys, so two reports diff line by line.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public static func decoded(from data: Data) throws -> BenchReport {
        try JSONDecoder().decode(BenchReport.self, from: data)
    }
}
