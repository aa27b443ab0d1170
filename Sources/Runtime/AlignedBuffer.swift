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

import IR

extension TensorData {
    /// The raw elements, for copying into and out of runtime buffers.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .u8(let a): try a.withUnsafeBytes(body)
        case .i32(let a): try a.withUnsafeBytes(body)
        case .i64(let a): try a.withUnsafeBytes(body)
        case .f32(let a): try a.withUnsafeBytes(body)
        }
    }

    /// Elements of `dtype` copied from raw memory.
    static func copying(_ dtype: DType, from pointer: UnsafeRawPointer, count: Int) -> TensorData {
        switch dtype {
        case .u8: .u8(Array(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: UInt8.self), count: count)))
        case .i32: .i32(Array(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: Int32.self), count: count)))
        case .i64: .i64(Array(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: Int64.self), count: count)))
        case .f32: .f32(Array(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: Float.self), count: count)))
        // Widened to f32 (exact: bf16 is f32's upper half), so captured values read as any other.
        case .bf16: .f32(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: UInt16.self), count: count).map {
            Float(bitPattern: UInt32($0) << 16)
        })
        }
    }
}
