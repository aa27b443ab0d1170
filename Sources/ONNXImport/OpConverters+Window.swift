import IR

/// Sliding-window ops (Conv, MaxPool, AveragePool; ConvTranspose's attributes are in
/// +Math). The IR's windows are 2-D with explicit `pads` [top, left, bottom, right]; ONNX's
/// `auto_pad` is resolved to them here. Other spatial ranks are rewritten onto 2-D windows:
/// - 1-D: the input gets a unit axis (`[N, C, L]` → `[N, C, 1, L]`), the window a unit
///   window over it (kernel 1, stride 1, dilation 1, no padding), and the result loses it
///   again. Exact: each output reads the same taps, summed or compared in the same order.
/// - 3-D pooling: a pool over (H, W) on `[N, C·D, H, W]`, then one over D on
///   `[N, C, D, H'·W']` with a `[kd, 1]` window. Max is exact (max is associative). Average
///   is exact within float rounding: the taps inside a box window (and inside its padding)
///   are a product of per-axis sets, so the box's sum and count both factor by axis, and the
///   average of per-(h, w) averages over d is the box average (two divisions instead of one).
/// - MaxPool on u8 runs on f32 between casts: exact, since every u8 is an f32 and a maximum
///   is one of its inputs.
/// - 3-D Conv and ConvTranspose: the depth axis goes through a 2-D convolution with a 0/1
///   kernel over `[D, H·W]` (per channel, `group` = channels), which gathers (Conv) or
///   scatters and sums (ConvTranspose) the depth taps, and the (H, W) part is an ordinary
///   2-D one with the depth taps folded into its channels. Exact within float rounding for
///   finite inputs: each output is the same sum of the same products, in another order
///   (the 0/1 kernel adds 0·x terms, which are 0 unless x is infinite or NaN).
extension OpConverters {
    static func conv(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(2...3)
        let x = try importer.input(node, 0)
        let weight = try importer.input(node, 1)
        let bias = try importer.optionalInput(node, 2)
        let inputType = importer.graph.type(of: x), weightType = importer.graph.type(of: weight)
        let spatialRank = weightType.rank - 2
        guard (1...3).contains(spatialRank), inputType.rank == weightType.rank else {
            throw ONNXImportError(.unsupportedInput(
                index: 1, "expected a 1-D, 2-D or 3-D convolution (N,C and 1 to 3 spatial axes); input is \(inputType), weight \(weightType)"))
        }
        let weightKernel = weightType.knownShape.map { Array($0[2...]) }
        // kernel_shape is redundant with the weight's dims; it is only checked against them.
        var kernel = weightKernel
        if let declared = try node.ints("kernel_shape") {
            guard declared.count == spatialRank, declared.allSatisfy({ (1...maxWindowValue).contains($0) }) else {
                throw ONNXImportError(.unsupportedAttribute(name: "kernel_shape", "expected \(spatialRank) positive sizes, found \(declared)"))
            }
            if let weightKernel, weightKernel != declared {
                throw ONNXImportError(.unsupportedAttribute(name: "kernel_shape", "\(declared) does not match the weight \(weightType)"))
            }
            kernel = declared
        }
        let window = try WindowAttributes(node, input: inputType, kernel: kernel)
        let group = try node.int("group", default: 1)
        guard (1...maxWindowValue).contains(group) else {
            throw ONNXImportError(.unsupportedAttribute(name: "group", "expected a positive group count, found \(group)"))
        }
        let name = node.resultName
        if spatialRank == 3 { return [try conv3d(x, weight, bias, window: window, group: group, &importer, name: name)] }
        var attributes = (spatialRank == 1 ? window.insertingUnitAxis() : window).attributes
        if group != 1 { attributes["group"] = .int(group) }
        guard spatialRank == 1 else {
            return [try importer.emit(.conv, [x, weight] + (bias.map { [$0] } ?? []), attributes, name: name)]
        }
        let operands = try [unitAxis(x, &importer, name: name + "_2d"), unitAxis(weight, &importer, name: name + "_weight_2d")]
        let result = try importer.emit(.conv, operands + (bias.map { [$0] } ?? []), attributes, name: name + "_conv2d")
        return [try importer.emit(.squeeze, [result], ["axes": .ints([2])], name: name)]
    }

