/// The compiler's pass pipelines, each one ordered list read top to bottom.
public enum OptimizationLevel: String, Sendable, CaseIterable {
    /// Canonicalization only: shapes become attributes, dead code goes; nothing is fused.
    case O0
    /// Everything: model-side folds, activation epilogues, the fused preprocess kernel and the
    /// folds across the preprocess/model boundary (decode-scale only at fidelity fast).
    case O2

    public static func passes(for level: OptimizationLevel) -> [any Pass] {
        switch level {
        case .O0:
            [ConstantFoldPass(), DeadCodeEliminationPass()]
        case .O2:
            [
                ConstantFoldPass(),
                FoldBatchNormPass(),
                FuseActivationPass(),
                FusePreprocessPass(),
                CancelTransposesPass(),
                FoldNormalizePass(),
                DecodeScalePass(),
                DeadCodeEliminationPass(),
            ]
        }
    }

    /// Every pass any level runs, by flag name (for `--passes=a,b` and tests).
    public static func pass(named name: String) -> (any Pass)? {
        allCases.lazy.flatMap { passes(for: $0) }.first { $0.name == name }
    }
}
