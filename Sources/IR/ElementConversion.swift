/// ONNX `Cast` between any two dtypes, element by element over raw memory: the one
/// definition the runtime's `cast` kernel and the tensors the importer and tests convert
/// share. Floats round to nearest even (f16 and f64 directly, bf16 through f32); a float
/// becomes an integer truncated toward zero, saturated at the type's range, NaN as 0; an
/// integer becomes a narrower one by wrapping (NumPy's `astype`, the ONNX reference); any
/// value becomes `bool` as `value != 0`, and `bool` reads as 0 or 1.
public enum ElementConversion {
    public static func convert(
        _ from: DType, _ x: UnsafeRawPointer, to: DType, _ y: UnsafeMutableRawPointer, range: Range<Int>
    ) {
        switch from {
        case .f32: floats(x.assumingMemoryBound(to: Float.self), to, y, range)
        case .f16: floats(x.assumingMemoryBound(to: Float16.self), to, y, range)
        case .f64: floats(x.assumingMemoryBound(to: Double.self), to, y, range)
        case .bf16:
            let bits = x.assumingMemoryBound(to: UInt16.self)
            // bf16 is f32's upper half: widen a row at a time, then convert as f32.
            var widened = [Float](repeating: 0, count: Swift.min(range.count, 4096))
            var start = range.lowerBound
            while start < range.upperBound {
                let end = Swift.min(start + widened.count, range.upperBound)
                for i in start..<end { widened[i - start] = Float(bitPattern: UInt32(bits[i]) << 16) }
                widened.withUnsafeBufferPointer { w in
                    floats(w.baseAddress! - start, to, y, start..<end)
                }
                start = end
            }
        case .u8, .bool: integers(x.assumingMemoryBound(to: UInt8.self), to, y, range)
        case .i8: integers(x.assumingMemoryBound(to: Int8.self), to, y, range)
        case .i16: integers(x.assumingMemoryBound(to: Int16.self), to, y, range)
        case .u16: integers(x.assumingMemoryBound(to: UInt16.self), to, y, range)
        case .i32: integers(x.assumingMemoryBound(to: Int32.self), to, y, range)
        case .u32: integers(x.assumingMemoryBound(to: UInt32.self), to, y, range)
        case .i64: integers(x.assumingMemoryBound(to: Int64.self), to, y, range)
        case .u64: integers(x.assumingMemoryBound(to: UInt64.self), to, y, range)
        }
    }

