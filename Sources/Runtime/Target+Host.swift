import IR
import Kernels

extension Target {
    /// What this machine's runtime offers: oneDNN where it loads; bf16 where the CPU runs it
    /// natively (AVX512-BF16 or AMX) and a measured bf16 convolution beats f32 by at least
    /// `bf16MinimumSpeedup` (`DNNL.bf16Speedup`: native is not always faster).
    public static let host: Target = {
        guard DNNL.available != nil else { return .native }
        return Target(backends: [.native, .dnnl], bf16: (DNNL.bf16Speedup ?? 0) >= bf16MinimumSpeedup)
    }()

    /// The probe's speedup below which bf16 is not used: a lowered conv also converts its input
    /// and the nets' thin convs gain less than the probe's, so a bare win is not enough.
    public static let bf16MinimumSpeedup = 1.2
}
