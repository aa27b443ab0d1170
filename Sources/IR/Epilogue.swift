/// One elementwise step a conv applies to its result in its epilogue, after its own bias,
/// residual and `activation`: the conv's `epilogue` attribute lists them in order
/// (`fuse-epilogue` writes them). Each step is the op it replaced, with its scalar operand,
/// so the IR says what is computed and the runtime decides how (the native kernels' in-cache
/// program, oneDNN post-ops).
///
/// Text form (one string per step, for dumps and golden files): `add(s)`, `sub(s)` (v − s),
/// `rsub(s)` (s − v), `mul(s)`, `div(s)`, `relu`, `clip(lo,hi)`, `save` (remember v) and
/// `mul_saved` (saved × v: the gate of HardSwish spelled `x * clip(x + 3, 0, 6) / 6`).
public enum EpilogueStep: Hashable, Sendable, CustomStringConvertible {
    case add(Float)
    case sub(Float)
    case rsub(Float)
    case mul(Float)
    case div(Float)
    case relu
    case clip(lo: Float, hi: Float)
    case save
    case mulSaved

    public var description: String {
        switch self {
        case .add(let s): "add(\(Attribute.format(s)))"
        case .sub(let s): "sub(\(Attribute.format(s)))"
        case .rsub(let s): "rsub(\(Attribute.format(s)))"
        case .mul(let s): "mul(\(Attribute.format(s)))"
        case .div(let s): "div(\(Attribute.format(s)))"
        case .relu: "relu"
        case .clip(let lo, let hi): "clip(\(Attribute.format(lo)),\(Attribute.format(hi)))"
        case .save: "save"
        case .mulSaved: "mul_saved"
        }
    }

    /// Parses the text form; nil when `text` is not one.
    public init?(_ text: String) {
        switch text {
        case "relu": self = .relu; return
        case "save": self = .save; return
        case "mul_saved": self = .mulSaved; return
        default: break
        }
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else { return nil }
        let name = text[..<open]
        let arguments = text[text.index(after: open)..<text.index(before: text.endIndex)]
            .split(separator: ",", omittingEmptySubsequences: false).map { Self.float(String($0)) }
        guard !arguments.contains(where: { $0 == nil }) else { return nil }
        let values = arguments.compactMap { $0 }
        switch (name, values.count) {
        case ("add", 1): self = .add(values[0])
        case ("sub", 1): self = .sub(values[0])
        case ("rsub", 1): self = .rsub(values[0])
        case ("mul", 1): self = .mul(values[0])
        case ("div", 1): self = .div(values[0])
        case ("clip", 2): self = .clip(lo: values[0], hi: values[1])
        default: return nil
        }
    }

    /// Floats as `Attribute.format` prints them (including `inf`, `-inf`, `nan`).
    private static func float(_ text: String) -> Float? {
        switch text {
        case "inf": .infinity
        case "-inf": -.infinity
        case "nan": .nan
        default: Float(text)
        }
    }
}

extension Attributes {
    /// The `epilogue` attribute's steps: empty when absent, nil when a step does not parse.
    public var epilogue: [EpilogueStep]? {
        guard let texts = strings("epilogue") else { return self["epilogue"] == nil ? [] : nil }
        let steps = texts.compactMap(EpilogueStep.init)
        return steps.count == texts.count ? steps : nil
    }
}
