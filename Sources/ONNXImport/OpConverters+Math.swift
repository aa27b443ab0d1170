import IR

/// Converters of the ops real networks add to the classic CNN set: the MobileNetV3
/// activations, PRelu, Pow/Sqrt and ReduceMean (SVTR's LayerNorm), ConvTranspose and Resize
/// (DBNet's upsampling), Slice, Gather and Cast (shape arithmetic). Operands that decide
/// shapes (axes, starts/ends, scales/sizes) must be constants; they become IR attributes.
extension OpConverters {
    /// HardSigmoid keeps its `alpha`/`beta` (ONNX defaults 0.2 and 0.5).
    static func hardSigmoid(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...1)
        let x = try importer.input(node, 0)
        let attributes: Attributes = [
            "alpha": .float(try node.float("alpha", default: 0.2)), "beta": .float(try node.float("beta", default: 0.5)),
        ]
        return [try importer.emit(.hardSigmoid, [x], attributes, name: node.resultName)]
    }

    /// ConvTranspose with `output_shape` and `auto_pad` resolved into explicit pads, as the
    /// ONNX definition computes them from the total padding the output size implies. A 1-D one
    /// runs as 2-D over a unit axis, a 3-D one as two 2-D ones (see OpConverters+Window).
    static func convTranspose(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(2...3)
        let x = try importer.input(node, 0)
        let weight = try importer.input(node, 1)
        let bias = try importer.optionalInput(node, 2)
        let inputType = importer.graph.type(of: x), weightType = importer.graph.type(of: weight)
        let rank = weightType.rank - 2
        guard (1...3).contains(rank), inputType.rank == weightType.rank else {
            throw ONNXImportError(.unsupportedInput(
                index: 1, "expected a 1-D, 2-D or 3-D transposed convolution; input \(inputType), weight \(weightType)"))
        }
        let group = try node.int("group", default: 1)
        guard (1...maxWindowValue).contains(group) else {
            throw ONNXImportError(.unsupportedAttribute(name: "group", "expected a positive group count, found \(group)"))
        }
        let ones = Array(repeating: 1, count: rank), zeros = Array(repeating: 0, count: rank)
        let strides = try node.ints("strides") ?? ones
        let dilations = try node.ints("dilations") ?? ones
        let outputPadding = try node.ints("output_padding") ?? zeros
        var pads = try node.ints("pads") ?? zeros + zeros
        for (key, values, count, least) in [
            ("strides", strides, rank, 1), ("dilations", dilations, rank, 1), ("output_padding", outputPadding, rank, 0), ("pads", pads, 2 * rank, 0),
        ] {
            guard values.count == count, values.allSatisfy({ (least...maxWindowValue).contains($0) }) else {
                throw ONNXImportError(.unsupportedAttribute(name: key, "expected \(count) values ≥ \(least), found \(values)"))
            }
        }
        guard let kernel = try node.ints("kernel_shape") ?? weightType.knownShape.map({ Array($0[2...]) }) else {
            throw ONNXImportError(.unsupportedInput(index: 1, "the kernel size must be known; weight is \(weightType)"))
        }
        let autoPad = try node.string("auto_pad") ?? "NOTSET"
        guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPad) else {
            throw ONNXImportError(.unsupportedAttribute(name: "auto_pad", "expected NOTSET, VALID, SAME_UPPER or SAME_LOWER, found \(autoPad)"))
        }
        var outputShape = try node.ints("output_shape")
        if let shape = outputShape, shape.count == rank + 2 { outputShape = Array(shape[2...]) }
        if outputShape == nil, autoPad.hasPrefix("SAME") {
            outputShape = try (0..<rank).map { i in
                guard let n = inputType.shape[2 + i].value else {
                    throw ONNXImportError(.unsupportedAttribute(name: "auto_pad", "\(autoPad) needs known spatial dims; input is \(inputType)"))
                }
                return n * strides[i]
            }
        }
        if autoPad == "VALID" { pads = zeros + zeros }
        if let outputShape {
            guard outputShape.count == rank, kernel.count == rank else {
                throw ONNXImportError(.unsupportedAttribute(name: "output_shape", "expected \(rank) spatial sizes, found \(outputShape)"))
            }
            var begin: [Int] = [], end: [Int] = []
            for i in 0..<rank {
                guard let n = inputType.shape[2 + i].value else {
                    throw ONNXImportError(.unsupportedAttribute(name: "output_shape", "needs known spatial dims; input is \(inputType)"))
                }
                let total = strides[i] * (n - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - outputShape[i]
                // Floor division, as ONNX defines it: a negative total (an output_shape larger
                // than the window covers) pads the end, whose extra outputs hold the bias alone.
                let half = Int((Double(total) / 2).rounded(.down))
                begin.append(autoPad == "SAME_UPPER" ? half : total - half)
                end.append(autoPad == "SAME_UPPER" ? total - half : half)
            }
            pads = begin + end
        }
        let window = WindowAttributes(strides: strides, dilations: dilations, pads: pads)
        let name = node.resultName
        if rank == 3 {
            return [try convTranspose3d(x, weight, bias, window: window, outputPadding: outputPadding, group: group, &importer, name: name)]
        }
        var attributes = (rank == 1 ? window.insertingUnitAxis() : window).attributes
        // The unit axis of a 1-D one adds no output padding either.
        let padding = rank == 1 ? [0] + outputPadding : outputPadding
        if padding != [0, 0] { attributes["output_padding"] = .ints(padding) }
        if group != 1 { attributes["group"] = .int(group) }
        var operands = [x, weight]
        if rank == 1 {
            operands = try [unitAxis(x, &importer, name: name + "_2d"), unitAxis(weight, &importer, name: name + "_weight_2d")]
        }
        operands += bias.map { [$0] } ?? []
        guard rank == 1 else { return [try importer.emit(.convTranspose, operands, attributes, name: name)] }
        let result = try importer.emit(.convTranspose, operands, attributes, name: name + "_conv_transpose2d")
        return [try importer.emit(.squeeze, [result], ["axes": .ints([2])], name: name)]
    }

    /// Dropout at inference is the identity, its mask all true; training mode (an attribute
    /// before opset 12, a constant operand since) is not supported.
    static func dropout(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...3)
        let x = try importer.input(node, 0)
        let training = try importer.opset < 12
            ? node.int("is_test", default: 1) == 0 && importer.opset < 7
            : (importer.constantInput(node, 2, role: "training_mode")?.integers.first ?? 0) != 0
        if training {
            throw ONNXImportError(.unsupportedAttribute(name: "training_mode", "training-mode dropout is not supported; export the model for inference"))
        }
        let y = try importer.emit(.identity, [x], name: node.resultName)
        guard node.proto.output.count > 1, importer.isRead(node.proto.output[1]) else { return [y] }
        let name = node.proto.output[1]
        let shape = try importer.emit(.shape, [x], name: name + "_shape")
        return [y, try importer.emit(.constantOfShape, [shape], ["dtype": .string(DType.bool.rawValue), "value": .float(1)], name: name)]
    }

    /// MatMul with NumPy's 1-D rules: a 1-D left operand is a row [1, K], a 1-D right one a
    /// column [K, 1], and the axis added for it is removed from the result.
    static func matmul(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(2...2)
        var a = try importer.input(node, 0), b = try importer.input(node, 1)
        let name = node.resultName
        let aIsVector = importer.graph.type(of: a).rank == 1, bIsVector = importer.graph.type(of: b).rank == 1
        guard aIsVector || bIsVector else { return [try importer.emit(.matmul, [a, b], name: name)] }
        if aIsVector { a = try importer.emit(.unsqueeze, [a], ["axes": .ints([0])], name: name + "_row") }
        if bIsVector { b = try importer.emit(.unsqueeze, [b], ["axes": .ints([1])], name: name + "_column") }
        let product = try importer.emit(.matmul, [a, b], name: name + "_matrix")
        let rank = importer.graph.type(of: product).rank
        let added = (aIsVector ? [rank - 2] : []) + (bIsVector ? [rank - 1] : [])
        return [try importer.emit(.squeeze, [product], ["axes": .ints(added)], name: name)]
    }

    /// ReduceMean: `axes` is an attribute before opset 18 and a constant operand since; with
    /// `noop_with_empty_axes` and no axes the op is the identity.
    static func reduceMean(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...2)
        let x = try importer.input(node, 0)
        let axes = try node.ints("axes") ?? importer.constantInput(node, 1, role: "axes")?.integers
        var attributes: Attributes = ["keepdims": .int(try node.int("keepdims", default: 1) != 0 ? 1 : 0)]
        if let axes, !axes.isEmpty {
            attributes["axes"] = .ints(axes)
        } else if try node.int("noop_with_empty_axes", default: 0) != 0 {
            return [try importer.emit(.identity, [x], name: node.resultName)]
        }
        return [try importer.emit(.reduceMean, [x], attributes, name: node.resultName)]
    }

    /// Slice: attributes before opset 10, constant operands (starts, ends, axes, steps) since.
    static func slice(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(importer.opset < 10 ? 1...1 : 3...5)
        let x = try importer.input(node, 0)
        var attributes = Attributes()
        if importer.opset < 10 {
            for key in ["starts", "ends", "axes"] {
                if let values = try node.ints(key) { attributes[key] = .ints(values) }
            }
        } else {
            for (index, key) in [(1, "starts"), (2, "ends"), (3, "axes"), (4, "steps")] {
                if let values = try importer.constantInput(node, index, role: key)?.integers { attributes[key] = .ints(values) }
            }
        }
        guard attributes["starts"] != nil, attributes["ends"] != nil else {
            throw ONNXImportError(.unsupportedAttribute(name: "starts", "starts and ends are required"))
        }
        return [try importer.emit(.slice, [x], attributes, name: node.resultName)]
    }

    static func gather(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(2...2)
        let data = try importer.input(node, 0)
        let indices = try importer.input(node, 1)
        return [try importer.emit(.gather, [data, indices], ["axis": .int(try node.int("axis", default: 0))], name: node.resultName)]
    }

    /// Cast to any IR dtype (`to` is an ONNX element type number). A storage type's result is
    /// rounded (or wrapped) to that type and held in its arithmetic type (see ModelImporter).
    static func cast(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(1...1)
        let x = try importer.input(node, 0)
        guard let to = try node.int("to") else { throw ONNXImportError(.unsupportedAttribute(name: "to", "is required")) }
        let dtype: DType
        do {
            dtype = try TensorDecoding.dtype(Int32(clamping: to))
        } catch {
            throw ONNXImportError(.unsupportedAttribute(name: "to", "casting to \(TensorDecoding.name(Int32(clamping: to))) is not supported"))
        }
        let name = node.resultName
        guard dtype.narrowsArithmetic else {
            return [try importer.emit(.cast, [x], ["to": .string(dtype.arithmetic.rawValue)], name: name)]
        }
        let narrowed = try importer.emit(.cast, [x], ["to": .string(dtype.rawValue)], name: name + "_" + dtype.rawValue)
        return [try importer.emit(.cast, [narrowed], ["to": .string(dtype.arithmetic.rawValue)], name: name)]
    }

    /// Resize (opset 10: X, scales; 11+: X, roi, scales, sizes) with constant scales or sizes
    /// (and roi, for tf_crop_and_resize). `axes` and `keep_aspect_ratio_policy` (opset 18) are
    /// resolved to per-axis values here.
    static func resize(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(importer.opset < 11 ? 2...2 : 1...4)
        let x = try importer.input(node, 0)
        let type = importer.graph.type(of: x)
        let mode = try node.string("mode") ?? "nearest"
        guard Interpolation.Mode(rawValue: mode) != nil else {
            throw ONNXImportError(.unsupportedAttribute(name: "mode", "'\(mode)' is not supported; expected nearest, linear or cubic"))
        }
        var attributes: Attributes = ["mode": .string(mode)]
        if mode == "cubic" {
            attributes["cubic_coeff_a"] = .float(try node.float("cubic_coeff_a") ?? -0.75)
            attributes["exclude_outside"] = .int(try node.int("exclude_outside", default: 0))
        }
        if importer.opset < 11 {
            // Resize-10 is Upsample's semantics: asymmetric coordinates, nearest rounds down.
            attributes["coordinate_transformation_mode"] = .string("asymmetric")
            attributes["nearest_mode"] = .string("floor")
        } else {
            let coordinates = try node.string("coordinate_transformation_mode") ?? "half_pixel"
            guard Interpolation.Coordinates(rawValue: coordinates) != nil else {
                throw ONNXImportError(.unsupportedAttribute(name: "coordinate_transformation_mode", "'\(coordinates)' is not supported"))
            }
            attributes["coordinate_transformation_mode"] = .string(coordinates)
            let rounding = try node.string("nearest_mode") ?? "round_prefer_floor"
            guard Interpolation.Rounding(rawValue: rounding) != nil else {
                throw ONNXImportError(.unsupportedAttribute(name: "nearest_mode", "'\(rounding)' is not supported"))
            }
            attributes["nearest_mode"] = .string(rounding)
        }
        if try node.int("antialias", default: 0) != 0 {
            guard mode != "nearest" else {
                throw ONNXImportError(.unsupportedAttribute(name: "antialias", "applies to linear and cubic modes, not nearest"))
            }
            attributes["antialias"] = .int(1)
        }
        if mode != "cubic", try node.int("exclude_outside", default: 0) != 0 {
            throw ONNXImportError(.unsupportedAttribute(name: "exclude_outside", "only 0 is supported with mode '\(mode)' (it is for cubic)"))
        }
        let rank = type.rank
        let axes = try (node.ints("axes") ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 }
        guard axes.allSatisfy({ (0..<rank).contains($0) }), Set(axes).count == axes.count else {
            throw ONNXImportError(.unsupportedAttribute(name: "axes", "\(axes) invalid for input \(type)"))
        }
        if attributes.string("coordinate_transformation_mode") == Interpolation.Coordinates.tfCropAndResize.rawValue {
            guard let roi = try importer.constantInput(node, 1, role: "roi")?.floats, roi.count == 2 * axes.count else {
                throw ONNXImportError(.unsupportedInput(index: 1, "tf_crop_and_resize needs a constant roi of \(2 * axes.count) values (starts, then ends)"))
            }
            // Axes not named keep the whole extent: [0, 1].
            var full = [Float](repeating: 0, count: rank) + [Float](repeating: 1, count: rank)
            for (i, axis) in axes.enumerated() {
                full[axis] = roi[i]
                full[rank + axis] = roi[axes.count + i]
            }
            attributes["roi"] = .floats(full)
            attributes["extrapolation_value"] = .float(try node.float("extrapolation_value", default: 0))
        }
        let scalesIndex = importer.opset < 11 ? 1 : 2
        let scales = try importer.constantInput(node, scalesIndex, role: "scales")?.floats
        let sizes = importer.opset < 11 ? nil : try importer.constantInput(node, 3, role: "sizes")?.integers
        if let scales, !scales.isEmpty {
            guard scales.count == axes.count else {
                throw ONNXImportError(.unsupportedInput(index: scalesIndex, "\(scales.count) scales for \(axes.count) axes"))
            }
            var full = [Float](repeating: 1, count: rank)
            for (axis, s) in zip(axes, scales) { full[axis] = s }
            attributes["scales"] = .floats(full)
        } else if let sizes, !sizes.isEmpty {
            guard sizes.count == axes.count else {
                throw ONNXImportError(.unsupportedInput(index: 3, "\(sizes.count) sizes for \(axes.count) axes"))
            }
            guard let dims = type.knownShape else {
                throw ONNXImportError(.unsupportedInput(index: 3, "sizes need the input's dims to be known; input is \(type)"))
            }
            var full = dims
            for (axis, size) in zip(axes, sizes) { full[axis] = size }
            let policy = try node.string("keep_aspect_ratio_policy") ?? "stretch"
            switch policy {
            case "stretch":
                break
            case "not_larger", "not_smaller":
                let ratios = axes.map { Double(full[$0]) / Double(dims[$0]) }
                let scale = policy == "not_larger" ? ratios.min()! : ratios.max()!
                var fullScales = [Float](repeating: 1, count: rank)
                for axis in axes {
                    fullScales[axis] = Float(scale)
                    full[axis] = Int(scale * Double(dims[axis]) + 0.5)
                }
                attributes["scales"] = .floats(fullScales)
            default:
                throw ONNXImportError(.unsupportedAttribute(name: "keep_aspect_ratio_policy", "'\(policy)' is not supported"))
            }
            attributes["sizes"] = .ints(full)
        } else {
            throw ONNXImportError(.unsupportedInput(index: scalesIndex, "Resize needs constant scales or sizes"))
        }
        return [try importer.emit(.interpolate, [x], attributes, name: node.resultName)]
    }
}
