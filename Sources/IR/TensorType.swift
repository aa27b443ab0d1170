/// Element type of a tensor value.
///
/// The kernels compute in `u8`, `i32`, `i64`, `f32` and `bool`. The other types are storage
/// types: a graph input, output, weight or `cast` result may have one, and the ONNX importer
/// converts it to its `arithmetic` type where it enters the graph (a cast after each input, a
/// weight decoded widened) and back where a value of that type leaves it, so every op runs on
/// the arithmetic types. Widening is exact (f16, bf16 ⊂ f32; i8, i16, u16 ⊂ i32; u32 ⊂ i64);
/// see `arithmetic` for the two that are not (f64, u64).
public enum DType: String, Sendable, Hashable, CaseIterable {
    case u8, i32, i64, f32
    /// One byte per element, 0 or 1: comparison results, `where`'s condition.
    case bool
    case i8, i16, u16, u32, u64
    /// IEEE binary16 and binary64 (storage types).
    case f16, f64
    /// bfloat16: between convolutions that `lower-precision` runs in bf16 on oneDNN, and as a
    /// storage type of weights and `cast` results (values copied out widen to f32).
    case bf16

    /// Size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .u8, .bool, .i8: 1
        case .bf16, .f16, .i16, .u16: 2
        case .i32, .f32, .u32: 4
        case .i64, .f64, .u64: 8
        }
    }

    /// The type ops compute a value of this type in. f64 computes in f32 (each value rounds
    /// once where it enters; ONNX's tolerances hold, and no vision model needs more), u64 in
    /// i64 (the same bits: add, sub, mul and casts agree; values ≥ 2⁶³ compare and divide as
    /// negative).
    public var arithmetic: DType {
        switch self {
        case .f16, .bf16, .f64: .f32
        case .i8, .i16, .u16: .i32
        case .u32, .u64: .i64
        case .u8, .i32, .i64, .f32, .bool: self
        }
    }

    /// Whether a result of this type must be rounded (or wrapped) to it after an op computed
    /// it in `arithmetic`, so that it holds what the op would give in this type: every
    /// storage type narrower than its arithmetic type.
    public var narrowsArithmetic: Bool { arithmetic != self && self != .f64 && self != .u64 }

    public var isFloatingPoint: Bool { [.f16, .bf16, .f32, .f64].contains(self) }
}

/// One dimension of a shape: a known extent, or a symbol resolved per request
/// (an image's height and width are only known once its JPEG header is read).
/// An empty symbol name prints as a bare `?`.
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    case known(Int)
    case symbol(String)

    public var value: Int? {
        if case .known(let n) = self { return n }
        return nil
    }

    public var description: String {
        switch self {
        case .known(let n): String(n)
        case .symbol(let name): "?" + name
        }
    }
}

/// How the axes of an image-like tensor are to be read. `none` for plain tensors.
public enum Layout: String, Sendable, Hashable, CaseIterable {
    case none = ""
    case hwc = "HWC"
    case chw = "CHW"
    case nhwc = "NHWC"
    case nchw = "NCHW"

    /// Index of the channel axis, where the layout has one.
    public var channelAxis: Int? {
        switch self {
        case .none: nil
        case .hwc: 2
        case .chw: 0
        case .nhwc: 3
        case .nchw: 1
        }
    }

    public var rank: Int? { self == .none ? nil : rawValue.count }
}

/// Where a value lives. Placement passes move stages to an accelerator; the host is the default.
public enum Placement: String, Sendable, Hashable, CaseIterable {
    case host
    case accel
}

/// The full type of an SSA value.
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var shape: [Dim]
    public var layout: Layout
    public var placement: Placement

    public init(_ dtype: DType, _ shape: [Dim], layout: Layout = .none, placement: Placement = .host) {
        self.dtype = dtype
        self.shape = shape
        self.layout = layout
        self.placement = placement
    }

    /// Convenience for fully known shapes.
    public init(_ dtype: DType, _ dims: [Int], layout: Layout = .none, placement: Placement = .host) {
        self.init(dtype, dims.map(Dim.known), layout: layout, placement: placement)
    }

    public var rank: Int { shape.count }

    /// The dims as integers when every one is known.
    public var knownShape: [Int]? {
        var out: [Int] = []
        out.reserveCapacity(shape.count)
        for d in shape {
            guard let v = d.value else { return nil }
            out.append(v)
        }
        return out
    }

    /// Element count when the shape is fully known.
    public var elementCount: Int? { knownShape.map { $0.reduce(1, *) } }

    /// Text form: `f32[1,3,224,224] NCHW`, with ` on accel` when not on the host.
    public var description: String {
        var s = dtype.rawValue + "[" + shape.map(\.description).joined(separator: ",") + "]"
        if layout != .none { s += " " + layout.rawValue }
        if placement != .host { s += " on " + placement.rawValue }
        return s
    }

    /// The same type with a new shape (layout and placement kept).
    public func with(shape: [Dim]) -> TensorType {
        var t = self
        t.shape = shape
        return t
    }
}
