import Foundation
import IR
import ONNXImport
import Passes
import Runtime

/// Model-only latency (`visionc bench --model FILE --shape NAME=1x3x224x224`): the ONNX
/// network alone on fixed input shapes, one request at a time, variants interleaved
/// (A B A B …) with ratios as medians of per-iteration ratios.
public struct ModelBenchmark {
    public var modelPath: String
    /// Dims per ONNX input name; inputs not named keep their declared (static) shape.
    public var shapes: [String: [Int]]
    /// When given, each batch size replaces dim 0 of every input and is measured in turn.
    public var batches: [Int]?
    public var variants: [BenchVariant]
    public var threads: Int
    public var iterations: Int
    public var warmup: Int

    public init(modelPath: String, shapes: [String: [Int]], batches: [Int]?, variants: [BenchVariant], threads: Int, iterations: Int, warmup: Int) {
        self.modelPath = modelPath
        self.shapes = shapes
        self.batches = batches
        self.variants = variants
        self.threads = max(1, threads)
        self.iterations = max(1, iterations)
        self.warmup = max(0, warmup)
    }

    /// Parses `NAME=1x3x224x224` (the name may contain `=`-free path-like characters).
    public static func parseShape(_ text: String) throws -> (name: String, dims: [Int]) {
        guard let equals = text.lastIndex(of: "=") else {
            throw DriverError("--shape '\(text)': expected NAME=D0xD1x…, e.g. input=1x3x224x224")
        }
        let name = String(text[..<equals])
        let dims = text[text.index(after: equals)...].split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard !name.isEmpty, !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw DriverError("--shape '\(text)': expected NAME=D0xD1x… with positive integer dims, e.g. input=1x3x224x224")
        }
        return (name, dims.map { $0! })
    }

    public func run(progress: (BenchProgress) -> Void = { _ in }) throws -> [ModelMeasurement] {
        let model = try ONNXModel.load(path: modelPath)
        let batchChoices: [Int?] = batches ?? [nil]
        let configurations = batchChoices.map { batch -> [String: [Int]] in
            guard let batch else { return shapes }
            var resolved: [String: [Int]] = [:]
            for (name, declared) in model.inputs {
                var dims = shapes[name] ?? declared.knownShape ?? []
                if !dims.isEmpty { dims[0] = batch }
                resolved[name] = dims
            }
            return resolved
        }
        var measurements: [ModelMeasurement] = []
        for (c, inputShapes) in configurations.enumerated() {
            let graph = try model.standaloneGraph(inputShapes: inputShapes)
            let inputs = try graph.inputs.map { id -> Tensor in
                let type = graph.type(of: id)
                guard let shape = type.knownShape else {
                    throw DriverError("\(modelPath): input '\(graph[id].name)' has shape \(type) with unknown dims; give them with --shape \(graph[id].name)=…")
                }
                return Self.syntheticInput(shape: shape, dtype: type.dtype)
            }
            let executables = try variants.map { variant in
                let optimized = try Compiler.optimize(graph, options: variant.options).graph
                return try Executable(graph: optimized, options: RuntimeOptions(threads: threads))
            }
            for executable in executables {
                for _ in 0..<warmup { _ = try executable.run(inputs: inputs) }
            }
            var seconds = Array(repeating: [Double](), count: executables.count)
            // Per variant, per step (in execution order): its time in each iteration.
            var stepSeconds = Array(repeating: [(name: String, op: Op, seconds: [Double])](), count: executables.count)
            for i in 0..<iterations {
                if i % 5 == 0 {
                    progress(BenchProgress(completedWindows: c * iterations + i, totalWindows: configurations.count * iterations,
                                           label: "\(URL(fileURLWithPath: modelPath).lastPathComponent) iteration \(i + 1)/\(iterations)"))
                }
                for (v, executable) in executables.enumerated() {
                    let start = benchSeconds()
                    let result = try executable.run(inputs: inputs)
                    seconds[v].append(benchSeconds() - start)
                    if stepSeconds[v].isEmpty { stepSeconds[v] = result.profile.entries.map { ($0.name, $0.op, []) } }
                    for (s, entry) in result.profile.entries.enumerated() where s < stepSeconds[v].count {
                        stepSeconds[v][s].seconds.append(entry.seconds)
                    }
                }
            }
            var shapeOfInputs: [String: [Int]] = [:]
            for id in graph.inputs { shapeOfInputs[graph[id].name] = graph.type(of: id).knownShape ?? [] }
            for v in variants.indices {
                let stats = Stats(seconds[v].map { $0 * 1000 })
                measurements.append(ModelMeasurement(
                    model: modelPath, variant: variants[v].name, inputs: shapeOfInputs,
                    batch: graph.inputs.first.flatMap { graph.type(of: $0).knownShape?.first } ?? 1, threads: threads, iterations: stats.count,
                    medianMs: stats.p50, p90Ms: stats.p90, p99Ms: stats.p99, meanMs: stats.mean, minMs: stats.min,
                    speedupOverFirst: v == 0 ? nil : Stats.medianOfRatios(seconds[0], seconds[v]),
                    nodes: stepSeconds[v].map { NodeMedian(name: $0.name, op: $0.op.rawValue, medianMs: Stats($0.seconds.map { $0 * 1000 }).p50) }))
            }
        }
        return measurements
    }

    /// Deterministic values in [0, 1) (floats) or 0 (integers): the same input every run,
    /// and finite everywhere so no kernel takes a denormal or NaN slow path.
    static func syntheticInput(shape: [Int], dtype: DType) -> Tensor {
        let count = shape.reduce(1, *)
        // A bf16 input cannot be given (no tensor holds bf16): an f32 one, which the run rejects.
        guard dtype.isFloatingPoint else { return Tensor(shape: shape, data: TensorData.u8(Array(repeating: 0, count: count)).converted(to: dtype)) }
        var state: UInt32 = 0x9E37_79B9
        let values = (0..<count).map { _ -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 24)
        }
        let floats = TensorData.f32(values)
        return Tensor(shape: shape, data: dtype == .bf16 ? floats : floats.converted(to: dtype))
    }
}

