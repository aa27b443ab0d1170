import IR

/// Bytes owned by the runtime at a 64-byte (cache line, AVX-512 register) aligned address:
/// the arena, pre-packed weights and plan-time constants.
final class AlignedBuffer {
    static let alignment = 64

    let pointer: UnsafeMutableRawPointer
    let byteCount: Int

    /// Zero-filled, so padding bytes never hold garbage.
    init(byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: Self.alignment)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
    }

    /// A copy of a tensor's elements.
    convenience init(copying data: TensorData) {
        self.init(byteCount: data.count * data.dtype.byteSize)
        data.withUnsafeBytes { source in
            if let base = source.baseAddress { pointer.copyMemory(from: base, byteCount: source.count) }
        }
    }

    deinit { pointer.deallocate() }

    static func roundedUp(_ bytes: Int) -> Int { (bytes + alignment - 1) / alignment * alignment }
}
