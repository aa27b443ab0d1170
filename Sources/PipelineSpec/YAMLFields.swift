import Yams

/// Reads typed values out of a composed YAML tree. Every mismatch becomes a `SpecError`
/// at the position of the offending key or value, phrased as "<field> is <what was
/// written>; expected <what is valid>".
struct SpecReader {
    let file: String

    func location(of node: Node) -> SourceLocation {
        // Nodes composed from text always carry a mark; the fallback only serves
        // hand-built trees.
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    func error(at node: Node, found: String, expected: String, suggestion: String? = nil) -> SpecError {
        SpecError(at: location(of: node), found: found, expected: expected, suggestion: suggestion)
    }

    /// How a value appears in a message: short, and telling a quoted string from a number.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            if isNull(node) { return "empty" }
            let text = scalar.string.count > 40 ? scalar.string.prefix(40) + "…" : scalar.string
            return scalar.style == .plain ? "'\(text)'" : "the quoted string '\(text)'"
        case .mapping(let mapping):
            return mapping.isEmpty ? "an empty mapping" : "a mapping"
        case .sequence(let sequence):
            switch sequence.count {
            case 0: return "an empty list"
            case 1: return "a list of 1 item"
            default: return "a list of \(sequence.count) items"
            }
        case .alias:
            return "an alias"
        }
    }

    /// `key:` with nothing after it, `~` or `null`.
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The keys of a mapping, checked against the keys its owner accepts.
    /// - Parameters:
    ///   - owner: how messages name the mapping, e.g. `node 'resize'` or `topk`.
    ///   - shape: what `node` must be when it is not a mapping at all.
    ///   - missingKeyLocation: where a missing required key is reported; defaults to where
    ///     the mapping starts.
    func fields(
        of node: Node, owner: String, allowedKeys: [String], shape: String,
        missingKeyLocation: SourceLocation? = nil
    ) throws(SpecError) -> Fields {
        guard case .mapping(let mapping) = node else {
            throw error(at: node, found: "\(owner) is \(Self.describe(node))", expected: shape)
        }
        var entries: [Fields.Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode, !Self.isNull(keyNode) else {
                throw error(
                    at: keyNode, found: "\(Self.describe(keyNode)) as a key in \(owner)",
                    expected: "a key name")
            }
            let key = keyScalar.string
            guard allowedKeys.contains(key) else {
                throw error(
                    at: keyNode, found: "unknown key '\(key)' in \(owner)",
                    expected: "one of \(allowedKeys.joined(separator: ", "))",
                    suggestion: closestName(to: key, among: allowedKeys))
            }
            entries.append(Fields.Entry(key: key, keyNode: keyNode, value: value))
        }
        return Fields(
            owner: owner, location: missingKeyLocation ?? location(of: node), entries: entries, reader: self)
    }

    func string(_ node: Node, _ what: String, expected: String = "a string") throws(SpecError) -> String {
        guard case .scalar(let scalar) = node, !Self.isNull(node) else {
            throw error(at: node, found: "\(what) is \(Self.describe(node))", expected: expected)
        }
        return scalar.string
    }

    /// A name that references can use: `[A-Za-z_][A-Za-z0-9_]*`.
    func identifier(_ node: Node, _ what: String) throws(SpecError) -> String {
        let expected = "a name of letters, digits and '_' that does not start with a digit"
        let text = try string(node, what, expected: expected)
        guard Self.isIdentifier(text) else {
            throw error(at: node, found: "\(what) is \(Self.describe(node))", expected: expected)
        }
        return text
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCIILetterOrUnderscore else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCIILetterOrUnderscore || ("0"..."9").contains($0) }
    }

    /// A plain (unquoted) integer scalar that satisfies `isValid`.
    /// - Parameter expected: the whole valid range in words, e.g. `an integer > 0`.
    func int(
        _ node: Node, _ what: String, expected: String = "an integer", where isValid: (Int) -> Bool = { _ in true }
    ) throws(SpecError) -> Int {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Int(scalar.string),
            isValid(value)
        else {
            throw error(at: node, found: "\(what) is \(Self.describe(node))", expected: expected)
        }
        return value
    }

    /// A plain (unquoted) finite number that satisfies `isValid`.
    func double(
        _ node: Node, _ what: String, expected: String = "a number", where isValid: (Double) -> Bool = { _ in true }
    ) throws(SpecError) -> Double {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Double(scalar.string),
            value.isFinite, isValid(value)
        else {
            throw error(at: node, found: "\(what) is \(Self.describe(node))", expected: expected)
        }
        return value
    }

    /// One of the raw values of `Choice`, with a suggestion for a near miss.
    func choice<Choice: CaseIterable & RawRepresentable<String>>(
        _ node: Node, _ what: String, as _: Choice.Type = Choice.self
    ) throws(SpecError) -> Choice {
        let names = Choice.allCases.map(\.rawValue)
        let expected = "one of \(names.joined(separator: ", "))"
        let text = try string(node, what, expected: expected)
        guard let value = Choice(rawValue: text) else {
            throw error(
                at: node, found: "\(what) is \(Self.describe(node))", expected: expected,
                suggestion: closestName(to: text, among: names))
        }
        return value
    }

    /// The items of a list; `expected` describes the whole list, e.g. `a list of node names`.
    func list(_ node: Node, _ what: String, expected: String) throws(SpecError) -> [Node] {
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            throw error(at: node, found: "\(what) is \(Self.describe(node))", expected: expected)
        }
        return Array(sequence)
    }

    /// The items of a list with exactly `count` items.
    func list(_ node: Node, _ what: String, count: Int, expected: String) throws(SpecError) -> [Node] {
        guard case .sequence(let sequence) = node, sequence.count == count else {
            throw error(at: node, found: "\(what) is \(Self.describe(node))", expected: expected)
        }
        return Array(sequence)
    }
}