    static func maxPool(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        let storageOrder = try node.int("storage_order", default: 0)
        guard (0...1).contains(storageOrder) else {
            throw ONNXImportError(.unsupportedAttribute(name: "storage_order", "expected 0 (row-major) or 1 (column-major), found \(storageOrder)"))
        }
        var flags = Attributes()
        // The Indices result is produced only when the model names it.
        if node.proto.output.count > 1, !node.proto.output[1].isEmpty {
            flags["indices"] = .int(1)
            if storageOrder == 1 { flags["storage_order"] = .int(1) }
        }
        return try pool(.maxPool, &importer, node, flags: flags)
    }

    static func averagePool(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        var flags = Attributes()
        if try node.int("count_include_pad", default: 0) != 0 { flags["count_include_pad"] = .int(1) }
        return try pool(.averagePool, &importer, node, flags: flags)
    }

    /// Pools carry `kernel_shape`, the window attributes, `ceil_mode`, and the op's own
    /// `flags`; 1-D and 3-D windows and u8 max pools are rewritten as the extension's doc says.
    private static func pool(_ op: Op, _ importer: inout ModelImporter, _ node: ONNXNode, flags: Attributes) throws -> [ValueID] {
        try node.expectInputs(1...1)
        var x = try importer.input(node, 0)
        let type = importer.graph.type(of: x)
        guard let kernel = try node.ints("kernel_shape") else {
            throw ONNXImportError(.unsupportedAttribute(name: "kernel_shape", "is required"))
        }
        guard (1...3).contains(kernel.count), kernel.allSatisfy({ (1...maxWindowValue).contains($0) }) else {
            throw ONNXImportError(.unsupportedAttribute(name: "kernel_shape", "expected 1 to 3 positive sizes, found \(kernel)"))
        }
        let window = try WindowAttributes(node, input: type, kernel: kernel)
        var attributes = flags
        if try node.int("ceil_mode", default: 0) != 0 { attributes["ceil_mode"] = .int(1) }
        let name = node.resultName
        let castsU8 = op == .maxPool && type.dtype == .u8
        if castsU8 { x = try importer.emit(.cast, [x], ["to": .string(DType.f32.rawValue)], name: name + "_f32") }
        var results: [ValueID]
        switch kernel.count {
        case 2:
            results = try pool2d(op, x, kernel: kernel, window: window, attributes, &importer, name: castsU8 ? name + "_pooled" : name)
        case 1:
            let lifted = try unitAxis(x, &importer, name: name + "_2d")
            let pooled = try pool2d(
                op, lifted, kernel: [1] + kernel, window: window.insertingUnitAxis(), attributes, &importer, name: name + "_pool2d")
            results = try pooled.enumerated().map { i, value in
                try importer.emit(.squeeze, [value], ["axes": .ints([2])], name: i == 0 && !castsU8 ? name : "\(name)_\(i)")
            }
        default:
            results = [try pool3d(op, x, kernel: kernel, window: window, attributes, &importer, name: castsU8 ? name + "_pooled" : name)]
        }
        if castsU8 { results[0] = try importer.emit(.cast, [results[0]], ["to": .string(DType.u8.rawValue)], name: name) }
        return results
    }

    /// One IR pooling over a 2-D window: its result, and the indices when `attributes` asks.
    private static func pool2d(
        _ op: Op, _ x: ValueID, kernel: [Int], window: WindowAttributes, _ attributes: Attributes,
        _ importer: inout ModelImporter, name: String
    ) throws -> [ValueID] {
        var all = window.attributes
        for key in attributes.sortedKeys { all[key] = attributes[key] }
        all["kernel_shape"] = .ints(kernel)
        return try importer.graph.append(op, [x], attributes: all, name: name)
    }

