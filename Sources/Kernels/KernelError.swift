/// A kernel was called with arguments that do not fit its buffers or its limits. The message
/// names the argument, the value given and what was expected.
public struct KernelError: Error, CustomStringConvertible, Sendable, Equatable {
    public let kernel: String
    public let message: String

    public init(kernel: String, message: String) {
        self.kernel = kernel
        self.message = message
    }

    public var description: String { "\(kernel): \(message)" }

    /// The C kernels take 32-bit sizes.
    static func checkInt32(_ kernel: String, _ name: String, _ value: Int, minimum: Int = 0) throws(KernelError) {
        guard value >= minimum, value <= Int(Int32.max) else {
            throw KernelError(kernel: kernel, message: "\(name) = \(value), expected \(minimum)...\(Int32.max)")
        }
    }

    static func checkCount(_ kernel: String, _ name: String, _ count: Int, needed: Int) throws(KernelError) {
        guard count >= needed else {
            throw KernelError(kernel: kernel, message: "\(name) holds \(count) elements, needs at least \(needed)")
        }
    }

    static func checkRange(_ kernel: String, _ name: String, _ range: Range<Int>, within limit: Int) throws(KernelError) {
        guard range.lowerBound >= 0, range.upperBound <= limit else {
            throw KernelError(kernel: kernel, message: "\(name) \(range) is outside 0..<\(limit)")
        }
    }

    /// rows x cols with leading dimension ld (ld >= cols) stored in `count` elements.
    static func checkMatrix(
        _ kernel: String, _ name: String, _ count: Int, rows: Int, cols: Int, ld: Int
    ) throws(KernelError) {
        try checkInt32(kernel, "rows of \(name)", rows)
        try checkInt32(kernel, "columns of \(name)", cols)
        try checkInt32(kernel, "leading dimension of \(name)", ld, minimum: max(1, cols))
        guard rows > 0, cols > 0 else { return }
        let (span, overflow) = (rows - 1).multipliedReportingOverflow(by: ld)
        guard !overflow else {
            throw KernelError(kernel: kernel, message: "\(name) of \(rows)x\(cols) (ld \(ld)) is too large")
        }
        try checkCount(kernel, name, count, needed: span + cols)
    }

    /// Product of non-negative sizes, or an error when it overflows.
    static func product(_ kernel: String, _ factors: Int...) throws(KernelError) -> Int {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { throw KernelError(kernel: kernel, message: "negative size \(factor)") }
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            guard !overflow else { throw KernelError(kernel: kernel, message: "sizes \(factors) overflow") }
            result = next
        }
        return result
    }
}
