import IR
import Kernels

extension Target {
    /// What this machine's runtime offers: oneDNN where it loads, bf16 where oneDNN finds the
    /// CPU runs it natively (AVX512-BF16 or AMX feature bits).
    public static let host: Target = {
        guard let dnnl = DNNL.available else { return .native }
        return Target(backends: [.native, .dnnl], bf16: dnnl.hasBF16)
    }()
}
