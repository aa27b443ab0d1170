/// Computes ops on constant tensors: `constant-fold` at compile time, and the runtime's planner
/// for shape arithmetic on sizes known per request, so both fold by the same rules. It lives in
/// IR, below both. Every function returns nil when it does not fold (unsupported op or dtype, a
/// value the target type cannot hold, integer overflow or division by zero), so the op is left
/// to run at run time with whatever semantics the runtime gives it, never different ones
/// decided here.
public enum ConstantEvaluator {
    /// Largest result folded (64 Mi elements): bounds the memory a compile can allocate.
    public static let maxElements = 1 << 26

    /// What `shape` gives for a value of this type: its dims as i64, when all are known.
    public static func shape(of type: TensorType) -> Tensor? {
        type.knownShape.map { Tensor(shape: [$0.count], int64s: $0.map(Int64.init)) }
    }

    /// Evaluates a single-result op whose operands are all constants.
    /// - Parameters:
    ///   - resultShape: the shape shape inference gives the result (fully known).
    public static func evaluate(_ op: Op, operands: [Tensor], attributes a: Attributes, resultShape: [Int]) -> Tensor? {
        switch op {
        case .constantOfShape:
            let dtype = a.string("dtype").flatMap(DType.init(rawValue:)) ?? .f32
            let count = resultShape.reduce(1, *)
            guard let fill = filled(dtype, value: a.float("value", default: 0), count: count) else { return nil }
            return Tensor(shape: resultShape, data: fill)
        case .reshape, .flatten, .unsqueeze, .squeeze, .identity:
            guard operands[0].count == resultShape.reduce(1, *) else { return nil }
            return operands[0].reshaped(resultShape)
        case .transpose:
            let x = operands[0]
            let perm = a.ints("perm") ?? Array((0..<x.shape.count).reversed())
            let strides = rowMajorStrides(x.shape)
            let indices = stridedWalk(shape: resultShape, strides: perm.map { strides[$0] })
            return Tensor(shape: resultShape, data: x.data.gathered(indices))
        case .concat:
            return concatenated(operands, axis: a.int("axis", default: 0), resultShape: resultShape)
        case .slice:
            return sliced(operands[0], attributes: a, resultShape: resultShape)
        case .gather:
            return gathered(operands[0], indices: operands[1], axis: a.int("axis", default: 0), resultShape: resultShape)
        case .cast:
            guard let dtype = a.string("to").flatMap(DType.init(rawValue:)),
                  let data = converted(operands[0].data, to: dtype) else { return nil }
            return Tensor(shape: resultShape, data: data)
        case .equal, .less, .greater, .lessOrEqual, .greaterOrEqual, .and, .or, .xor, .not, .select:
            return logical(op, operands, resultShape: resultShape)
        case .add, .sub, .mul, .div:
            let (x, y) = (operands[0], operands[1])
            let ix = stridedWalk(shape: resultShape, strides: broadcastStrides(x.shape, to: resultShape))
            let iy = stridedWalk(shape: resultShape, strides: broadcastStrides(y.shape, to: resultShape))
            return arithmetic(op, x.data, y.data, ix, iy).map { Tensor(shape: resultShape, data: $0) }
        default:
            return nil
        }
    }

    // MARK: - Index arithmetic

