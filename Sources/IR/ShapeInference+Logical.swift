/// Result types of the comparison and logic ops and `where`: NumPy broadcasting of the
/// operands (the rule `add` follows), `bool` results for comparisons and logic, and the
/// operand dtype rules that keep each op's meaning single: comparisons need one dtype on
/// both sides, logic needs `bool`, `where` a `bool` condition and two branches of one dtype.
extension ShapeInference {
    static func logicalResultTypes(op: Op, inputs: [TensorType]) throws -> [TensorType] {
        let arityExpected = op == .not ? 1 : op == .select ? 3 : 2
        guard inputs.count == arityExpected else {
            throw IRError.arity(op: op.rawValue, expected: "\(arityExpected)", found: inputs.count)
        }
        var shape = inputs[0].shape
        for other in inputs.dropFirst() { shape = try broadcast(shape, other.shape, op) }
        func dtypes() -> String { inputs.map { $0.dtype.rawValue }.joined(separator: ", ") }
        switch op {
        case .equal, .less, .greater, .lessOrEqual, .greaterOrEqual:
            guard inputs[0].dtype == inputs[1].dtype else {
                throw IRError.typeMismatch(op: op.rawValue, "operands must share a dtype, found \(dtypes())")
            }
            return [TensorType(.bool, shape)]
        case .and, .or, .xor, .not:
            guard inputs.allSatisfy({ $0.dtype == .bool }) else {
                throw IRError.typeMismatch(op: op.rawValue, "operands must be bool, found \(dtypes())")
            }
            return [TensorType(.bool, shape)]
        default:
            guard inputs[0].dtype == .bool, inputs[1].dtype == inputs[2].dtype else {
                throw IRError.typeMismatch(op: op.rawValue, "expected a bool condition and two branches of one dtype, found \(dtypes())")
            }
            return [TensorType(inputs[1].dtype, shape)]
        }
    }
}
