import CKernels

/// OpenBLAS failed to load (missing library or symbols); the message says which.
public struct BLASError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// Handle to OpenBLAS, loaded at run time with a core type chosen from our CPU detection
/// (`OPENBLAS_CORETYPE`, unless the environment sets it). Holding a `BLAS` value proves the
/// library is loaded, so `sgemm` cannot be called without it.
public struct BLAS: Sendable {
    private init() {}

    /// Loads libopenblas.so.0 (once per process; later calls return the same result).
    public static func load() throws(BLASError) -> BLAS {
        var message = [CChar](repeating: 0, count: 512)
        guard vc_blas_load(&message, message.count) == 0 else {
            throw BLASError(message: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return BLAS()
    }

    /// The kernel family OpenBLAS runs, e.g. "SkylakeX" (worth logging: "Prescott" is 6x slower).
    public var coreName: String { String(cString: vc_blas_core_name()) }
    /// OpenBLAS build configuration string.
    public var config: String { String(cString: vc_blas_config()) }

    /// Threads OpenBLAS may use for one call.
    public func setThreads(_ count: Int) { vc_blas_set_threads(Int32(clamping: max(1, count))) }

    /// Row-major `c = alpha * op(a) * op(b) + beta * c`, op(a) is m x k, op(b) is k x n.
    /// Leading dimensions are in elements; buffers are checked to hold every addressed element.
    public func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafeBufferPointer<Float>, lda: Int, b: UnsafeBufferPointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutableBufferPointer<Float>, ldc: Int
    ) throws(KernelError) {
        guard m >= 0, n >= 0, k >= 0 else {
            throw KernelError(kernel: "sgemm", message: "negative size m=\(m) n=\(n) k=\(k)")
        }
        try KernelError.checkMatrix("sgemm", "a", a.count, rows: transA ? k : m, cols: transA ? m : k, ld: lda)
        try KernelError.checkMatrix("sgemm", "b", b.count, rows: transB ? n : k, cols: transB ? k : n, ld: ldb)
        try KernelError.checkMatrix("sgemm", "c", c.count, rows: m, cols: n, ld: ldc)
        guard m > 0, n > 0 else { return }
        vc_sgemm(
            transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a.baseAddress, Int32(lda),
            b.baseAddress, Int32(ldb), beta, c.baseAddress, Int32(ldc))
    }
}
