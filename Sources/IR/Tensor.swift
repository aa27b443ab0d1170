/// Element storage of a constant tensor (weights, folded shapes, test inputs).
public enum TensorData: Sendable, Hashable {
    case u8([UInt8])
    case i32([Int32])
    case i64([Int64])
    case f32([Float])

    public var dtype: DType {
        switch self {
        case .u8: .u8
        case .i32: .i32
        case .i64: .i64
        case .f32: .f32
        }
    }

    public var count: Int {
        switch self {
        case .u8(let a): a.count
        case .i32(let a): a.count
        case .i64(let a): a.count
        case .f32(let a): a.count
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
        }
    }

    /// Elements as integers (floats truncated), for shape tensors.
    public var integers: [Int] {
        switch data {
        case .f32(let a): a.map { Int($0) }
        case .u8(let a): a.map(Int.init)
        case .i32(let a): a.map(Int.init)
        case .i64(let a): a.map(Int.init)
        }
    }

    /// The same elements under another shape of equal size.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, data: data) }
}