    static func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: shape.count)
        for i in shape.indices.dropLast().reversed() { strides[i] = strides[i + 1] * shape[i + 1] }
        return strides
    }

    /// Strides that read `shape` as if broadcast (NumPy rules) to `target`: 0 on broadcast axes.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = rowMajorStrides(shape)
        let lead = target.count - shape.count
        return target.indices.map { i in
            i < lead || shape[i - lead] == 1 ? 0 : own[i - lead]
        }
    }

    /// For every element of `shape` in row-major order, the dot product of its index with `strides`.
    static func stridedWalk(shape: [Int], strides: [Int]) -> [Int] {
        let count = shape.reduce(1, *)
        var out = [Int](repeating: 0, count: count)
        guard count > 0 else { return out }
        var index = Array(repeating: 0, count: shape.count)
        var offset = 0
        for n in 0..<count {
            out[n] = offset
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                offset += strides[axis]
                if index[axis] < shape[axis] { break }
                offset -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return out
    }

    // MARK: - Ops

    private static func concatenated(_ parts: [Tensor], axis rawAxis: Int, resultShape: [Int]) -> Tensor? {
        let axis = rawAxis < 0 ? rawAxis + resultShape.count : rawAxis
        // Shape inference checks only the axis; the other dims must match for the copy to be a concat.
        func fits(_ p: Tensor) -> Bool {
            p.shape.count == resultShape.count && p.shape.indices.allSatisfy { $0 == axis || p.shape[$0] == resultShape[$0] }
        }
        guard let first = parts.first, parts.allSatisfy({ $0.dtype == first.dtype && fits($0) }),
              parts.map({ $0.shape[axis] }).reduce(0, +) == resultShape[axis] else { return nil }
        let outer = resultShape[..<axis].reduce(1, *)
        let inner = resultShape[(axis + 1)...].reduce(1, *)
        var bases: [Int] = []
        var base = 0
        for p in parts {
            bases.append(base)
            base += p.count
        }
        var indices: [Int] = []
        indices.reserveCapacity(resultShape.reduce(1, *))
        for o in 0..<outer {
            for (p, start) in zip(parts, bases) {
                let block = p.shape[axis] * inner
                indices.append(contentsOf: (start + o * block)..<(start + (o + 1) * block))
            }
        }
        return Tensor(shape: resultShape, data: TensorData.joined(parts.map(\.data)).gathered(indices))
    }

    /// Comparisons (integers as i64, floats as f64: both exact), logic and `where`, broadcast
    /// as the runtime does (shape arithmetic like `Where(Equal(shape, 0), …)` in exported models).
    private static func logical(_ op: Op, _ operands: [Tensor], resultShape: [Int]) -> Tensor? {
        let walks = operands.map { stridedWalk(shape: resultShape, strides: broadcastStrides($0.shape, to: resultShape)) }
        if op == .select {
            guard case .bool(let condition) = operands[0].data, operands[1].dtype == operands[2].dtype else { return nil }
            // Indices into the two branches laid end to end.
            let offset = operands[1].count
            let indices = walks[0].indices.map { condition[walks[0][$0]] ? walks[1][$0] : offset + walks[2][$0] }
            return Tensor(shape: resultShape, data: TensorData.joined([operands[1].data, operands[2].data]).gathered(indices))
        }
        guard operands.allSatisfy({ $0.dtype == operands[0].dtype }) else { return nil }
        if op == .not {
            guard case .bool(let x) = operands[0].data else { return nil }
            return Tensor(shape: resultShape, data: .bool(walks[0].map { !x[$0] }))
        }
        if [.and, .or, .xor].contains(op) {
            guard case .bool(let a) = operands[0].data, case .bool(let b) = operands[1].data else { return nil }
            let f: (Bool, Bool) -> Bool
            switch op {
            case .and: f = { $0 && $1 }
            case .or: f = { $0 || $1 }
            default: f = { $0 != $1 }
            }
            return Tensor(shape: resultShape, data: .bool(zip(walks[0], walks[1]).map { f(a[$0], b[$1]) }))
        }
        func compared<T: Comparable>(_ a: [T], _ b: [T]) -> [Bool]? {
            let f: (T, T) -> Bool
            switch op {
            case .equal: f = { $0 == $1 }
            case .less: f = { $0 < $1 }
            case .greater: f = { $0 > $1 }
            case .lessOrEqual: f = { $0 <= $1 }
            case .greaterOrEqual: f = { $0 >= $1 }
            default: return nil
            }
            return zip(walks[0], walks[1]).map { f(a[$0], b[$1]) }
        }
        let result = operands[0].dtype.isFloatingPoint
            ? compared(operands[0].data.doubles, operands[1].data.doubles)
            : compared(operands[0].data.int64s, operands[1].data.int64s)
        return result.map { Tensor(shape: resultShape, data: .bool($0)) }
    }

    private static func filled(_ dtype: DType, value: Float, count: Int) -> TensorData? {
        switch dtype {
        case .f32: return .f32(Array(repeating: value, count: count))
        case .u8: return UInt8(exactly: value).map { .u8(Array(repeating: $0, count: count)) }
        case .i32: return Int32(exactly: value).map { .i32(Array(repeating: $0, count: count)) }
        case .i64: return Int64(exactly: value).map { .i64(Array(repeating: $0, count: count)) }
        case .bool: return value == 0 || value == 1 ? .bool(Array(repeating: value == 1, count: count)) : nil
        // The importer gives storage types their arithmetic type; no IR fill has them.
        case .i8, .i16, .u16, .u32, .u64, .f16, .f64, .bf16: return nil
        }
    }

    /// Conversions that are exact, or (integer to f32) rounded the one way IEEE defines.
    private static func converted(_ data: TensorData, to dtype: DType) -> TensorData? {
        if case .f32(let a) = data {
            switch dtype {
            case .f32: return data
            case .u8: return exactly(a, UInt8.init(exactly:)).map(TensorData.u8)
            case .i32: return exactly(a, Int32.init(exactly:)).map(TensorData.i32)
            case .i64: return exactly(a, Int64.init(exactly:)).map(TensorData.i64)
            default: return nil
            }
        }
        let ints: [Int64]
        switch data {
        case .u8(let a): ints = a.map(Int64.init)
        case .i32(let a): ints = a.map(Int64.init)
        case .i64(let a): ints = a
        default: return nil
        }
        switch dtype {
        case .f32: return .f32(ints.map(Float.init))
        case .u8: return exactly(ints, UInt8.init(exactly:)).map(TensorData.u8)
        case .i32: return exactly(ints, Int32.init(exactly:)).map(TensorData.i32)
        case .i64: return .i64(ints)
        default: return nil
        }
    }

    private static func exactly<S, T>(_ values: [S], _ convert: (S) -> T?) -> [T]? {
        var out: [T] = []
        out.reserveCapacity(values.count)
        for v in values {
            guard let t = convert(v) else { return nil }
            out.append(t)
        }
        return out
    }

    private static func arithmetic(_ op: Op, _ a: TensorData, _ b: TensorData, _ ia: [Int], _ ib: [Int]) -> TensorData? {
        switch (a, b) {
        case (.f32(let x), .f32(let y)): combined(x, y, ia, ib, floatOperation(op)).map(TensorData.f32)
        case (.i64(let x), .i64(let y)): combined(x, y, ia, ib, integerOperation(op)).map(TensorData.i64)
        case (.i32(let x), .i32(let y)): combined(x, y, ia, ib, integerOperation(op)).map(TensorData.i32)
        case (.u8(let x), .u8(let y)): combined(x, y, ia, ib, integerOperation(op)).map(TensorData.u8)
        default: nil  // storage types and bool: left to the runtime
        }
    }

    private static func combined<T>(_ x: [T], _ y: [T], _ ix: [Int], _ iy: [Int], _ f: (T, T) -> T?) -> [T]? {
        var out: [T] = []
        out.reserveCapacity(ix.count)
        for (i, j) in zip(ix, iy) {
            guard let v = f(x[i], y[j]) else { return nil }
            out.append(v)
        }
        return out
    }

    private static func floatOperation(_ op: Op) -> (Float, Float) -> Float? {
        switch op {
        case .add: { $0 + $1 }
        case .sub: { $0 - $1 }
        case .mul: { $0 * $1 }
        default: { $0 / $1 }
        }
    }

    /// Integer division truncates toward zero (C, ONNX Runtime); overflow and ÷0 do not fold.
    private static func integerOperation<T: FixedWidthInteger>(_ op: Op) -> (T, T) -> T? {
        func checked(_ r: (partialValue: T, overflow: Bool)) -> T? { r.overflow ? nil : r.partialValue }
        switch op {
        case .add: return { checked($0.addingReportingOverflow($1)) }
        case .sub: return { checked($0.subtractingReportingOverflow($1)) }
        case .mul: return { checked($0.multipliedReportingOverflow(by: $1)) }
        default: return { $1 == 0 ? nil : checked($0.dividedReportingOverflow(by: $1)) }
        }
    }
}

