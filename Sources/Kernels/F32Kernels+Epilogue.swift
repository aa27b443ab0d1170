import CKernels

/// A chain of elementwise ops run in place on a conv's output while it is still in cache
/// (`vc_f32_epilogue`), instead of one pass over memory per op. Each step computes what the
/// kernel of the same op as its own node computes, in the same order, so the result is bit for
/// bit the unfused one.
public struct EpilogueProgram: Sendable, Equatable {
    public enum Step: Sendable, Equatable {
        /// v * scale + offset, multiply then add (add, sub and mul by a scalar).
        case affine(scale: Float, offset: Float)
        /// activation(v + 0) (relu, clip, or an add's fused activation).
        case activate(Activation)
        /// v / divisor.
        case divide(Float)
        /// Remembers v for `multiplySaved`.
        case save
        /// saved * v (the gate of HardSwish, x * clip(x + 3, 0, 6)).
        case multiplySaved
    }

    public private(set) var steps: [Step]
    private var ops: [vc_epilogue_op]

    public init(_ steps: [Step] = []) {
        self.steps = steps
        ops = steps.map(Self.cOp)
    }

    private static func cOp(_ step: Step) -> vc_epilogue_op {
        switch step {
        case .affine(let scale, let offset): return vc_epilogue_op(kind: VC_EPILOGUE_AFFINE, act: VC_ACT_NONE, a: scale, b: offset)
        case .activate(let activation):
            let (act, lo, hi) = activation.cArguments
            return vc_epilogue_op(kind: VC_EPILOGUE_ACTIVATE, act: act, a: lo, b: hi)
        case .divide(let divisor): return vc_epilogue_op(kind: VC_EPILOGUE_DIV, act: VC_ACT_NONE, a: divisor, b: 0)
        case .save: return vc_epilogue_op(kind: VC_EPILOGUE_SAVE, act: VC_ACT_NONE, a: 0, b: 0)
        case .multiplySaved: return vc_epilogue_op(kind: VC_EPILOGUE_MUL_SAVED, act: VC_ACT_NONE, a: 0, b: 0)
        }
    }

    public var isEmpty: Bool { steps.isEmpty }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.steps == rhs.steps }

    /// The program as the C kernels take it (a null pointer when empty).
    func withOps<R>(_ body: (UnsafePointer<vc_epilogue_op>?, Int32) -> R) -> R {
        ops.withUnsafeBufferPointer { body($0.isEmpty ? nil : $0.baseAddress, Int32($0.count)) }
    }

    /// Runs the program on every element of `y`, in place.
    public func apply(_ y: UnsafeMutableBufferPointer<Float>) {
        guard !ops.isEmpty, let base = y.baseAddress, !y.isEmpty else { return }
        ops.withUnsafeBufferPointer { vc_f32_epilogue(base, y.count, $0.baseAddress, Int32($0.count)) }
    }
}