    /// The bf16 bit pattern nearest to `v` (ties to even; NaN stays a quiet NaN).
    public static func bfloat16Bits(_ v: Float) -> UInt16 {
        if v.isNaN { return 0x7FC0 }
        let bits = v.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    private static func floats<S: BinaryFloatingPoint>(
        _ x: UnsafePointer<S>, _ to: DType, _ y: UnsafeMutableRawPointer, _ range: Range<Int>
    ) {
        func saturated<T: FixedWidthInteger>(_: T.Type) {
            let out = y.assumingMemoryBound(to: T.self)
            let lo = S(T.min), hi = S(T.max)
            for i in range {
                let v = x[i]
                out[i] = v.isNaN ? 0 : v <= lo ? T.min : v >= hi ? T.max : T(v.rounded(.towardZero))
            }
        }
        switch to {
        case .f32: for i in range { y.assumingMemoryBound(to: Float.self)[i] = Float(x[i]) }
        case .f16: for i in range { y.assumingMemoryBound(to: Float16.self)[i] = Float16(x[i]) }
        case .f64: for i in range { y.assumingMemoryBound(to: Double.self)[i] = Double(x[i]) }
        case .bf16: for i in range { y.assumingMemoryBound(to: UInt16.self)[i] = bfloat16Bits(Float(x[i])) }
        case .bool: for i in range { y.assumingMemoryBound(to: Bool.self)[i] = x[i] != 0 }
        case .u8: saturated(UInt8.self)
        case .i8: saturated(Int8.self)
        case .i16: saturated(Int16.self)
        case .u16: saturated(UInt16.self)
        case .i32: saturated(Int32.self)
        case .u32: saturated(UInt32.self)
        case .i64: saturated(Int64.self)
        case .u64: saturated(UInt64.self)
        }
    }

    private static func integers<S: FixedWidthInteger>(
        _ x: UnsafePointer<S>, _ to: DType, _ y: UnsafeMutableRawPointer, _ range: Range<Int>
    ) {
        func wrapped<T: FixedWidthInteger>(_: T.Type) {
            let out = y.assumingMemoryBound(to: T.self)
            for i in range { out[i] = T(truncatingIfNeeded: x[i]) }
        }
        switch to {
        case .f32: for i in range { y.assumingMemoryBound(to: Float.self)[i] = Float(x[i]) }
        case .f16: for i in range { y.assumingMemoryBound(to: Float16.self)[i] = Float16(x[i]) }
        case .f64: for i in range { y.assumingMemoryBound(to: Double.self)[i] = Double(x[i]) }
        case .bf16: for i in range { y.assumingMemoryBound(to: UInt16.self)[i] = bfloat16Bits(Float(x[i])) }
        case .bool: for i in range { y.assumingMemoryBound(to: Bool.self)[i] = x[i] != 0 }
        case .u8: wrapped(UInt8.self)
        case .i8: wrapped(Int8.self)
        case .i16: wrapped(Int16.self)
        case .u16: wrapped(UInt16.self)
        case .i32: wrapped(Int32.self)
        case .u32: wrapped(UInt32.self)
        case .i64: wrapped(Int64.self)
        case .u64: wrapped(UInt64.self)
        }
    }
}

extension TensorData {
    /// The raw elements, for copying into and out of runtime buffers and converting.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .u8(let a): try a.withUnsafeBytes(body)
        case .i32(let a): try a.withUnsafeBytes(body)
        case .i64(let a): try a.withUnsafeBytes(body)
        case .f32(let a): try a.withUnsafeBytes(body)
        case .bool(let a): try a.withUnsafeBytes(body)
        case .i8(let a): try a.withUnsafeBytes(body)
        case .i16(let a): try a.withUnsafeBytes(body)
        case .u16(let a): try a.withUnsafeBytes(body)
        case .u32(let a): try a.withUnsafeBytes(body)
        case .u64(let a): try a.withUnsafeBytes(body)
        case .f16(let a): try a.withUnsafeBytes(body)
        case .f64(let a): try a.withUnsafeBytes(body)
        }
    }

    /// Elements of `dtype` copied from raw memory; bf16 widens to f32 (exact: bf16 is f32's
    /// upper half), so captured values read as any other.
    public static func copying(_ dtype: DType, from pointer: UnsafeRawPointer, count: Int) -> TensorData {
        func array<T>(_: T.Type) -> [T] { Array(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: T.self), count: count)) }
        return switch dtype {
        case .u8: .u8(array(UInt8.self))
        case .i32: .i32(array(Int32.self))
        case .i64: .i64(array(Int64.self))
        case .f32: .f32(array(Float.self))
        case .bool: .bool(array(Bool.self))
        case .i8: .i8(array(Int8.self))
        case .i16: .i16(array(Int16.self))
        case .u16: .u16(array(UInt16.self))
        case .u32: .u32(array(UInt32.self))
        case .u64: .u64(array(UInt64.self))
        case .f16: .f16(array(Float16.self))
        case .f64: .f64(array(Double.self))
        case .bf16: .f32(array(UInt16.self).map { Float(bitPattern: UInt32($0) << 16) })
        }
    }

    /// The elements cast to `dtype` (ElementConversion's rules); bf16 gives its values as f32.
    public func converted(to dtype: DType) -> TensorData {
        guard dtype != self.dtype else { return self }
        let n = count
        var bytes = [UInt8](repeating: 0, count: Swift.max(1, n * dtype.byteSize))
        bytes.withUnsafeMutableBytes { out in
            withUnsafeBytes { source in
                ElementConversion.convert(self.dtype, source.baseAddress ?? UnsafeRawPointer(out.baseAddress!), to: dtype, out.baseAddress!, range: 0..<n)
            }
        }
        return bytes.withUnsafeBytes { TensorData.copying(dtype, from: $0.baseAddress!, count: n) }
    }
}