/// Model-only latency of one variant at one set of input shapes (`--json`: a list of these).
public struct ModelMeasurement: Codable, Equatable, Sendable {
    public var model: String
    public var variant: String
    public var inputs: [String: [Int]]
    public var batch: Int
    public var threads: Int
    public var iterations: Int
    public var medianMs: Double
    public var p90Ms: Double
    public var p99Ms: Double
    public var meanMs: Double
    public var minMs: Double
    /// Median of per-iteration (first variant's time / this one's); nil for the first.
    public var speedupOverFirst: Double?
    /// Every step's median time, in execution order (`--per-node` prints the slowest).
    public var nodes: [NodeMedian]

    enum CodingKeys: String, CodingKey {
        case model, variant, inputs, batch, threads, iterations, nodes
        case medianMs = "median_ms"
        case p90Ms = "p90_ms"
        case p99Ms = "p99_ms"
        case meanMs = "mean_ms"
        case minMs = "min_ms"
        case speedupOverFirst = "speedup_over_first"
    }

    /// Written by hand so the first variant's speedup is `null` rather than a missing key.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(variant, forKey: .variant)
        try c.encode(inputs, forKey: .inputs)
        try c.encode(batch, forKey: .batch)
        try c.encode(threads, forKey: .threads)
        try c.encode(iterations, forKey: .iterations)
        try c.encode(medianMs, forKey: .medianMs)
        try c.encode(p90Ms, forKey: .p90Ms)
        try c.encode(p99Ms, forKey: .p99Ms)
        try c.encode(meanMs, forKey: .meanMs)
        try c.encode(minMs, forKey: .minMs)
        try c.encode(speedupOverFirst, forKey: .speedupOverFirst)
        try c.encode(nodes, forKey: .nodes)
    }
}

/// One step's median time in a model benchmark.
public struct NodeMedian: Codable, Equatable, Sendable {
    public var name: String
    public var op: String
    public var medianMs: Double

    enum CodingKeys: String, CodingKey {
        case name, op
        case medianMs = "median_ms"
    }
}

/// The JSON written by `visionc bench --model … --json` (schema `visionc-model-bench/1`).
public struct ModelBenchReport: Codable, Equatable, Sendable {
    public static let schema = "visionc-model-bench/1"
    public var schema: String
    public var machine: MachineInfo
    public var results: [ModelMeasurement]

    public init(machine: MachineInfo, results: [ModelMeasurement]) {
        schema = Self.schema
        self.machine = machine
        self.results = results
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
