/// Parses the text form printed by `IRPrinter` back into a `Graph`.
///
/// Weights are referenced by name; their data comes from `weights`. With
/// `synthesizeMissingWeights`, a referenced f32 weight that is absent gets deterministic
/// values in [0.1, 1.0] derived from its name (for golden tests written by hand).
public struct IRParser {
    public static func parse(
        _ text: String, weights: [String: Tensor] = [:], synthesizeMissingWeights: Bool = false
    ) throws -> Graph {
        var p = IRParser(text: text, weights: weights, synthesize: synthesizeMissingWeights)
        return try p.parseGraph()
    }

    private var lexer: Lexer
    private let weights: [String: Tensor]
    private let synthesize: Bool
    private var graph = Graph(name: "")
    private var scope: [String: ValueID] = [:]

    private init(text: String, weights: [String: Tensor], synthesize: Bool) {
        lexer = Lexer(text)
        self.weights = weights
        self.synthesize = synthesize
    }

    private mutating func parseGraph() throws -> Graph {
        try expectWord("graph")
        graph = Graph(name: try identifier("graph name"))
        try expect("(")
        if !(try peekIs(")")) {
            repeat {
                let name = try valueName()
                try expect(":")
                let type = try parseType()
                let id = graph.addInput(name: name, type: type)
                try bind(name, id)
            } while try consumeIf(",")
        }
        try expect(")")
        try expect("{")
        while true {
            if try peekWord("return") {
                _ = try lexer.next()
                var outs: [ValueID] = []
                repeat { outs.append(try use()) } while try consumeIf(",")
                graph.outputs = outs
                try expect("}")
                break
            }
            try parseNode()
        }
        let trailing = try lexer.next()
        guard trailing.kind == .end else { throw error(trailing, "expected end of input after '}'") }
        return graph
    }

    private mutating func parseNode() throws {
        var results: [(name: String, type: TensorType)] = []
        repeat {
            let name = try valueName()
            try expect(":")
            results.append((name, try parseType()))
        } while try consumeIf(",")
        try expect("=")
        let opToken = try lexer.next()
        guard opToken.kind == .word, let op = Op(rawValue: opToken.text) else {
            throw error(opToken, "unknown op '\(opToken.text)'")
        }
        var inputs: [ValueID] = []
        var weight: String?
        if op == .const {
            let ref = try lexer.next()
            guard ref.kind == .weight else { throw error(ref, "expected a weight reference '@name' after const") }
            weight = ref.text
            guard results.count == 1 else { throw error(ref, "const has exactly one result") }
            try attachWeight(ref, type: results[0].type)
        } else {
            try expect("(")
            if !(try peekIs(")")) {
                repeat { inputs.append(try use()) } while try consumeIf(",")
            }
            try expect(")")
        }
        var attributes = Attributes()
        if try consumeIf("{") {
            repeat {
                let key = try identifier("attribute name")
                try expect("=")
                attributes[key] = try attributeValue()
            } while try consumeIf(",")
            try expect("}")
        }
        let ids = graph.append(op, inputs, attributes: attributes, results: results, weight: weight)
        for (i, r) in results.enumerated() {
            guard graph[ids[i]].name == r.name else {
                throw IRError.parse(line: opToken.line, column: opToken.column, "value %\(r.name) is defined twice")
            }
            try bind(r.name, ids[i])
        }
    }

    private mutating func attachWeight(_ ref: Token, type: TensorType) throws {
        if let t = weights[ref.text] {
            guard t.dtype == type.dtype, t.shape == type.knownShape else {
                throw error(ref, "weight @\(ref.text) is \(t.dtype)\(t.shape), declared \(type)")
            }
            graph.weights[ref.text] = t
            return
        }
        guard synthesize, type.dtype == .f32, let shape = type.knownShape else {
            throw error(ref, "no data for weight @\(ref.text)")
        }
        graph.weights[ref.text] = IRParser.synthesizedWeight(name: ref.text, shape: shape)
    }

