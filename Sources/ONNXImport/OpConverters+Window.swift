import IR

/// Sliding-window ops (Conv, MaxPool, AveragePool). The IR takes explicit `pads`
/// [top, left, bottom, right]; ONNX's `auto_pad` is resolved to them here.
extension OpConverters {
    static func conv(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(2...3)
        let x = try importer.input(node, 0)
        let weight = try importer.input(node, 1)
        let bias = try importer.optionalInput(node, 2)
        let weightType = importer.graph.type(of: weight)
        guard weightType.rank == 4 else {
            throw ONNXImportError(.unsupportedInput(index: 1, "only 2-D convolution is supported; weight is \(weightType)"))
        }
        let weightKernel = weightType.knownShape.map { Array($0[2...]) }
        // kernel_shape is redundant with the weight's dims; it is only checked against them.
        var kernel = weightKernel
        if let declared = try node.ints("kernel_shape") {
            guard declared.count == 2, declared.allSatisfy({ (1...maxWindowValue).contains($0) }) else {
                throw ONNXImportError(.unsupportedAttribute(name: "kernel_shape", "expected 2 positive sizes, found \(declared)"))
            }
            if let weightKernel, weightKernel != declared {
                throw ONNXImportError(.unsupportedAttribute(name: "kernel_shape", "\(declared) does not match the weight \(weightType)"))
            }
            kernel = declared
        }
        var attributes = try windowAttributes(node, input: importer.graph.type(of: x), kernel: kernel)
        let group = try node.int("group", default: 1)
        guard (1...maxWindowValue).contains(group) else {
            throw ONNXImportError(.unsupportedAttribute(name: "group", "expected a positive group count, found \(group)"))
        }
        if group != 1 { attributes["group"] = .int(group) }
        return [try importer.emit(.conv, [x, weight] + (bias.map { [$0] } ?? []), attributes, name: node.resultName)]
    }

    static func maxPool(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        if try node.int("storage_order", default: 0) != 0 {
            throw ONNXImportError(.unsupportedAttribute(name: "storage_order", "only row-major (0) is supported"))
        }
        return try pool(.maxPool, &importer, node, extraFlags: [])
    }

    static func averagePool(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try pool(.averagePool, &importer, node, extraFlags: ["count_include_pad"])
    }

    /// Pools carry `kernel_shape`, the window attributes, `ceil_mode`, and the op's own 0/1
    /// flags, each kept only when set.
    private static func pool(_ op: Op, _ importer: inout ModelImporter, _ node: ONNXNode, extraFlags: [String]) throws -> [ValueID] {
        try node.expectInputs(1...1)
        let x = try importer.input(node, 0)
        guard let kernel = try node.ints("kernel_shape") else {
            throw ONNXImportError(.unsupportedAttribute(name: "kernel_shape", "is required"))
        }
        guard kernel.count == 2, kernel.allSatisfy({ (1...maxWindowValue).contains($0) }) else {
            throw ONNXImportError(.unsupportedAttribute(name: "kernel_shape", "expected 2 positive sizes, found \(kernel)"))
        }
        var attributes = try windowAttributes(node, input: importer.graph.type(of: x), kernel: kernel)
        attributes["kernel_shape"] = .ints(kernel)
        for flag in ["ceil_mode"] + extraFlags where try node.int(flag, default: 0) != 0 {
            attributes[flag] = .int(1)
        }
        return [try importer.emit(op, [x], attributes, name: node.resultName)]
    }

    /// Bound on strides, dilations, pads, kernel sizes and groups, so that the window
    /// arithmetic of shape inference cannot overflow on a corrupt file.
    static let maxWindowValue = Int(Int32.max)

    /// `strides`, `dilations` and `pads` (with `auto_pad` resolved), each kept only when not
    /// the default. SAME padding needs the kernel; over spatial dims known only per request it
    /// stays `auto_pad`, resolved when a plan is built.
    static func windowAttributes(_ node: ONNXNode, input: TensorType, kernel: [Int]?) throws -> Attributes {
        guard input.rank == 4 else {
            throw ONNXImportError(.unsupportedInput(index: 0, "only 2-D windows over N,C,H,W inputs are supported, found \(input)"))
        }
        let strides = try node.ints("strides") ?? [1, 1]
        let dilations = try node.ints("dilations") ?? [1, 1]
        var pads = try node.ints("pads") ?? [0, 0, 0, 0]
        for (key, values, count, least) in [("strides", strides, 2, 1), ("dilations", dilations, 2, 1), ("pads", pads, 4, 0)] {
            guard values.count == count, values.allSatisfy({ (least...maxWindowValue).contains($0) }) else {
                throw ONNXImportError(.unsupportedAttribute(name: key, "expected \(count) values ≥ \(least), found \(values)"))
            }
        }
        let autoPad = try node.string("auto_pad") ?? "NOTSET"
        switch autoPad {
        case "NOTSET":
            break
        case "VALID":
            pads = [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            guard let kernel else {
                throw ONNXImportError(.unsupportedAttribute(name: "auto_pad", "\(autoPad) needs a known kernel"))
            }
            guard let spatial = input.shape.dropFirst(2).map(\.value) as [Int?] as? [Int] else {
                // The input's size is known per request only: the IR keeps `auto_pad`, and each
                // plan resolves it for the size it is built for (`ShapeInference.windowPads`).
                var attributes = Attributes(["auto_pad": .string(autoPad)])
                if strides != [1, 1] { attributes["strides"] = .ints(strides) }
                if dilations != [1, 1] { attributes["dilations"] = .ints(dilations) }
                return attributes
            }
            pads = ShapeInference.samePads(input: spatial, kernel: kernel, strides: strides, dilations: dilations, upper: autoPad == "SAME_UPPER")
        default:
            throw ONNXImportError(.unsupportedAttribute(name: "auto_pad", "expected NOTSET, VALID, SAME_UPPER or SAME_LOWER, found \(autoPad)"))
        }
        var attributes = Attributes()
        if strides != [1, 1] { attributes["strides"] = .ints(strides) }
        if dilations != [1, 1] { attributes["dilations"] = .ints(dilations) }
        if pads != [0, 0, 0, 0] { attributes["pads"] = .ints(pads) }
        return attributes
    }
}
