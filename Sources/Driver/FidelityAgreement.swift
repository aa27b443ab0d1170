import IR

/// How far a `--fidelity fast` result moved from the exact one for the same input: whether
/// the top-1 class of every ranking agrees, and the largest absolute and relative output
/// differences. `visionc bench` reports it per input for an O2-fast variant.
public struct FidelityAgreement: Sendable, Equatable {
    /// True when every top-k output names the same best class in both results.
    public var topOneAgrees: Bool
    /// max |fast − exact| over every element of every f32 output (class indices are
    /// covered by `topOneAgrees`; a difference of indices is not a numeric error).
    public var largestDifference: Float
    /// max |fast − exact| / max(|exact|) per output, the largest over outputs.
    public var largestRelativeDifference: Float

    /// Compares two results of the same pipeline on the same input.
    /// - Throws: `DriverError` when the results do not have the same outputs (shapes).
    public init(exact: PipelineResult, fast: PipelineResult) throws {
        guard exact.outputs.map(\.shape) == fast.outputs.map(\.shape), exact.rankings.count == fast.rankings.count else {
            throw DriverError("cannot compare \(exact.input) across fidelities: the results have different outputs")
        }
        topOneAgrees = zip(exact.rankings, fast.rankings).allSatisfy { $0.first?.index == $1.first?.index }
        largestDifference = 0
        largestRelativeDifference = 0
        for (e, f) in zip(exact.outputs, fast.outputs) where e.dtype == .f32 {
            let (a, b) = (e.floats, f.floats)
            var largest: Float = 0, magnitude: Float = 0
            for i in a.indices {
                largest = max(largest, abs(a[i] - b[i]))
                magnitude = max(magnitude, abs(a[i]))
            }
            largestDifference = max(largestDifference, largest)
            largestRelativeDifference = max(largestRelativeDifference, magnitude > 0 ? largest / magnitude : largest)
        }
    }
}
