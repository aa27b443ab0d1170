import IR

/// Movement and shape ops: the data is not changed, only how it is laid out or described.
extension OpConverters {
    static func flatten(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...1)
        let x = try importer.input(node, 0)
        let axis = try node.int("axis", default: 1)
        return [try importer.emit(.flatten, [x], ["axis": .int(axis)], name: node.resultName)]
    }

    static func concat(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...Int.max)
        guard let axis = try node.int("axis") else {
            throw ONNXImportError(.unsupportedAttribute(name: "axis", "is required"))
        }
        let inputs = try node.proto.input.indices.map { try importer.input(node, $0) }
        // IR shape inference indexes every operand at `axis`; operands of unequal rank must not reach it.
        let types = inputs.map(importer.graph.type(of:))
        if let odd = types.firstIndex(where: { $0.rank != types[0].rank || $0.dtype != types[0].dtype }) {
            throw ONNXImportError(.unsupportedInput(index: odd, "\(types[odd]) cannot be concatenated with \(types[0])"))
        }
        return [try importer.emit(.concat, inputs, ["axis": .int(axis)], name: node.resultName)]
    }

    static func transpose(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...1)
        let x = try importer.input(node, 0)
        var attributes = Attributes()
        if let perm = try node.ints("perm") { attributes["perm"] = .ints(perm) }
        return [try importer.emit(.transpose, [x], attributes, name: node.resultName)]
    }

    /// The target shape stays an operand (constant folding resolves it, or the import when
    /// it follows from constants); before opset 5 it was an attribute, which becomes a
    /// constant operand here.
    static func reshape(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(importer.opset < 5 ? 1...1 : 2...2)
        let x = try importer.input(node, 0)
        var target: ValueID
        if importer.opset < 5 {
            guard let dims = try node.ints("shape") else {
                throw ONNXImportError(.unsupportedAttribute(name: "shape", "is required before opset 5"))
            }
            target = importer.graph.addConstant(
                name: node.resultName + "_shape", tensor: Tensor(shape: [dims.count], int64s: dims.map(Int64.init)))
        } else {
            target = try importer.input(node, 1)
            // A target computed from constants and known shapes (RotaryEmbedding's Concat of
            // constants) is folded now, so the result's dims are known to the converters after
            // it: Split needs its axis extent.
            if importer.graph.constantValue(of: target) == nil, let known = importer.graph.knownValue(of: target) {
                target = importer.graph.addConstant(name: node.resultName + "_shape", tensor: known)
            }
        }
        // Shape inference multiplies the target dims; a corrupt target must not overflow it.
        if let dims = importer.graph.constantValue(of: target)?.integers {
            guard dims.allSatisfy({ $0 >= -1 }) else {
                throw ONNXImportError(.unsupportedInput(index: 1, "target shape \(dims) has a dim below -1"))
            }
            _ = try TensorDecoding.elementCount(dims.filter { $0 > 0 }.map(Int64.init), tensor: node.proto.input.last ?? "")
        }
        var attributes = Attributes()
        if try node.int("allowzero", default: 0) != 0 { attributes["allowzero"] = .int(1) }
        return [try importer.emit(.reshape, [x, target], attributes, name: node.resultName)]
    }

    /// Unsqueeze needs its axes; they are an attribute before opset 13 and an operand since.
    static func unsqueeze(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...2)
        let x = try importer.input(node, 0)
        guard let axes = try axes(&importer, node) else {
            throw ONNXImportError(.unsupportedAttribute(name: "axes", "is required"))
        }
        return [try importer.emit(.unsqueeze, [x], ["axes": .ints(axes)], name: node.resultName)]
    }

    /// Squeeze without axes drops every dimension of extent 1.
    static func squeeze(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...2)
        let x = try importer.input(node, 0)
        var attributes = Attributes()
        if let axes = try axes(&importer, node) { attributes["axes"] = .ints(axes) }
        return [try importer.emit(.squeeze, [x], attributes, name: node.resultName)]
    }

    /// The `axes` attribute, or the constant second operand that replaced it in opset 13.
    private static func axes(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [Int]? {
        if let axes = try node.ints("axes") { return axes }
        return try importer.constantInput(node, 1, role: "axes")?.integers
    }

    /// Shape of the input; the opset-15 `start` / `end` (clamped like Slice's) become a slice of it.
    static func shape(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...1)
        let x = try importer.input(node, 0)
        let start = try node.int("start", default: 0), end = try node.int("end")
        guard start != 0 || end != nil else { return [try importer.emit(.shape, [x], name: node.resultName)] }
        let dims = try importer.emit(.shape, [x], name: node.resultName + "_all")
        let attributes: Attributes = ["starts": .ints([start]), "ends": .ints([end ?? Int(Int64.max)])]
        return [try importer.emit(.slice, [dims], attributes, name: node.resultName)]
    }
}

extension OpConverters {
    /// Split into one `slice` per output along `axis`: by the `split` sizes (an attribute
    /// before opset 13, a constant operand since), else into equal parts (`num_outputs` since
    /// opset 18, the last part smaller when the extent does not divide).
    static func split(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...2)
        let x = try importer.input(node, 0)
        let type = importer.graph.type(of: x)
        let rawAxis = try node.int("axis", default: 0)
        guard (-type.rank..<type.rank).contains(rawAxis) else {
            throw ONNXImportError(.unsupportedAttribute(name: "axis", "\(rawAxis) is outside the rank \(type.rank) of \(type)"))
        }
        let axis = rawAxis < 0 ? rawAxis + type.rank : rawAxis
        guard let extent = type.shape[axis].value else {
            throw ONNXImportError(.unsupportedInput(index: 0, "the split axis \(axis) of \(type) must have a known extent"))
        }
        let outputs = node.proto.output.count
        let sizes: [Int]
        if let given = try node.ints("split") ?? importer.constantInput(node, 1, role: "split")?.integers {
            sizes = given
        } else {
            let parts = try node.int("num_outputs") ?? outputs
            guard parts > 0 else { throw ONNXImportError(.unsupportedAttribute(name: "num_outputs", "must be at least 1")) }
            let size = (extent + parts - 1) / parts
            sizes = (0..<parts).map { min(size, max(0, extent - $0 * size)) }
        }
        guard sizes.count == outputs, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == extent else {
            throw ONNXImportError(.invalidNode("split sizes \(sizes) must be \(outputs) sizes ≥ 0 adding up to the axis extent \(extent)"))
        }
        var start = 0
        return try zip(sizes, node.proto.output).map { size, output in
            defer { start += size }
            let attributes: Attributes = ["starts": .ints([start]), "ends": .ints([start + size]), "axes": .ints([axis])]
            return try importer.emit(.slice, [x], attributes, name: output.isEmpty ? "\(node.resultName).\(start)" : output)
        }
    }
}
