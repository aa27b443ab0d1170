import Foundation
import IR

/// One ONNX node as the converters see it: its protobuf, its position, and its attributes
/// read generically into IR `Attribute`s (tensor-valued ones kept as protobufs).
/// The typed accessors throw when an attribute is present with the wrong type, so a
/// converter never silently falls back to a default.
struct ONNXNode {
    let proto: Onnx_NodeProto
    let index: Int
    let attributes: Attributes
    let tensorAttributes: [String: Onnx_TensorProto]

    init(_ proto: Onnx_NodeProto, index: Int) throws {
        self.proto = proto
        self.index = index
        var attributes = Attributes()
        var tensors: [String: Onnx_TensorProto] = [:]
        for a in proto.attribute {
            switch try Self.kind(of: a) {
            case .float: attributes[a.name] = .float(a.f)
            case .int: attributes[a.name] = .int(Int(a.i))
            case .string: attributes[a.name] = .string(try Self.text(a.s, attribute: a.name))
            case .floats: attributes[a.name] = .floats(a.floats)
            case .ints: attributes[a.name] = .ints(a.ints.map { Int($0) })
            case .strings: attributes[a.name] = .strings(try a.strings.map { try Self.text($0, attribute: a.name) })
            case .tensor: tensors[a.name] = a.t
            case let other:
                throw ONNXImportError(.unsupportedAttribute(name: a.name, "\(String(describing: other)) attributes are not supported"))
            }
        }
        self.attributes = attributes
        self.tensorAttributes = tensors
    }

    var opType: String { proto.opType }

    /// `node 'conv1' (#3, Conv)`, or `node #3 (Conv)` for unnamed nodes.
    var description: String { Self.description(of: proto, index: index) }

    static func description(of proto: Onnx_NodeProto, index: Int) -> String {
        proto.name.isEmpty ? "node #\(index) (\(proto.opType))" : "node '\(proto.name)' (#\(index), \(proto.opType))"
    }

    /// Name for the node's (first) result: its first named output, else the node name.
    var resultName: String {
        proto.output.first(where: { !$0.isEmpty }) ?? (proto.name.isEmpty ? opType.lowercased() : proto.name)
    }

    /// Throws unless the node has an operand count in `range` (empty optional names count).
    func expectInputs(_ range: ClosedRange<Int>) throws {
        guard range.contains(proto.input.count) else {
            let expected = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)…\(range.upperBound)"
            throw ONNXImportError(.invalidNode("expects \(expected) input(s), found \(proto.input.count)"))
        }
    }

    // MARK: - Typed attribute access

    func has(_ key: String) -> Bool { attributes[key] != nil || tensorAttributes[key] != nil }

    func int(_ key: String) throws -> Int? {
        switch attributes[key] {
        case nil: return nil
        case .int(let v): return v
        case let other?: throw wrongType(key, "an int", other)
        }
    }

    func int(_ key: String, default d: Int) throws -> Int { try int(key) ?? d }

    func float(_ key: String) throws -> Float? {
        switch attributes[key] {
        case nil: return nil
        case .float(let v): return v
        case let other?: throw wrongType(key, "a float", other)
        }
    }

    func float(_ key: String, default d: Float) throws -> Float { try float(key) ?? d }

    func string(_ key: String) throws -> String? {
        switch attributes[key] {
        case nil: return nil
        case .string(let v): return v
        case let other?: throw wrongType(key, "a string", other)
        }
    }

    func ints(_ key: String) throws -> [Int]? {
        switch attributes[key] {
        case nil: return nil
        case .ints(let v): return v
        case let other?: throw wrongType(key, "a list of ints", other)
        }
    }

    func floats(_ key: String) throws -> [Float]? {
        switch attributes[key] {
        case nil: return nil
        case .floats(let v): return v
        case let other?: throw wrongType(key, "a list of floats", other)
        }
    }

    private func wrongType(_ key: String, _ expected: String, _ found: Attribute) -> ONNXImportError {
        ONNXImportError(.unsupportedAttribute(name: key, "expected \(expected), found \(found)"))
    }

    // MARK: - Decoding helpers

    /// The attribute's type; old exporters leave `type` unset, so it is then read off the set field.
    private static func kind(of a: Onnx_AttributeProto) throws -> Onnx_AttributeProto.AttributeType {
        if a.type != .undefined { return a.type }
        if a.hasF { return .float }
        if a.hasI { return .int }
        if a.hasS { return .string }
        if a.hasT { return .tensor }
        if !a.floats.isEmpty { return .floats }
        if !a.ints.isEmpty { return .ints }
        if !a.strings.isEmpty { return .strings }
        throw ONNXImportError(.unsupportedAttribute(name: a.name, "has no type and no value"))
    }

    private static func text(_ bytes: Data, attribute: String) throws -> String {
        guard let s = String(data: bytes, encoding: .utf8) else {
            throw ONNXImportError(.unsupportedAttribute(name: attribute, "string is not valid UTF-8"))
        }
        return s
    }
}
