import IR

/// equal, less, greater, less_or_equal, greater_or_equal on f32, i32, i64, u8 or bool
/// operands, and and, or, xor, not on bool, with NumPy broadcasting over `BroadcastLayout`
/// (the binary ops' layout): `bool` results, one byte each. Scalar loops: these ops decide
/// masks and small index tensors in vision models, never the hot path.
enum LogicalKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let out = n.outShape(0)
        let operands = n.inputs.indices.map { n.inShape($0) }
        let layout = BroadcastLayout(output: out, operands: operands)
        let slots = n.inputs, ySlot = n.outputs[0]
        let op = n.op
        if op == .not {
            return { ctx in
                let x = ctx.raw(slots[0]).assumingMemoryBound(to: Bool.self), y = ctx.raw(ySlot).assumingMemoryBound(to: Bool.self)
                for i in 0..<out.product { y[i] = !x[i] }
            }
        }
        switch n.inputTypes[0].dtype {
        case .f32: return body(layout, slots, ySlot, try comparison(op, Float.self, n))
        case .i32: return body(layout, slots, ySlot, try comparison(op, Int32.self, n))
        case .i64: return body(layout, slots, ySlot, try comparison(op, Int64.self, n))
        case .u8: return body(layout, slots, ySlot, try comparison(op, UInt8.self, n))
        case .bool:
            let logic: ((Bool, Bool) -> Bool)? = switch op {
            case .and: { $0 && $1 }
            case .or: { $0 || $1 }
            case .xor: { $0 != $1 }
            case .equal: { $0 == $1 }
            default: nil
            }
            guard let logic else { return body(layout, slots, ySlot, try comparison(op, UInt8.self, n)) }
            return body(layout, slots, ySlot, logic)
        default:
            throw n.unsupported("operands are \(n.inputTypes[0].dtype.rawValue)")
        }
    }

    /// The comparison of an op on elements of T (IEEE: any comparison with NaN is false but ≠).
    private static func comparison<T: Comparable>(_ op: Op, _: T.Type, _ n: NodeContext) throws -> (T, T) -> Bool {
        switch op {
        case .equal: return { $0 == $1 }
        case .less: return { $0 < $1 }
        case .greater: return { $0 > $1 }
        case .lessOrEqual: return { $0 <= $1 }
        case .greaterOrEqual: return { $0 >= $1 }
        default: throw n.unsupported("is logic on \(n.inputTypes[0].dtype.rawValue) operands; expected bool")
        }
    }

    private static func body<T>(_ layout: BroadcastLayout, _ slots: [Int], _ ySlot: Int, _ f: @escaping (T, T) -> Bool) -> StepBody {
        { ctx in
            let a = ctx.raw(slots[0]).assumingMemoryBound(to: T.self), b = ctx.raw(slots[1]).assumingMemoryBound(to: T.self)
            let y = ctx.raw(ySlot).assumingMemoryBound(to: Bool.self)
            let sa = layout.innerStride(0), sb = layout.innerStride(1)
            for row in 0..<layout.rows {
                let pa = a + layout.offset(0, row: row), pb = b + layout.offset(1, row: row), py = y + row * layout.inner
                for i in 0..<layout.inner { py[i] = f(pa[i * sa], pb[i * sb]) }
            }
        }
    }
}

/// where(condition, x, y) with the three broadcast over `BroadcastLayout`: copies whole
/// elements of the branches' byte size, so it serves every dtype.
enum SelectKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let layout = BroadcastLayout(output: n.outShape(0), operands: n.inputs.indices.map { n.inShape($0) })
        let slots = n.inputs, ySlot = n.outputs[0]
        switch n.outputTypes[0].dtype.byteSize {
        case 1: return body(layout, slots, ySlot, UInt8.self)
        case 2: return body(layout, slots, ySlot, UInt16.self)
        case 4: return body(layout, slots, ySlot, UInt32.self)
        case 8: return body(layout, slots, ySlot, UInt64.self)
        default: throw n.unsupported("branches of \(n.outputTypes[0].dtype.byteSize)-byte elements")
        }
    }

    private static func body<T>(_ layout: BroadcastLayout, _ slots: [Int], _ ySlot: Int, _: T.Type) -> StepBody {
        { ctx in
            let c = ctx.raw(slots[0]).assumingMemoryBound(to: Bool.self)
            let a = ctx.raw(slots[1]).assumingMemoryBound(to: T.self), b = ctx.raw(slots[2]).assumingMemoryBound(to: T.self)
            let y = ctx.raw(ySlot).assumingMemoryBound(to: T.self)
            let (sc, sa, sb) = (layout.innerStride(0), layout.innerStride(1), layout.innerStride(2))
            for row in 0..<layout.rows {
                let pc = c + layout.offset(0, row: row), pa = a + layout.offset(1, row: row), pb = b + layout.offset(2, row: row)
                let py = y + row * layout.inner
                for i in 0..<layout.inner { py[i] = pc[i * sc] ? pa[i * sa] : pb[i * sb] }
            }
        }
    }
}