    /// Deterministic stand-in weight: FNV-1a of the name seeds an LCG.
    static func synthesizedWeight(name: String, shape: [Int]) -> Tensor {
        var state = fnv1a64(name.utf8)
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values[i] = 0.1 + 0.9 * Float(state >> 40) / Float(1 << 24)
        }
        return Tensor(shape: shape, floats: values)
    }

    // MARK: - Types and attributes

    private mutating func parseType() throws -> TensorType {
        let dt = try lexer.next()
        guard dt.kind == .word, let dtype = DType(rawValue: dt.text) else { throw error(dt, "expected a dtype (\(DType.allCases.map(\.rawValue).joined(separator: ", ")))") }
        try expect("[")
        var dims: [Dim] = []
        if !(try peekIs("]")) {
            repeat {
                let t = try lexer.next()
                switch t.kind {
                case .integer:
                    guard let v = Int(t.text), v >= 0 else { throw error(t, "bad dimension \(t.text)") }
                    dims.append(.known(v))
                case .symbol: dims.append(.symbol(t.text))
                default: throw error(t, "expected a dimension (integer or ?name)")
                }
            } while try consumeIf(",")
        }
        try expect("]")
        var type = TensorType(dtype, dims)
        if case let t = try lexer.peek(), t.kind == .word, let layout = Layout(rawValue: t.text), layout != .none {
            _ = try lexer.next()
            type.layout = layout
        }
        if try peekWord("on") {
            _ = try lexer.next()
            let t = try lexer.next()
            guard let placement = Placement(rawValue: t.text) else { throw error(t, "expected a placement (host, accel)") }
            type.placement = placement
        }
        return type
    }

    private mutating func attributeValue() throws -> Attribute {
        let t = try lexer.next()
        switch t.kind {
        case .integer: return .int(Int(t.text)!)
        case .float: return .float(try float(t))
        case .string: return .string(t.text)
        case .punct where t.text == "[":
            if try consumeIf("]") { return .ints([]) }
            var items: [Token] = []
            repeat { items.append(try lexer.next()) } while try consumeIf(",")
            try expect("]")
            if items.allSatisfy({ $0.kind == .integer }) { return .ints(items.map { Int($0.text)! }) }
            if items.allSatisfy({ $0.kind == .integer || $0.kind == .float }) { return .floats(try items.map(float)) }
            if items.allSatisfy({ $0.kind == .string }) { return .strings(items.map(\.text)) }
            throw error(t, "a list holds ints, floats or strings, not a mix")
        default:
            throw error(t, "expected an attribute value")
        }
    }

    private func float(_ t: Token) throws -> Float {
        switch t.text {
        case "inf": return .infinity
        case "-inf": return -.infinity
        case "nan": return .nan
        default:
            guard let v = Float(t.text) else { throw error(t, "bad number \(t.text)") }
            return v
        }
    }

    // MARK: - Names

    private mutating func valueName() throws -> String {
        let t = try lexer.next()
        guard t.kind == .value else { throw error(t, "expected a value name '%name'") }
        return t.text
    }

    private mutating func use() throws -> ValueID {
        let t = try lexer.next()
        guard t.kind == .value else { throw error(t, "expected a value '%name'") }
        guard let id = scope[t.text] else { throw error(t, "use of undefined value %\(t.text)") }
        return id
    }

    private mutating func bind(_ name: String, _ id: ValueID) throws {
        guard scope[name] == nil, graph[id].name == name else {
            throw IRError.parse(line: 0, column: 0, "value %\(name) is defined twice")
        }
        scope[name] = id
    }

    private mutating func identifier(_ what: String) throws -> String {
        let t = try lexer.next()
        guard t.kind == .word else { throw error(t, "expected \(what)") }
        return t.text
    }

    // MARK: - Token helpers

    private mutating func expect(_ p: String) throws {
        let t = try lexer.next()
        guard t.kind == .punct, t.text == p else { throw error(t, "expected '\(p)'") }
    }

    private mutating func expectWord(_ w: String) throws {
        let t = try lexer.next()
        guard t.kind == .word, t.text == w else { throw error(t, "expected '\(w)'") }
    }

    private mutating func consumeIf(_ p: String) throws -> Bool {
        guard try peekIs(p) else { return false }
        _ = try lexer.next()
        return true
    }

    private mutating func peekIs(_ p: String) throws -> Bool {
        let t = try lexer.peek()
        return t.kind == .punct && t.text == p
    }

    private mutating func peekWord(_ w: String) throws -> Bool {
        let t = try lexer.peek()
        return t.kind == .word && t.text == w
    }

    private func error(_ t: Token, _ message: String) -> IRError {
        let found = t.kind == .end ? "end of input" : "'\(t.text)'"
        return .parse(line: t.line, column: t.column, "\(message), found \(found)")
    }
}