    /// A 3-D pooling as two 2-D ones (see the extension's doc): (H, W) first, then D.
    private static func pool3d(
        _ op: Op, _ x: ValueID, kernel: [Int], window: WindowAttributes, _ attributes: Attributes,
        _ importer: inout ModelImporter, name: String
    ) throws -> ValueID {
        let type = importer.graph.type(of: x)
        guard attributes["indices"] == nil else {
            throw ONNXImportError(.unsupportedOutput(index: 1, name: "Indices of a 3-D max pool (only 1-D and 2-D ones have them)"))
        }
        guard let dims = type.knownShape, window.autoPad == nil else {
            throw ONNXImportError(.unsupportedInput(index: 0, "3-D pooling needs the input's dims known at import; input is \(type)"))
        }
        let (n, c, d) = (dims[0], dims[1], dims[2])
        let planes = try reshape(x, to: [n, c * d, dims[3], dims[4]], &importer, name: name + "_planes")
        let across = try pool2d(
            op, planes, kernel: Array(kernel[1...]), window: window.selecting([1, 2]), attributes, &importer, name: name + "_hw")[0]
        guard let pooled = importer.graph.type(of: across).knownShape else {
            throw ONNXImportError(.invalidNode("the (H, W) pooling of \(type) has no known size"))
        }
        let (oh, ow) = (pooled[2], pooled[3])
        let columns = try reshape(across, to: [n, c, d, oh * ow], &importer, name: name + "_columns")
        let depthWindow = window.selecting([0]).insertingUnitAxis(at: 1)
        let deep = try pool2d(op, columns, kernel: [kernel[0], 1], window: depthWindow, attributes, &importer, name: name + "_d")[0]
        guard let od = importer.graph.type(of: deep).knownShape?[2] else {
            throw ONNXImportError(.invalidNode("the depth pooling of \(type) has no known size"))
        }
        return try reshape(deep, to: [n, c, od, oh, ow], &importer, name: name)
    }

    /// A 3-D convolution (see the extension's doc): the depth taps of every channel gathered
    /// by a 0/1 kernel into `[N, C·KD, OD, H·W]`, moved to `[N·OD, C·KD, H, W]`, and one 2-D
    /// convolution over (H, W) with the weight `[M, C/g·KD, KH, KW]`.
    private static func conv3d(
        _ x: ValueID, _ weight: ValueID, _ bias: ValueID?, window: WindowAttributes, group: Int,
        _ importer: inout ModelImporter, name: String
    ) throws -> ValueID {
        let inputType = importer.graph.type(of: x), weightType = importer.graph.type(of: weight)
        guard let dims = inputType.knownShape, let kernel = weightType.knownShape, window.autoPad == nil else {
            throw ONNXImportError(.unsupportedInput(index: 0, "a 3-D convolution needs its input's and weight's dims known at import; input is \(inputType), weight \(weightType)"))
        }
        let (n, c, d, h, w) = (dims[0], dims[1], dims[2], dims[3], dims[4])
        let (m, kd) = (kernel[0], kernel[2])
        let columns = try reshape(x, to: [n, c, d, h * w], &importer, name: name + "_depth_columns")
        let taps = depthTaps(channels: c, taps: kd, &importer, name: name + "_depth_taps")
        var gather = window.selecting([0]).insertingUnitAxis(at: 1).attributes
        gather["group"] = .int(c)
        let gathered = try importer.emit(.conv, [columns, taps], gather, name: name + "_depth_gathered")
        guard let od = importer.graph.type(of: gathered).knownShape?[2] else {
            throw ONNXImportError(.invalidNode("the depth taps of \(inputType) have no known size"))
        }
        let split = try reshape(gathered, to: [n, c, kd, od, h, w], &importer, name: name + "_depth_split")
        let depthMajor = try importer.emit(.transpose, [split], ["perm": .ints([0, 3, 1, 2, 4, 5])], name: name + "_depth_major")
        let planes = try reshape(depthMajor, to: [n * od, c * kd, h, w], &importer, name: name + "_planes")
        let planeWeight = try reshape(weight, to: [m, kernel[1] * kd, kernel[3], kernel[4]], &importer, name: name + "_weight_2d")
        var across = window.selecting([1, 2]).attributes
        if group != 1 { across["group"] = .int(group) }
        let convolved = try importer.emit(.conv, [planes, planeWeight] + (bias.map { [$0] } ?? []), across, name: name + "_hw")
        guard let pooled = importer.graph.type(of: convolved).knownShape else {
            throw ONNXImportError(.invalidNode("the (H, W) convolution of \(inputType) has no known size"))
        }
        let result = try reshape(convolved, to: [n, od, m, pooled[2], pooled[3]], &importer, name: name + "_depth_outer")
        return try importer.emit(.transpose, [result], ["perm": .ints([0, 2, 1, 3, 4])], name: name)
    }

