import CDNNL
import Glibc

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

extension DNNL {
    /// How many times faster a bf16 convolution runs than the same f32 one on this CPU
    /// (> 1: bf16 pays), measured once per process; nil without native bf16 or when a
    /// primitive cannot be built. The feature bit alone does not decide it: on a CPU whose
    /// bf16 dot product issues at half the rate of its f32 FMA (an Emerald Rapids Xeon seen
    /// here, AMX hidden by its hypervisor) bf16 ran EfficientNet-Lite0 1.6× slower, while an
    /// AMD Zen 4 ran ResNet-50's convs 1.9× faster (FINDINGS).
    ///
    /// The probe: a 3×3, 64 → 64 channel convolution on a 28×28 NHWC image (the high-intensity
    /// kind `lower-precision` lowers), f32 and bf16 alternated on one OpenMP thread, nine runs
    /// each after two warm-ups, the fastest of each by thread CPU time (what another process
    /// on the machine disturbs least). About 20 ms.
    public static let bf16Speedup: Double? = {
        guard let dnnl = available, dnnl.hasBF16 else { return nil }
        dnnl.setThreads(1)
        let (channels, side) = (64, 28)
        let weights = [Float](repeating: 0.01, count: channels * channels * 9)
        func primitive(bf16: Bool) -> DNNLPrimitive? {
            weights.withUnsafeBufferPointer { w in
                let params = vc_dnnl_conv_params(
                    batch: 1, in_channels: Int32(channels), in_height: Int32(side), in_width: Int32(side),
                    out_channels: Int32(channels), out_height: Int32(side), out_width: Int32(side), groups: 1,
                    kernel_height: 3, kernel_width: 3, stride_height: 1, stride_width: 1, dilation_height: 1,
                    dilation_width: 1, pad_top: 1, pad_left: 1, pad_bottom: 1, pad_right: 1, nhwc: 1,
                    bf16: bf16 ? 1 : 0, src_bf16: 0, dst_bf16: 0, transposed: 0, weights: w.baseAddress, bias: nil,
                    post_ops: nil, post_op_count: 0)
                return try? DNNLPrimitive(convolution: params)
            }
        }
        guard let f32 = primitive(bf16: false), let bf16 = primitive(bf16: true) else { return nil }
        let elements = channels * side * side
        let source = UnsafeMutableRawPointer.allocate(byteCount: elements * 4, alignment: 64)
        let destination = UnsafeMutableRawPointer.allocate(byteCount: elements * 4, alignment: 64)
        let scratchBytes = max(f32.scratchBytes, bf16.scratchBytes, 64)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
        defer { source.deallocate(); destination.deallocate(); scratch.deallocate() }
        source.initializeMemory(as: Float.self, repeating: 0.5, count: elements)
        func seconds(_ primitive: DNNLPrimitive) -> Double? {
            var start = timespec(), end = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
            guard (try? primitive.run(source: source, destination: destination, residual: nil, scratch: scratch)) != nil
            else { return nil }
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
            return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) * 1e-9
        }
        var best = (f32: Double.infinity, bf16: Double.infinity)
        for round in 0..<11 {
            guard let a = seconds(f32), let b = seconds(bf16) else { return nil }
            if round >= 2 { best = (min(best.f32, a), min(best.bf16, b)) }
        }
        return best.bf16 > 0 ? best.f32 / best.bf16 : nil
    }()
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
