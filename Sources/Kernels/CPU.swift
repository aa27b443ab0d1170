import CKernels

/// What the host CPU offers the kernels.
public enum CPUInfo {
    /// Brand string from cpuid, e.g. "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz".
    public static var model: String { String(cString: vc_cpu_model()) }
    /// Best kernel ISA the CPU and OS support (cpuid + xgetbv).
    public static var detectedISA: KernelISA { KernelISA(vc_cpu_detect()) }
    /// The ISAs whose variants can run here, lowest first.
    public static var supportedISAs: [KernelISA] { KernelISA.allCases.filter { $0 <= detectedISA } }
}
