/// Checks the invariants every pass must keep: SSA (each value defined once, before its
/// uses), weights present with their declared types, result types equal to what shape
/// inference derives, and graph outputs defined. Runs after every pass in tests and with
/// `--verify-each`.
public enum Verifier {
    public static func verify(_ g: Graph) throws {
        var defined = Set(g.inputs)
        guard defined.count == g.inputs.count else { throw IRError.verification("a graph input is listed twice") }
        for (index, node) in g.nodes.enumerated() {
            let where_ = "node \(index) (\(IRPrinter.line(node, in: g)))"
            for input in node.inputs where !defined.contains(input) {
                throw IRError.verification("\(where_) uses \(input.index < g.values.count ? "%" + g[input].name : "\(input)") before it is defined")
            }
            for output in node.outputs {
                guard output.index < g.values.count, defined.insert(output).inserted else {
                    throw IRError.verification("\(where_) redefines a value")
                }
            }
            if node.op == .const {
                guard let name = node.weight, let t = g.weights[name] else {
                    throw IRError.verification("\(where_) references a missing weight")
                }
                let declared = g.type(of: node.outputs[0])
                guard node.inputs.isEmpty, node.outputs.count == 1, t.dtype == declared.dtype, t.shape == declared.knownShape else {
                    throw IRError.verification("\(where_): weight is \(t.dtype)\(t.shape), declared \(declared)")
                }
                continue
            }
            guard node.weight == nil else { throw IRError.verification("\(where_): only const nodes reference weights") }
            if let act = node.attributes.string("activation") {
                guard node.op.acceptsFusedActivation, FusedActivation(rawValue: act) != nil else {
                    throw IRError.verification("\(where_): activation '\(act)' not allowed here")
                }
            }
            if node.attributes["epilogue"] != nil {
                guard node.op == .conv, node.attributes.epilogue != nil else {
                    throw IRError.verification("\(where_): an epilogue is a conv's list of steps (add(s), sub(s), rsub(s), mul(s), div(s), relu, clip(lo,hi), save, mul_saved)")
                }
            }
            let inferred: [TensorType]
            do {
                inferred = try g.inferTypes(op: node.op, inputs: node.inputs, attributes: node.attributes)
            } catch {
                throw IRError.verification("\(where_): \(error)")
            }
            guard inferred.count == node.outputs.count else {
                throw IRError.verification("\(where_): has \(node.outputs.count) results, op gives \(inferred.count)")
            }
            for (t, out) in zip(inferred, node.outputs) where !compatible(declared: g.type(of: out), inferred: t) {
                throw IRError.verification("\(where_): result %\(g[out].name) declared \(g.type(of: out)), inferred \(t)")
            }
        }
        for output in g.outputs where !defined.contains(output) {
            throw IRError.verification("graph output \(output) is not defined")
        }
        for name in g.weights.keys where !g.nodes.contains(where: { $0.weight == name }) {
            throw IRError.verification("weight @\(name) is not referenced by any const node")
        }
    }

    /// Equal dtype, layout, placement and rank; dims equal where both are known. A symbolic
    /// dim stands for a size known only per request, so it matches any dim of the other side.
    static func compatible(declared: TensorType, inferred: TensorType) -> Bool {
        guard declared.dtype == inferred.dtype, declared.layout == inferred.layout,
              declared.rank == inferred.rank else { return false }
        return zip(declared.shape, inferred.shape).allSatisfy { d, i in
            guard let dv = d.value, let iv = i.value else { return true }
            return dv == iv
        }
    }
}

/// Activations a conv, gemm or add can apply in its epilogue (`activation` attribute);
/// `clip` reads `clip_min` / `clip_max`.
public enum FusedActivation: String, Sendable, CaseIterable {
    case relu, clip
}
