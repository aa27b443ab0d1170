import CDNNL

/// oneDNN, loaded at run time (`Sources/CDNNL`): what it is on this machine, and the
/// primitives of the `dnnl` backend. Holding a `DNNL` value proves the library is loaded.
public struct DNNL: Sendable {
    private init() {}

    /// Loads libdnnl.so.2 (once per process; later calls give the same answer).
    public static func load() throws(KernelError) -> DNNL {
        var message = [CChar](repeating: 0, count: 512)
        guard vc_dnnl_load(&message, message.count) == 0 else {
            throw KernelError(kernel: "oneDNN", message: DNNL.string(message))
        }
        return DNNL()
    }

    /// The loaded library, or nil when it cannot be loaded (the reason: `load()`'s error).
    public static var available: DNNL? { try? load() }

    /// "2.6.3".
    public var version: String { String(cString: vc_dnnl_version()) }
    /// oneDNN's own ISA detection, e.g. "avx512_core_bf16".
    public var isa: String { String(cString: vc_dnnl_isa()) }
    /// Whether bf16 runs natively here (AVX512-BF16 or AMX, detected by oneDNN from CPUID).
    public var hasBF16: Bool { vc_dnnl_has_bf16() != 0 }

    /// OpenMP team size of the calling thread's oneDNN calls. oneDNN runs each primitive on
    /// the caller's team, so every runtime thread that calls it sets its own budget.
    public func setThreads(_ count: Int) { vc_dnnl_set_threads(Int32(clamping: max(1, count))) }

    fileprivate static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// One oneDNN primitive with everything expensive done (JIT code, reordered weights): built
/// once per plan, run per request with the caller's pointers.
public final class DNNLPrimitive: @unchecked Sendable {
    private let handle: OpaquePointer

    /// A convolution (weights and bias are copied; their buffers need not outlive the call).
    public init(convolution params: vc_dnnl_conv_params) throws(KernelError) {
        var params = params
        handle = try DNNLPrimitive.create("oneDNN convolution") { vc_dnnl_conv_create(&params, &$0, $1, $2) }
    }

    public init(pooling params: vc_dnnl_pool_params) throws(KernelError) {
        var params = params
        handle = try DNNLPrimitive.create("oneDNN pooling") { vc_dnnl_pool_create(&params, &$0, $1, $2) }
    }

    private static func create(
        _ what: String, _ body: (inout OpaquePointer?, UnsafeMutablePointer<CChar>, Int) -> Int32
    ) throws(KernelError) -> OpaquePointer {
        var message = [CChar](repeating: 0, count: 512)
        var out: OpaquePointer?
        let status = message.withUnsafeMutableBufferPointer { body(&out, $0.baseAddress!, $0.count) }
        guard status == 0, let out else { throw KernelError(kernel: what, message: DNNL.string(message)) }
        return out
    }

    deinit { vc_dnnl_destroy(handle) }

    /// Bytes of 64-byte-aligned scratch each run needs.
    public var scratchBytes: Int { vc_dnnl_scratch_bytes(handle) }
    /// The kernel oneDNN picked, e.g. "brgconv:avx512_core".
    public var implementation: String { String(cString: vc_dnnl_implementation(handle)) }

    /// Runs on the calling thread's OpenMP team. Pointers must hold the shapes given at creation.
    public func run(
        source: UnsafeRawPointer, destination: UnsafeMutableRawPointer, residual: UnsafePointer<Float>?,
        scratch: UnsafeMutableRawPointer?
    ) throws(KernelError) {
        // Stack scratch for the message: the request path allocates nothing.
        let failure: String? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { message in
            message[0] = 0
            let status = vc_dnnl_run(handle, source, destination, residual, scratch, message.baseAddress!, message.count)
            return status == 0 ? nil : String(cString: message.baseAddress!)
        }
        if let failure { throw KernelError(kernel: "oneDNN \(implementation)", message: failure) }
    }
}