/// The entries of one YAML mapping after its keys were checked, in document order.
struct Fields {
    struct Entry {
        let key: String
        let keyNode: Node
        let value: Node
    }

    /// How messages name the mapping, e.g. `node 'resize'` or `topk`.
    let owner: String
    /// Where a missing required key is reported.
    let location: SourceLocation
    let entries: [Entry]
    let reader: SpecReader

    /// A mapping with no entries, for an op written without arguments (`- softmax`).
    static func empty(owner: String, at location: SourceLocation, reader: SpecReader) -> Fields {
        Fields(owner: owner, location: location, entries: [], reader: reader)
    }

    subscript(key: String) -> Node? {
        entries.first { $0.key == key }?.value
    }

    func keyNode(_ key: String) -> Node? {
        entries.first { $0.key == key }?.keyNode
    }

    /// How messages name the value of `key`, e.g. `'k' of topk`.
    func label(_ key: String) -> String {
        "'\(key)' of \(owner)"
    }

    /// - Parameter expected: what the value must be, e.g. `an integer > 0`.
    func required(_ key: String, expected: String) throws(SpecError) -> Node {
        guard let value = self[key] else { throw missing(key, expected: expected) }
        return value
    }

    func missing(_ key: String, expected: String) -> SpecError {
        SpecError(at: location, found: "\(owner) has no '\(key)'", expected: "'\(key)': \(expected)")
    }

    /// The choice under `key`; `defaultValue` when the key is absent, and required when
    /// there is no default.
    func choice<Choice: CaseIterable & RawRepresentable<String>>(
        _ key: String, default defaultValue: Choice? = nil
    ) throws(SpecError) -> Choice {
        guard let node = self[key] else {
            if let defaultValue { return defaultValue }
            throw missing(key, expected: "one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return try reader.choice(node, label(key))
    }

    /// The integer under `key`; `defaultValue` when the key is absent, and required when
    /// there is no default.
    func int(
        _ key: String, default defaultValue: Int? = nil, expected: String = "an integer",
        where isValid: (Int) -> Bool = { _ in true }
    ) throws(SpecError) -> Int {
        guard let node = self[key] else {
            if let defaultValue { return defaultValue }
            throw missing(key, expected: expected)
        }
        return try reader.int(node, label(key), expected: expected, where: isValid)
    }

    /// The number under `key`, or `defaultValue` when the key is absent.
    func double(
        _ key: String, default defaultValue: Double, expected: String = "a number",
        where isValid: (Double) -> Bool = { _ in true }
    ) throws(SpecError) -> Double {
        guard let node = self[key] else { return defaultValue }
        return try reader.double(node, label(key), expected: expected, where: isValid)
    }

    /// The string under `key`, or `defaultValue` when the key is absent.
    func string(_ key: String, default defaultValue: String) throws(SpecError) -> String {
        guard let node = self[key] else { return defaultValue }
        return try reader.string(node, label(key))
    }

    /// An error for two keys that exclude each other, reported at the later of them.
    func conflict(_ first: String, _ second: String, expected: String) -> SpecError? {
        guard let firstIndex = entries.firstIndex(where: { $0.key == first }),
            let secondIndex = entries.firstIndex(where: { $0.key == second })
        else { return nil }
        return reader.error(
            at: entries[max(firstIndex, secondIndex)].keyNode, found: "\(owner) has both '\(first)' and '\(second)'",
            expected: expected)
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetterOrUnderscore: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || self == "_"
    }
}
