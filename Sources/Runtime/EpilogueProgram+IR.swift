import IR
import Kernels

extension EpilogueProgram {
    /// The conv's `epilogue` steps as the program the kernels run in cache. Each op becomes
    /// the form its own kernel computes (`BinaryKernel.scalarAffine`: multiply then add, exact
    /// for add, sub and mul by a scalar; division stays a division), so the fused result is
    /// bit for bit the unfused one.
    init(_ steps: [EpilogueStep]) {
        func binary(_ op: BinaryKernel.Operator, _ s: Float, scalarFirst: Bool = false) -> Step {
            // Only `v / s` has no affine form.
            guard let (scale, offset) = BinaryKernel.scalarAffine(op, scalar: s, scalarFirst: scalarFirst) else { return .divide(s) }
            return .affine(scale: scale, offset: offset)
        }
        self.init(steps.map { step -> Step in
            switch step {
            case .add(let s): binary(.add, s)
            case .sub(let s): binary(.sub, s)
            case .rsub(let s): binary(.sub, s, scalarFirst: true)
            case .mul(let s): binary(.mul, s)
            case .div(let s): binary(.div, s)
            case .relu: .activate(.relu)
            case .clip(let lo, let hi): .activate(.clip(lo: lo, hi: hi))
            case .save: .save
            case .mulSaved: .multiplySaved
            }
        })
    }
}
