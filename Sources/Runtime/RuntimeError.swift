import IR
import Kernels

/// Why a graph could not be prepared or a request could not run. Each case names the node
/// (by its first result's IR name) or the input, and what was expected.
public enum RuntimeError: Error, CustomStringConvertible {
    /// The graph fails IR verification.
    case invalidGraph(String)
    /// The runtime has no implementation for this use of an op (dtype, operand kind, …).
    case unsupported(op: Op, value: String, reason: String)
    /// `run` was given the wrong number of inputs.
    case inputCount(expected: Int, given: Int)
    /// An input's dtype or shape does not fit the graph's declared input type.
    case inputType(name: String, expected: TensorType, given: String)
    /// A value named for capture does not exist in the graph.
    case unknownValue(String)
    /// Shape inference failed for the concrete sizes of this request.
    case shape(value: String, String)
    /// A JPEG or PNG could not be decoded.
    case decode(value: String, any ImageDecodeFailure)
    /// A JPEG's pixel count is over the node's `max_pixels`.
    case imageTooLarge(value: String, width: Int, height: Int, limit: Int)
    /// A tensor of this request would not fit the kernels' 32-bit sizes.
    case tensorTooLarge(value: String, elements: Int)
    /// OpenBLAS could not be loaded (needed by conv, gemm and matmul).
    case blasUnavailable(String)
    /// A kernel refused its arguments (a size beyond its limits).
    case kernel(value: String, KernelError)

    public var description: String {
        switch self {
        case .invalidGraph(let m): "runtime: invalid graph: \(m)"
        case .unsupported(let op, let value, let reason): "runtime: \(op.rawValue) %\(value): unsupported: \(reason)"
        case .inputCount(let expected, let given): "runtime: expected \(expected) input(s), given \(given)"
        case .inputType(let name, let expected, let given): "runtime: input %\(name): expected \(expected), given \(given)"
        case .unknownValue(let name): "runtime: no value named %\(name) in the graph"
        case .shape(let value, let m): "runtime: %\(value): \(m)"
        case .decode(let value, let error): "runtime: %\(value): \(error)"
        case .imageTooLarge(let value, let w, let h, let limit):
            "runtime: %\(value): image is \(w)x\(h) = \(w * h) pixels, over max_pixels \(limit)"
        case .tensorTooLarge(let value, let elements):
            "runtime: %\(value): \(elements) elements exceed the kernels' limit of \(Int32.max)"
        case .blasUnavailable(let m): "runtime: OpenBLAS unavailable: \(m)"
        case .kernel(let value, let error): "runtime: %\(value): \(error)"
        }
    }
}

extension RuntimeError {
    /// Whether the request's own data caused it (a corrupt or too large image, a size the graph
    /// cannot take), as opposed to the server's or the graph's fault.
    public var isInputFault: Bool {
        switch self {
        case .decode, .imageTooLarge, .tensorTooLarge, .inputType, .shape: true
        default: false
        }
    }
}
