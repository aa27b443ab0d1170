import CKernels

/// Instruction-set level of the C kernel variants (`Kernels/<family>/{scalar,avx2,avx512}.c`).
public enum KernelISA: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case scalar = 0
    /// AVX2 + FMA.
    case avx2 = 1
    /// AVX-512 F + BW + DQ + VL.
    case avx512 = 2

    init(_ isa: vc_isa) {
        switch isa {
        case VC_ISA_AVX512: self = .avx512
        case VC_ISA_AVX2: self = .avx2
        default: self = .scalar
        }
    }

    var cValue: vc_isa {
        switch self {
        case .scalar: VC_ISA_SCALAR
        case .avx2: VC_ISA_AVX2
        case .avx512: VC_ISA_AVX512
        }
    }

    /// "scalar", "avx2" or "avx512" (the names `--isa` style options accept).
    public var name: String { String(cString: vc_isa_name(cValue)) }
    public var description: String { name }

    public init?(name: String) {
        guard let isa = KernelISA.allCases.first(where: { $0.name == name }) else { return nil }
        self = isa
    }

    public static func < (lhs: KernelISA, rhs: KernelISA) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The variants every kernel call dispatches to now.
    public static var active: KernelISA { KernelISA(vc_kernels_isa()) }

    /// Dispatches to the best variants at or below `maximum` that this CPU supports (process-wide).
    /// - Returns: the ISA now active, which is lower than `maximum` when the CPU lacks it.
    @discardableResult
    public static func select(maximum: KernelISA) -> KernelISA {
        vc_kernels_init(maximum.cValue)
        return active
    }
}