// MARK: - Lexer

private struct Token {
    enum Kind { case word, value, weight, symbol, integer, float, string, punct, end }
    var kind: Kind
    var text: String
    var line: Int
    var column: Int
}

private struct Lexer {
    private let scalars: [Unicode.Scalar]
    private var pos = 0
    private var line = 1
    private var column = 1
    private var lookahead: Token?

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    mutating func peek() throws -> Token {
        if let t = lookahead { return t }
        let t = try scan()
        lookahead = t
        return t
    }

    mutating func next() throws -> Token {
        if let t = lookahead {
            lookahead = nil
            return t
        }
        return try scan()
    }

    private mutating func advance() -> Unicode.Scalar {
        let c = scalars[pos]
        pos += 1
        if c == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        return c
    }

    private func current() -> Unicode.Scalar? { pos < scalars.count ? scalars[pos] : nil }

    private mutating func scan() throws -> Token {
        while let c = current() {
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                _ = advance()
            } else if c == "#" {
                while let d = current(), d != "\n" { _ = advance() }
            } else {
                break
            }
        }
        let (l, col) = (line, column)
        guard let c = current() else { return Token(kind: .end, text: "", line: l, column: col) }
        func name() -> String {
            var s = ""
            while let d = current(), Graph.isNameScalar(d) { s.unicodeScalars.append(advance()) }
            return s
        }
        switch c {
        case "%", "@", "?":
            _ = advance()
            let n = name()
            if c != "?" && n.isEmpty { throw IRError.parse(line: l, column: col, "expected a name after '\(c)'") }
            return Token(kind: c == "%" ? .value : c == "@" ? .weight : .symbol, text: n, line: l, column: col)
        case "\"":
            _ = advance()
            var s = ""
            while true {
                guard let d = current() else { throw IRError.parse(line: l, column: col, "unterminated string") }
                _ = advance()
                if d == "\"" { break }
                if d == "\\" {
                    guard let e = current() else { throw IRError.parse(line: l, column: col, "unterminated string") }
                    _ = advance()
                    switch e {
                    case "n": s += "\n"
                    case "t": s += "\t"
                    default: s.unicodeScalars.append(e)
                    }
                } else {
                    s.unicodeScalars.append(d)
                }
            }
            return Token(kind: .string, text: s, line: l, column: col)
        case "(", ")", "{", "}", "[", "]", ",", ":", "=":
            _ = advance()
            return Token(kind: .punct, text: String(c), line: l, column: col)
        case "-", "0"..."9":
            var s = ""
            if c == "-" {
                s.unicodeScalars.append(advance())
                if current() == "i" {
                    let word = name()
                    guard word == "inf" else { throw IRError.parse(line: l, column: col, "bad number '-\(word)'") }
                    return Token(kind: .float, text: "-inf", line: l, column: col)
                }
            }
            while let d = current(), "0123456789+-.eE".unicodeScalars.contains(d) { s.unicodeScalars.append(advance()) }
            if Int(s) != nil { return Token(kind: .integer, text: s, line: l, column: col) }
            if Float(s) != nil { return Token(kind: .float, text: s, line: l, column: col) }
            throw IRError.parse(line: l, column: col, "bad number '\(s)'")
        default:
            if c.properties.isAlphabetic || c == "_" {
                let w = name()
                if w == "inf" || w == "nan" { return Token(kind: .float, text: w, line: l, column: col) }
                return Token(kind: .word, text: w, line: l, column: col)
            }
            throw IRError.parse(line: l, column: col, "unexpected character '\(c)'")
        }
    }
}