    /// A 3-D transposed convolution (see the extension's doc): one 2-D transposed convolution
    /// over (H, W) of every depth slice with the weight `[C, M/g·KD, KH, KW]` (depth taps as
    /// output channels), then per output channel a 2-D transposed one over `[D, OH·OW]` with
    /// a 0/1 kernel that places each depth tap and sums them, and the bias.
    static func convTranspose3d(
        _ x: ValueID, _ weight: ValueID, _ bias: ValueID?, window: WindowAttributes, outputPadding: [Int], group: Int,
        _ importer: inout ModelImporter, name: String
    ) throws -> ValueID {
        let inputType = importer.graph.type(of: x), weightType = importer.graph.type(of: weight)
        guard let dims = inputType.knownShape, let kernel = weightType.knownShape else {
            throw ONNXImportError(.unsupportedInput(
                index: 0, "a 3-D transposed convolution needs its input's and weight's dims known at import; input is \(inputType), weight \(weightType)"))
        }
        let (n, c, d, h, w) = (dims[0], dims[1], dims[2], dims[3], dims[4])
        let (m, kd) = (kernel[1] * group, kernel[2])
        let depthMajor = try importer.emit(.transpose, [x], ["perm": .ints([0, 2, 1, 3, 4])], name: name + "_depth_major")
        let slices = try reshape(depthMajor, to: [n * d, c, h, w], &importer, name: name + "_slices")
        let sliceWeight = try reshape(weight, to: [c, kernel[1] * kd, kernel[3], kernel[4]], &importer, name: name + "_weight_2d")
        var across = window.selecting([1, 2]).attributes
        if outputPadding[1...] != [0, 0] { across["output_padding"] = .ints(Array(outputPadding[1...])) }
        if group != 1 { across["group"] = .int(group) }
        let spread = try importer.emit(.convTranspose, [slices, sliceWeight], across, name: name + "_hw")
        guard let planes = importer.graph.type(of: spread).knownShape else {
            throw ONNXImportError(.invalidNode("the (H, W) transposed convolution of \(inputType) has no known size"))
        }
        let (oh, ow) = (planes[2], planes[3])
        let rows = try reshape(spread, to: [n, d, m * kd, oh * ow], &importer, name: name + "_rows")
        let channelMajor = try importer.emit(.transpose, [rows], ["perm": .ints([0, 2, 1, 3])], name: name + "_channel_major")
        let taps = depthTaps(channels: m, taps: kd, &importer, name: name + "_depth_taps")
        var place = window.selecting([0]).insertingUnitAxis(at: 1).attributes
        if outputPadding[0] != 0 { place["output_padding"] = .ints([outputPadding[0], 0]) }
        place["group"] = .int(m)
        let placed = try importer.emit(.convTranspose, [channelMajor, taps] + (bias.map { [$0] } ?? []), place, name: name + "_depth")
        guard let od = importer.graph.type(of: placed).knownShape?[2] else {
            throw ONNXImportError(.invalidNode("the depth placement of \(inputType) has no known size"))
        }
        return try reshape(placed, to: [n, m, od, oh, ow], &importer, name: name)
    }

    /// The 0/1 kernel `[channels·taps, 1, taps, 1]` whose output (or, transposed, input)
    /// channel `c·taps + j` reads channel c through tap j alone: the depth taps of a 3-D
    /// window as channels.
    private static func depthTaps(channels: Int, taps: Int, _ importer: inout ModelImporter, name: String) -> ValueID {
        var values = [Float](repeating: 0, count: channels * taps * taps)
        for channel in 0..<channels {
            for tap in 0..<taps { values[(channel * taps + tap) * taps + tap] = 1 }
        }
        return importer.graph.addConstant(name: name, tensor: Tensor(shape: [channels * taps, 1, taps, 1], floats: values))
    }

    /// `x` with a unit axis inserted at 2: `[N, C, L]` → `[N, C, 1, L]` (a 1-D window's operand as 2-D).
    static func unitAxis(_ x: ValueID, _ importer: inout ModelImporter, name: String) throws -> ValueID {
        try importer.emit(.unsqueeze, [x], ["axes": .ints([2])], name: name)
    }

    private static func reshape(_ x: ValueID, to dims: [Int], _ importer: inout ModelImporter, name: String) throws -> ValueID {
        let shape = importer.graph.addConstant(name: name + "_shape", tensor: Tensor(shape: [dims.count], int64s: dims.map(Int64.init)))
        return try importer.emit(.reshape, [x, shape], name: name)
    }

    /// Bound on strides, dilations, pads, kernel sizes and groups, so that the window
    /// arithmetic of shape inference cannot overflow on a corrupt file.
    static let maxWindowValue = Int(Int32.max)
}