extension TensorData {
    /// The elements at `indices`, in that order.
    public func gathered(_ indices: [Int]) -> TensorData {
        switch self {
        case .u8(let a): .u8(indices.map { a[$0] })
        case .i32(let a): .i32(indices.map { a[$0] })
        case .i64(let a): .i64(indices.map { a[$0] })
        case .f32(let a): .f32(indices.map { a[$0] })
        case .bool(let a): .bool(indices.map { a[$0] })
        case .i8(let a): .i8(indices.map { a[$0] })
        case .i16(let a): .i16(indices.map { a[$0] })
        case .u16(let a): .u16(indices.map { a[$0] })
        case .u32(let a): .u32(indices.map { a[$0] })
        case .u64(let a): .u64(indices.map { a[$0] })
        case .f16(let a): .f16(indices.map { a[$0] })
        case .f64(let a): .f64(indices.map { a[$0] })
        }
    }

    /// The elements of all parts one after another; the parts share one dtype.
    public static func joined(_ parts: [TensorData]) -> TensorData {
        guard let dtype = parts.first?.dtype else { return .f32([]) }
        var bytes: [UInt8] = []
        for part in parts { part.withUnsafeBytes { bytes += $0 } }
        let count = parts.reduce(0) { $0 + $1.count }
        return bytes.withUnsafeBytes { TensorData.copying(dtype, from: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: count) }
    }
}
