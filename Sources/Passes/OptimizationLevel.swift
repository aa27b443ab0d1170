import IR

/// The compiler's pass pipelines, each one ordered list read top to bottom.
public enum OptimizationLevel: String, Sendable, CaseIterable {
    /// Canonicalization only: shapes become attributes, dead code goes; nothing is fused.
    case O0
    /// Everything: model-side folds, activation epilogues, the fused preprocess kernel and the
    /// folds across the preprocess/model boundary (decode-scale only at fidelity fast), the
    /// decode limited to what the preprocess reads, then
    /// backend placement, residual post-ops, bf16 (fast only), layouts for the target and the
    /// scalar chains after convs as conv epilogues.
    case O2

    /// - Parameter target: the backends the placement passes may choose from (`O0` uses none).
    public static func passes(for level: OptimizationLevel, target: Target = .native) -> [any Pass] {
        switch level {
        case .O0:
            [ConstantFoldPass(), DeadCodeEliminationPass()]
        case .O2:
            [
                ConstantFoldPass(),
                FoldBatchNormPass(),
                FoldConvAffinePass(),
                FuseActivationPass(),
                FusePreprocessPass(),
                CancelTransposesPass(),
                FoldNormalizePass(),
                DecodeScalePass(),
                DecodeRegionPass(),
                PlaceBackendsPass(target: target),
                FuseResidualAddPass(),
                LowerPrecisionPass(target: target),
                AssignLayoutsPass(),
                CancelTransposesPass(),
                FuseEpiloguePass(),
                DeadCodeEliminationPass(),
            ]
        }
    }

    /// Every pass any level runs, by flag name (for `--passes=a,b` and tests).
    public static func pass(named name: String, target: Target = .native) -> (any Pass)? {
        allCases.lazy.flatMap { passes(for: $0, target: target) }.first { $0.name == name }
    }
}
