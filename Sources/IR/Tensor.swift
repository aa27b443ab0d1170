/// Element storage of a constant tensor (weights, folded shapes, test inputs), one case per
/// dtype except bf16 (no tensor holds it; values copied out widen to f32).
public enum TensorData: Sendable, Hashable {
    case u8([UInt8])
    case i32([Int32])
    case i64([Int64])
    case f32([Float])
    case bool([Bool])
    case i8([Int8])
    case i16([Int16])
    case u16([UInt16])
    case u32([UInt32])
    case u64([UInt64])
    case f16([Float16])
    case f64([Double])

    public var dtype: DType {
        switch self {
        case .u8: .u8
        case .i32: .i32
        case .i64: .i64
        case .f32: .f32
        case .bool: .bool
        case .i8: .i8
        case .i16: .i16
        case .u16: .u16
        case .u32: .u32
        case .u64: .u64
        case .f16: .f16
        case .f64: .f64
        }
    }

    public var count: Int {
        switch self {
        case .u8(let a): a.count
        case .i32(let a): a.count
        case .i64(let a): a.count
        case .f32(let a): a.count
        case .bool(let a): a.count
        case .i8(let a): a.count
        case .i16(let a): a.count
        case .u16(let a): a.count
        case .u32(let a): a.count
        case .u64(let a): a.count
        case .f16(let a): a.count
        case .f64(let a): a.count
        }
    }

    /// The elements as doubles (exact for every type but i64/u64 beyond 2⁵³).
    public var doubles: [Double] {
        switch self {
        case .u8(let a): a.map(Double.init)
        case .i32(let a): a.map(Double.init)
        case .i64(let a): a.map(Double.init)
        case .f32(let a): a.map(Double.init)
        case .bool(let a): a.map { $0 ? 1 : 0 }
        case .i8(let a): a.map(Double.init)
        case .i16(let a): a.map(Double.init)
        case .u16(let a): a.map(Double.init)
        case .u32(let a): a.map(Double.init)
        case .u64(let a): a.map(Double.init)
        case .f16(let a): a.map(Double.init)
        case .f64(let a): a
        }
    }

    /// The elements as integers (floats truncated toward zero; u64 by bit pattern).
    public var int64s: [Int64] {
        switch self {
        case .u8(let a): a.map(Int64.init)
        case .i32(let a): a.map(Int64.init)
        case .i64(let a): a
        case .f32(let a): a.map { Int64($0) }
        case .bool(let a): a.map { $0 ? 1 : 0 }
        case .i8(let a): a.map(Int64.init)
        case .i16(let a): a.map(Int64.init)
        case .u16(let a): a.map(Int64.init)
        case .u32(let a): a.map(Int64.init)
        case .u64(let a): a.map { Int64(bitPattern: $0) }
        case .f16(let a): a.map { Int64($0) }
        case .f64(let a): a.map { Int64($0) }
        }
    }
}

/// A concrete tensor: a dtype-tagged flat array in row-major order and its shape.
public struct Tensor: Sendable, Hashable {
    public let shape: [Int]
    public let data: TensorData

    public init(shape: [Int], data: TensorData) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) elements")
        self.shape = shape
        self.data = data
    }

    public init(shape: [Int], floats: [Float]) { self.init(shape: shape, data: .f32(floats)) }
    public init(shape: [Int], int64s: [Int64]) { self.init(shape: shape, data: .i64(int64s)) }
    public init(shape: [Int], bytes: [UInt8]) { self.init(shape: shape, data: .u8(bytes)) }

    public var dtype: DType { data.dtype }
    public var count: Int { data.count }

    /// The type of this tensor as a graph value with the given layout.
    public func type(layout: Layout = .none) -> TensorType {
        TensorType(dtype, shape, layout: layout)
    }

    /// Elements as floats (any dtype converted), for numeric passes and tests.
    public var floats: [Float] {
        switch data {
        case .f32(let a): a
        case .u8(let a): a.map(Float.init)
        case .i32(let a): a.map(Float.init)
        case .i64(let a): a.map(Float.init)
        case .f16(let a): a.map(Float.init)
        default: data.doubles.map(Float.init)
        }
    }

    /// Elements as integers (floats truncated), for shape tensors.
    public var integers: [Int] { data.int64s.map(Int.init) }

    /// The same elements under another shape of equal size.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, data: data) }
}
