import IR

/// Everything that can go wrong while loading an ONNX model or importing it into IR.
/// The message says what went wrong, in which file and at which node, and what was expected.
public struct ONNXImportError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Equatable, Sendable {
        /// The file is missing, unreadable or implausibly large.
        case unreadableFile(String)
        /// The bytes are not an ONNX model protobuf, or the model's structure is broken
        /// (no graph, a value used before it is produced, a value produced twice, …).
        case invalidModel(String)
        /// No converter exists for this ONNX op type.
        case unsupportedOp(String)
        /// A node's ONNX domain is not the default one (`""` / `ai.onnx`).
        case nonDefaultDomain(String)
        /// An attribute has a wrong type or a value the importer does not support.
        case unsupportedAttribute(name: String, String)
        /// An input the importer needs as a constant is computed, or is missing.
        case unsupportedInput(index: Int, String)
        /// A node asks for an output (by giving it a name) the importer does not produce.
        case unsupportedOutput(index: Int, name: String)
        /// An ONNX element type with no IR dtype (or none supported yet in this position).
        case unsupportedDType(String)
        /// A tensor's data does not match its declared type and dims, or lives in an external file.
        case badTensorData(tensor: String, String)
        /// The value bound to a model input has an incompatible type.
        case bindingMismatch(input: String, expected: TensorType, given: TensorType)
        /// A model input got no value.
        case unboundInput(String)
        /// A binding or shape override names an input the model does not have.
        case unknownInput(String, available: [String])
        /// The IR rejected the node (shape inference): operands do not fit the op.
        case invalidNode(String)
    }

    public var kind: Kind
    /// The model file; filled in by the public entry points.
    public var file: String
    /// The node the error is about, e.g. `node 'n0' (#0, Conv)`; nil for model-level errors.
    public var node: String?

    public init(_ kind: Kind, file: String = "", node: String? = nil) {
        self.kind = kind
        self.file = file
        self.node = node
    }

    public var description: String {
        var prefix = file.isEmpty ? "" : file + ": "
        if let node { prefix += node + ": " }
        return prefix + Self.message(kind)
    }

    private static func message(_ kind: Kind) -> String {
        switch kind {
        case .unreadableFile(let m): "cannot read the model: \(m)"
        case .invalidModel(let m): "not a valid ONNX model: \(m)"
        case .unsupportedOp(let op): "unsupported ONNX op '\(op)' (run `visionc ops` for the supported ones)"
        case .nonDefaultDomain(let d): "op domain '\(d)' is not supported; only the default ONNX domain is"
        case .unsupportedAttribute(let name, let m): "attribute '\(name)': \(m)"
        case .unsupportedInput(let index, let m): "input #\(index): \(m)"
        case .unsupportedOutput(let index, let name): "output #\(index) '\(name)' is not supported (leave it unnamed)"
        case .unsupportedDType(let m): "unsupported element type: \(m)"
        case .badTensorData(let tensor, let m): "tensor '\(tensor)': \(m)"
        case .bindingMismatch(let input, let expected, let given):
            "input '\(input)' expects \(expected), but the value bound to it is \(given)"
        case .unboundInput(let input): "model input '\(input)' is not bound to any value"
        case .unknownInput(let name, let available):
            "the model has no input '\(name)' (its inputs: \(available.joined(separator: ", ")))"
        case .invalidNode(let m): m
        }
    }

    /// The same error with the file filled in (kept when already set).
    func inFile(_ path: String) -> ONNXImportError {
        var e = self
        if e.file.isEmpty { e.file = path }
        return e
    }
}
