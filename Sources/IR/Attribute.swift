/// A node attribute value. Floats are `Float` because ONNX attributes are float32 and the
/// text form must round-trip them exactly (Swift prints the shortest exact decimal).
public enum Attribute: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])

    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .float(let v): Attribute.format(v)
        case .string(let v): Attribute.quote(v)
        case .ints(let v): "[" + v.map(String.init).joined(separator: ",") + "]"
        case .floats(let v): "[" + v.map(Attribute.format).joined(separator: ",") + "]"
        case .strings(let v): "[" + v.map(Attribute.quote).joined(separator: ",") + "]"
        }
    }

    /// Floats always print with a `.`, `e`, `inf` or `nan` so the parser can tell them from ints.
    static func format(_ v: Float) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        return v.description
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }
}

/// Attributes of a node, printed sorted by key so the text form is stable.
public struct Attributes: Hashable, Sendable, ExpressibleByDictionaryLiteral {
    public private(set) var storage: [String: Attribute]

    public init(_ storage: [String: Attribute] = [:]) { self.storage = storage }
    public init(dictionaryLiteral elements: (String, Attribute)...) {
        storage = Dictionary(elements, uniquingKeysWith: { $1 })
    }

    public subscript(key: String) -> Attribute? {
        get { storage[key] }
        set { storage[key] = newValue }
    }

    public var isEmpty: Bool { storage.isEmpty }
    public var sortedKeys: [String] { storage.keys.sorted() }

    public func int(_ key: String) -> Int? {
        switch storage[key] {
        case .int(let v): v
        case .float(let v) where v.rounded() == v: Int(v)
        default: nil
        }
    }

    public func int(_ key: String, default d: Int) -> Int { int(key) ?? d }

    public func float(_ key: String) -> Float? {
        switch storage[key] {
        case .float(let v): v
        case .int(let v): Float(v)
        default: nil
        }
    }

    public func float(_ key: String, default d: Float) -> Float { float(key) ?? d }

    public func string(_ key: String) -> String? {
        if case .string(let v) = storage[key] { return v }
        return nil
    }

    public func ints(_ key: String) -> [Int]? {
        switch storage[key] {
        case .ints(let v): v
        case .int(let v): [v]
        case .floats(let v) where v.isEmpty: []
        default: nil
        }
    }

    /// Float lists; an empty list may have been parsed as ints (`[]` has no element type).
    public func floats(_ key: String) -> [Float]? {
        switch storage[key] {
        case .floats(let v): v
        case .ints(let v): v.map(Float.init)
        case .float(let v): [v]
        default: nil
        }
    }

    public func strings(_ key: String) -> [String]? {
        switch storage[key] {
        case .strings(let v): v
        case .string(let v): [v]
        case .ints(let v) where v.isEmpty: []
        default: nil
        }
    }

    /// `{a=1, b="x"}`, or the empty string when there are none.
    public var description: String {
        if storage.isEmpty { return "" }
        return "{" + sortedKeys.map { "\($0)=\(storage[$0]!)" }.joined(separator: ", ") + "}"
    }
}
