/// The text form of a graph: the contract between passes, tests and users
/// (`visionc compile --dump-ir`). Stable (attributes sorted, one node a line) and
/// parsed back to the same graph by `IRParser`. Weights print as `@name` references.
///
/// ```
/// graph classify(%image: u8[?n]) {
///   %decode : u8[?h,?w,3] HWC = decode_jpeg(%image) {color="rgb"}
///   %conv1.w : f32[64,3,7,7] = const @conv1.w
///   %values : f32[1,5], %indices : i64[1,5] = topk(%probs) {axis=-1, k=5}
///   return %values, %indices
/// }
/// ```
public enum IRPrinter {
    public static func print(_ g: Graph) -> String {
        var out = "graph \(g.name)("
        out += g.inputs.map { "%\(g[$0].name): \(g[$0].type)" }.joined(separator: ", ")
        out += ") {\n"
        for node in g.nodes {
            out += "  " + line(node, in: g) + "\n"
        }
        out += "  return " + g.outputs.map { "%" + g[$0].name }.joined(separator: ", ") + "\n}\n"
        return out
    }

    /// One node as it appears in the text form.
    public static func line(_ node: Node, in g: Graph) -> String {
        var s = node.outputs.map { "%\(g[$0].name) : \(g[$0].type)" }.joined(separator: ", ")
        s += " = " + node.op.rawValue
        if let weight = node.weight {
            s += " @" + weight
        } else {
            s += "(" + node.inputs.map { "%" + g[$0].name }.joined(separator: ", ") + ")"
        }
        if !node.attributes.isEmpty { s += " " + node.attributes.description }
        return s
    }
}

extension Graph: CustomStringConvertible {
    public var description: String { IRPrinter.print(self) }
}
