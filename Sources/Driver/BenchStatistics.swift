import Foundation

/// Summary of a sample of times (or rates): the percentiles a latency report needs.
///
/// Percentiles interpolate linearly between closest ranks (NumPy's default `linear`
/// method), so `p50` of an even-sized sample is the mean of the two middle values and a
/// report can be checked against `numpy.percentile`.
public struct Stats: Sendable, Equatable, Codable {
    public var count: Int
    public var mean: Double
    public var min: Double
    public var max: Double
    public var p50: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double

    public var median: Double { p50 }

    /// - Parameter samples: may be empty; then every figure is NaN and `count` is 0.
    public init(_ samples: [Double]) {
        let sorted = samples.sorted()
        count = sorted.count
        mean = sorted.isEmpty ? .nan : sorted.reduce(0, +) / Double(sorted.count)
        min = sorted.first ?? .nan
        max = sorted.last ?? .nan
        p50 = Stats.quantile(sorted: sorted, 0.50)
        p90 = Stats.quantile(sorted: sorted, 0.90)
        p95 = Stats.quantile(sorted: sorted, 0.95)
        p99 = Stats.quantile(sorted: sorted, 0.99)
    }

    /// The `q`-quantile (0…1) of an ascending sample, linear between closest ranks; NaN when empty.
    public static func quantile(sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let position = Swift.min(Swift.max(q, 0), 1) * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }

    /// Median of per-round ratios `numerator[i] / denominator[i]`: two variants measured in
    /// the same round share that round's machine noise, so the ratio cancels most of it,
    /// and the median drops a round that a background burst hit. Rounds where the
    /// denominator is not positive are skipped; NaN when none is left.
    public static func medianOfRatios(_ numerator: [Double], _ denominator: [Double]) -> Double {
        precondition(numerator.count == denominator.count, "one value per round on both sides")
        let ratios = zip(numerator, denominator).compactMap { n, d in d > 0 && n.isFinite ? n / d : nil }
        return Stats(ratios).p50
    }
}
