/// Errors raised while building, parsing, inferring or verifying IR.
public enum IRError: Error, CustomStringConvertible, Equatable {
    case invalidShape(String)
    case invalidAttribute(op: String, name: String, String)
    case arity(op: String, expected: String, found: Int)
    case typeMismatch(op: String, String)
    case parse(line: Int, column: Int, String)
    case verification(String)

    public var description: String {
        switch self {
        case .invalidShape(let m): "invalid shape: \(m)"
        case .invalidAttribute(let op, let name, let m): "\(op): attribute '\(name)': \(m)"
        case .arity(let op, let expected, let found): "\(op): expected \(expected) operand(s), found \(found)"
        case .typeMismatch(let op, let m): "\(op): \(m)"
        case .parse(let line, let column, let m): "\(line):\(column): \(m)"
        case .verification(let m): "IR verification failed: \(m)"
        }
    }
}