/// ONNX's window attributes (`strides`, `dilations`, `pads`, `auto_pad`) over a node's
/// spatial axes, checked. SAME padding needs the kernel; over spatial dims known only per
/// request it stays `auto_pad`, resolved when a plan is built (`ShapeInference.windowPads`).
struct WindowAttributes {
    var strides: [Int]
    var dilations: [Int]
    /// The begin of every spatial axis, then the end of every one (ONNX's order).
    var pads: [Int]
    /// SAME_UPPER or SAME_LOWER kept for the plan to resolve, else nil.
    var autoPad: String?

    /// Values already checked and resolved (ConvTranspose resolves its own padding).
    init(strides: [Int], dilations: [Int], pads: [Int]) {
        (self.strides, self.dilations, self.pads) = (strides, dilations, pads)
    }

    init(_ node: ONNXNode, input: TensorType, kernel: [Int]?) throws {
        let rank = input.rank - 2
        guard (1...3).contains(rank), kernel.map({ $0.count == rank }) ?? true else {
            throw ONNXImportError(.unsupportedInput(
                index: 0, "expected N,C and 1 to 3 spatial axes matching the kernel \(kernel.map(\.description) ?? "?"), found \(input)"))
        }
        strides = try node.ints("strides") ?? Array(repeating: 1, count: rank)
        dilations = try node.ints("dilations") ?? Array(repeating: 1, count: rank)
        pads = try node.ints("pads") ?? Array(repeating: 0, count: 2 * rank)
        for (key, values, count, least) in [("strides", strides, rank, 1), ("dilations", dilations, rank, 1), ("pads", pads, 2 * rank, 0)] {
            guard values.count == count, values.allSatisfy({ (least...OpConverters.maxWindowValue).contains($0) }) else {
                throw ONNXImportError(.unsupportedAttribute(name: key, "expected \(count) values ≥ \(least), found \(values)"))
            }
        }
        let mode = try node.string("auto_pad") ?? "NOTSET"
        switch mode {
        case "NOTSET":
            break
        case "VALID":
            pads = Array(repeating: 0, count: 2 * rank)
        case "SAME_UPPER", "SAME_LOWER":
            guard let kernel else {
                throw ONNXImportError(.unsupportedAttribute(name: "auto_pad", "\(mode) needs a known kernel"))
            }
            if let spatial = input.shape.dropFirst(2).map(\.value) as [Int?] as? [Int] {
                pads = ShapeInference.samePads(input: spatial, kernel: kernel, strides: strides, dilations: dilations, upper: mode == "SAME_UPPER")
            } else {
                autoPad = mode
            }
        default:
            throw ONNXImportError(.unsupportedAttribute(name: "auto_pad", "expected NOTSET, VALID, SAME_UPPER or SAME_LOWER, found \(mode)"))
        }
    }

    var rank: Int { strides.count }

    /// The window over `axes` only, in that order.
    func selecting(_ axes: [Int]) -> WindowAttributes {
        var w = self
        w.strides = axes.map { strides[$0] }
        w.dilations = axes.map { dilations[$0] }
        w.pads = axes.map { pads[$0] } + axes.map { pads[rank + $0] }
        return w
    }

    /// The window with a unit spatial axis at `position` (stride 1, dilation 1, no padding;
    /// the caller gives it kernel 1). Over an axis of extent 1 it reads every element once,
    /// so the result is the same: how a 1-D window runs as a 2-D one. SAME padding of a unit
    /// axis is none, so a kept `auto_pad` stays right.
    func insertingUnitAxis(at position: Int = 0) -> WindowAttributes {
        var w = self
        w.strides.insert(1, at: position)
        w.dilations.insert(1, at: position)
        w.pads.insert(0, at: rank + position)
        w.pads.insert(0, at: position)
        return w
    }

    /// The IR attributes of this window (which must be 2-D), each left out at its default.
    var attributes: Attributes {
        precondition(rank == 2, "IR windows are 2-D")
        var attributes = Attributes()
        if let autoPad { attributes["auto_pad"] = .string(autoPad) }
        if strides != [1, 1] { attributes["strides"] = .ints(strides) }
        if dilations != [1, 1] { attributes["dilations"] = .ints(dilations) }
        if autoPad == nil, pads != [0, 0, 0, 0] { attributes["pads"] = .ints(pads) }
        return attributes
    }
}
