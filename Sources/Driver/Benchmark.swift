import Foundation
import IR
import Runtime

/// A named compile configuration measured by `visionc bench` (e.g. `O0`, `O2`).
public struct BenchVariant: Sendable {
    public var name: String
    public var options: CompileOptions

    public init(name: String, options: CompileOptions) {
        self.name = name
        self.options = options
    }
}

/// Medians over the measured iterations of one variant on one image.
public struct VariantMeasurement: Sendable {
    public var variant: String
    public var totalMs: Stats
    public var categoryMs: [StageCategory: Double]
    /// Per node: IR name, op, category and median ms, in execution order.
    public var nodes: [(name: String, op: Op, category: StageCategory, ms: Double)]
}

/// Median and 90th percentile of a sample.
public struct Stats: Sendable {
    public var median: Double
    public var p90: Double
    public var count: Int

    public init(_ samples: [Double]) {
        let sorted = samples.sorted()
        count = sorted.count
        median = Stats.quantile(sorted, 0.5)
        p90 = Stats.quantile(sorted, 0.9)
    }

    /// Linear interpolation between closest ranks (NumPy's default).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }
}

/// Everything measured for one image.
public struct ImageMeasurement: Sendable {
    public var path: String
    public var variants: [VariantMeasurement]
    /// Median over rounds of (first variant's time / this variant's time), per variant.
    public var speedupOverFirst: [Double]
}

/// Measures variants of one pipeline side by side: every round runs each variant once
/// (A B A B …), so machine noise hits them alike, and ratios are medians of per-round ratios.
public struct Benchmark {
    public var variants: [BenchVariant]
    public var iterations: Int
    public var warmup: Int
    public var threads: Int?

    public init(variants: [BenchVariant], iterations: Int, warmup: Int, threads: Int?) {
        self.variants = variants
        self.iterations = iterations
        self.warmup = warmup
        self.threads = threads
    }

    public func run(graphPath: String, images: [String], progress: (String) -> Void = { _ in }) throws -> [ImageMeasurement] {
        let runners = try variants.map { variant in
            try PipelineRunner(try Compiler.compile(path: graphPath, options: variant.options), threads: threads)
        }
        var results: [ImageMeasurement] = []
        for image in images {
            let input = try PipelineRunner.readInput(path: image)
            for _ in 0..<warmup {
                for runner in runners { _ = try runner.run(input: input, name: image) }
            }
            var profiles = Array(repeating: [Profile](), count: runners.count)
            var ratios = Array(repeating: [Double](), count: runners.count)
            for round in 0..<iterations {
                progress("\(URL(fileURLWithPath: image).lastPathComponent): round \(round + 1)/\(iterations)")
                var totals: [Double] = []
                for (v, runner) in runners.enumerated() {
                    let profile = try runner.run(input: input, name: image).0.profile
                    profiles[v].append(profile)
                    totals.append(profile.total)
                }
                for v in runners.indices { ratios[v].append(totals[0] / totals[v]) }
            }
            let measured = variants.indices.map { v in summarize(variants[v].name, profiles[v]) }
            results.append(ImageMeasurement(path: image, variants: measured, speedupOverFirst: ratios.map { Stats($0).median }))
        }
        return results
    }

    private func summarize(_ name: String, _ profiles: [Profile]) -> VariantMeasurement {
        var categories: [StageCategory: Double] = [:]
        for category in StageCategory.allCases {
            let samples = profiles.map { $0.seconds(by: category) * 1000 }
            if samples.contains(where: { $0 > 0 }) { categories[category] = Stats(samples).median }
        }
        let first = profiles.first?.entries ?? []
        let nodes = first.indices.map { i in
            (name: first[i].name, op: first[i].op, category: first[i].category,
             ms: Stats(profiles.map { $0.entries[i].seconds * 1000 }).median)
        }
        return VariantMeasurement(variant: name, totalMs: Stats(profiles.map { $0.total * 1000 }), categoryMs: categories, nodes: nodes)
    }
}
