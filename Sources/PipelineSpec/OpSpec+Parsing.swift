import Yams

/// What was written after an op's name: a mapping of arguments, a single value
/// (`layout: NCHW`), or nothing (`- softmax`, `- softmax:`).
struct OpArguments {
    let op: String
    /// Nil when nothing was written.
    let value: Node?
    /// Where the op's name is; missing arguments are reported here.
    let location: SourceLocation
    let parser: SpecParser

    var reader: SpecReader { parser.reader }

    /// The arguments as a mapping whose keys must be among `allowedKeys`; no arguments
    /// read as an empty mapping, so every key takes its default.
    func fields(_ allowedKeys: [String]) throws(SpecError) -> Fields {
        guard let value else { return .empty(owner: op, at: location, reader: reader) }
        return try reader.fields(
            of: value, owner: op, allowedKeys: allowedKeys,
            shape: "a mapping of its arguments (\(allowedKeys.joined(separator: ", ")))",
            missingKeyLocation: location)
    }

    /// The single value of an op written as `op: value`.
    func singleValue(expected: String) throws(SpecError) -> Node {
        guard let value else {
            throw SpecError(at: location, found: "\(op) has no value", expected: expected)
        }
        return value
    }
}

extension OpSpec {
    typealias Parse = @Sendable (OpArguments) throws(SpecError) -> Operation

    /// Every op the YAML may name, with the function that checks its arguments.
    static let parsers: [(name: String, parse: Parse)] = [
        ("decode", { arguments throws(SpecError) in .decode(try DecodeSpec(arguments)) }),
        ("resize", { arguments throws(SpecError) in .resize(try ResizeSpec(arguments)) }),
        ("center_crop", { arguments throws(SpecError) in .centerCrop(try CenterCropSpec(arguments)) }),
        ("crop", { arguments throws(SpecError) in .crop(try CropSpec(arguments)) }),
        ("convert_color", { arguments throws(SpecError) in .convertColor(try ConvertColorSpec(arguments)) }),
        ("cast", { arguments throws(SpecError) in .cast(try CastSpec(arguments)) }),
        ("normalize", { arguments throws(SpecError) in .normalize(try NormalizeSpec(arguments)) }),
        ("layout", { arguments throws(SpecError) in .layout(try Layout(arguments)) }),
        ("pad", { arguments throws(SpecError) in .pad(try PadSpec(arguments)) }),
        ("to_tensor", { arguments throws(SpecError) in .toTensor(try ToTensorSpec(arguments)) }),
        ("softmax", { arguments throws(SpecError) in .softmax(try SoftmaxSpec(arguments)) }),
        ("topk", { arguments throws(SpecError) in .topk(try TopKSpec(arguments)) }),
        ("for_each", { arguments throws(SpecError) in
            _ = try arguments.fields([])
            return .forEach
        }),
        ("collect", { arguments throws(SpecError) in
            _ = try arguments.fields([])
            return .collect
        }),
        ("nms", { arguments throws(SpecError) in .nms(try NMSSpec(arguments)) }),
        ("tile_boxes", { arguments throws(SpecError) in
            let fields = try arguments.fields(["size", "rows", "cols"])
            let size = try fields.imageSize("size")
            return .tileBoxes(TileBoxesSpec(
                height: size.height, width: size.width,
                rows: try fields.int("rows", default: 1, expected: "an integer in 1…64") { (1...64).contains($0) },
                cols: try fields.int("cols", default: 1, expected: "an integer in 1…64") { (1...64).contains($0) }))
        }),
        ("crop_box", { arguments throws(SpecError) in
            let size = try arguments.fields(["size"]).imageSize("size")
            return .cropBox(CenterCropSpec(height: size.height, width: size.width))
        }),
        ("mean", { arguments throws(SpecError) in .mean(axis: try arguments.fields(["axis"]).int("axis", default: 0)) }),
        ("db_boxes", { arguments throws(SpecError) in .dbBoxes(try DBBoxesSpec(arguments)) }),
        ("perspective_crop", { arguments throws(SpecError) in
            _ = try arguments.fields([])
            return .perspectiveCrop
        }),
        ("rotate_180_if", { arguments throws(SpecError) in
            let fields = try arguments.fields(["class", "threshold"])
            return .rotate180If(Rotate180IfSpec(
                classIndex: try fields.int("class", default: 1, expected: "a class index ≥ 0") { $0 >= 0 },
                threshold: try fields.double("threshold", default: 0.9, expected: "a probability in 0…1") { (0...1).contains($0) }))
        }),
        ("ctc_decode", { arguments throws(SpecError) in .ctcDecode(try CTCDecodeSpec(arguments)) }),
        ("map_boxes", { arguments throws(SpecError) in
            _ = try arguments.fields([])
            return .mapBoxes
        }),
        ("crop_resize", { arguments throws(SpecError) in
            let fields = try arguments.fields(["size", "interpolation"])
            let size = try fields.imageSize("size")
            return .cropResize(height: size.height, width: size.width, interpolation: try fields.choice("interpolation", default: .bilinear))
        }),
        ("pyramid_scales", { arguments throws(SpecError) in
            let fields = try arguments.fields(["min_size", "factor", "window"])
            return .pyramidScales(
                minSize: try fields.double("min_size", default: 20, expected: "a number in 1…100000") { (1...100_000).contains($0) },
                factor: try fields.double("factor", default: 0.709, expected: "a number in 0.1…0.95") { (0.1...0.95).contains($0) },
                window: try fields.int("window", default: 12, expected: "an integer in 1…1024") { (1...1024).contains($0) })
        }),
        ("resize_by_scale", { arguments throws(SpecError) in
            .resizeByScale(try arguments.fields(["interpolation"]).choice("interpolation", default: .area))
        }),
        ("divide_by_max", { arguments throws(SpecError) in
            _ = try arguments.fields([])
            return .divideByMax
        }),
        ("min_max_normalize", { arguments throws(SpecError) in
            _ = try arguments.fields([])
            return .minMaxNormalize
        }),
        ("cutout", { arguments throws(SpecError) in
            _ = try arguments.fields([])
            return .cutout
        }),
        ("resize_like", { arguments throws(SpecError) in
            .resizeLike(try arguments.fields(["interpolation"]).choice("interpolation", default: .bilinear))
        }),
        ("transpose_image", { arguments throws(SpecError) in
            _ = try arguments.fields([])
            return .transposeImage
        }),
        ("mtcnn_pnet_boxes", { arguments throws(SpecError) in
            let fields = try arguments.fields(["threshold", "iou_threshold"])
            return .mtcnnPNetBoxes(threshold: try fields.probability("threshold", default: 0.6), iouThreshold: try fields.probability("iou_threshold", default: 0.5))
        }),
        ("mtcnn_merge", { arguments throws(SpecError) in
            .mtcnnMerge(iouThreshold: try arguments.fields(["iou_threshold"]).probability("iou_threshold", default: 0.7))
        }),
        ("mtcnn_crop", { arguments throws(SpecError) in
            .mtcnnCrop(size: try arguments.fields(["size"]).int("size", expected: "an integer in 1…1024") { (1...1024).contains($0) })
        }),
        ("mtcnn_refine", { arguments throws(SpecError) in
            let fields = try arguments.fields(["threshold", "iou_threshold"])
            return .mtcnnRefine(threshold: try fields.probability("threshold", default: 0.7), iouThreshold: try fields.probability("iou_threshold", default: 0.7))
        }),
        ("mtcnn_faces", { arguments throws(SpecError) in
            let fields = try arguments.fields(["threshold", "iou_threshold"])
            return .mtcnnFaces(threshold: try fields.probability("threshold", default: 0.7), iouThreshold: try fields.probability("iou_threshold", default: 0.7))
        }),
        ("dfl_boxes", { arguments throws(SpecError) in
            .dflBoxes(try DetectionGridSpec(try arguments.fields(["strides", "input_size", "cell_offset"]), cellOffset: 0.5))
        }),
        ("grid_decode", { arguments throws(SpecError) in
            let fields = try arguments.fields(["strides", "input_size", "cell_offset", "objectness"])
            return .gridDecode(try DetectionGridSpec(fields, cellOffset: 0), objectness: try fields.bool("objectness", default: true))
        }),
        ("top_cells", { arguments throws(SpecError) in
            .topCells(k: try arguments.fields(["k"]).int("k", expected: "an integer in 1…1000000") { (1...1_000_000).contains($0) })
        }),
        ("detections", { arguments throws(SpecError) in .detections(try DetectionsSpec(arguments)) }),
        ("text_lines", { arguments throws(SpecError) in
            let fields = try arguments.fields(["min_score"])
            return .textLines(minScore: try fields.double("min_score", default: 0.5, expected: "a number in 0…1") { (0...1).contains($0) })
        }),
    ]
}

extension SpecParser {
    /// One item of an `ops:` list: `- name` or `- name: arguments`.
    func op(from item: Node) throws(SpecError) -> OpSpec {
        let expected = "an op name, or one op with its arguments like '- resize: {shorter: 256}'"
        let nameNode: Node
        var value: Node?
        switch item {
        case .mapping(let mapping) where mapping.count == 1:
            nameNode = mapping[mapping.startIndex].key
            value = mapping[mapping.startIndex].value
        case .mapping(let mapping) where mapping.count > 1:
            let keys = mapping.map { SpecReader.describe($0.key) }.joined(separator: ", ")
            throw reader.error(
                at: mapping[mapping.index(after: mapping.startIndex)].key,
                found: "an op item with \(mapping.count) keys (\(keys))",
                expected: "one op per list item, with its arguments indented under its name or written as {key: value}")
        case .scalar:
            nameNode = item
        default:
            throw reader.error(at: item, found: "an op item that is \(SpecReader.describe(item))", expected: expected)
        }
        let names = OpSpec.parsers.map(\.name)
        let name = try reader.string(nameNode, "op name", expected: expected)
        guard let parse = OpSpec.parsers.first(where: { $0.name == name })?.parse else {
            throw reader.error(
                at: nameNode, found: "unknown op '\(name)'", expected: "one of \(names.joined(separator: ", "))",
                suggestion: closestName(to: name, among: names))
        }
        if let written = value, SpecReader.isNull(written) {
            value = nil
        }
        let location = reader.location(of: nameNode)
        return OpSpec(try parse(OpArguments(op: name, value: value, location: location, parser: self)), at: location)
    }
}

// MARK: - Argument shapes shared by several ops

private let imageSideRange = 1...OpSpec.maxImageSide
private let imageSideExpectation = "an integer from 1 to \(OpSpec.maxImageSide)"

extension Fields {
    /// An image side length under `key`, required.
    func imageSide(_ key: String) throws(SpecError) -> Int {
        try int(key, expected: imageSideExpectation, where: imageSideRange.contains)
    }

    /// `N` (meaning N×N) or `[height, width]` under `key`, required.
    func imageSize(_ key: String) throws(SpecError) -> (height: Int, width: Int) {
        let expected = "a side N or [height, width], each \(imageSideExpectation)"
        let node = try required(key, expected: expected)
        guard case .sequence = node else {
            let side = try reader.int(node, label(key), expected: expected, where: imageSideRange.contains)
            return (side, side)
        }
        let sides = try reader.list(node, label(key), count: 2, expected: expected)
        return (
            try reader.int(
                sides[0], "height in \(label(key))", expected: imageSideExpectation, where: imageSideRange.contains),
            try reader.int(
                sides[1], "width in \(label(key))", expected: imageSideExpectation, where: imageSideRange.contains)
        )
    }

    /// One number, or a list of numbers, under `key`; `defaultValue` when absent.
    /// - Parameter expected: what each number must be, e.g. `a number > 0`.
    func numbers(
        _ key: String, default defaultValue: [Double], expected: String, where isValid: (Double) -> Bool
    ) throws(SpecError) -> [Double] {
        guard let node = self[key] else { return defaultValue }
        guard case .sequence = node else {
            return [try reader.double(node, label(key), expected: "\(expected), or a list of them", where: isValid)]
        }
        var values: [Double] = []
        for (index, item) in try reader.list(node, label(key), expected: "a non-empty list of numbers").enumerated() {
            values.append(
                try reader.double(item, "item \(index + 1) of \(label(key))", expected: expected, where: isValid))
        }
        return values
    }
}

// MARK: - One initializer per op

extension DecodeSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let fields = try arguments.fields(["color", "orientation", "max_pixels", "on_corrupt"])
        // Beyond the largest JPEG there is nothing to allow.
        let pixelLimit = OpSpec.maxImageSide * OpSpec.maxImageSide
        self.init(
            color: try fields.choice("color", default: .rgb),
            orientation: try fields.choice("orientation", default: .apply),
            maxPixels: try fields.int(
                "max_pixels", default: Self.defaultMaxPixels, expected: "an integer from 1 to \(pixelLimit)",
                where: (1...pixelLimit).contains),
            onCorrupt: try fields.choice("on_corrupt", default: .error))
    }
}

extension ResizeSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let fields = try arguments.fields([
            "size", "shorter", "longer", "letterbox", "longer_at_most", "shorter_at_least", "multiple_of", "height",
            "max_size", "min_width", "max_width", "interpolation", "match", "antialias", "pad_value", "align",
        ])
        let targets = ["size", "shorter", "longer", "letterbox", "longer_at_most", "shorter_at_least", "height"]
        let targetKeys = targets.filter { fields[$0] != nil }
        if targetKeys.count > 1,
            let conflict = fields.conflict(targetKeys[0], targetKeys[1], expected: "exactly one of \(targets.joined(separator: ", "))")
        {
            throw conflict
        }
        // `multiple_of` alone is a target; with a limit it rounds the limited size.
        guard let targetKey = targetKeys.first ?? (fields["multiple_of"] != nil ? "multiple_of" : nil) else {
            throw SpecError(
                at: fields.location, found: "resize has none of \(targets.joined(separator: ", ")), multiple_of",
                expected: "exactly one of them, like {shorter: 256} or {size: [224, 224]}")
        }
        if let node = fields.keyNode("multiple_of"), !["multiple_of", "longer_at_most", "shorter_at_least"].contains(targetKey) {
            throw fields.reader.error(
                at: node, found: "resize has 'multiple_of' with '\(targetKey)'",
                expected: "'multiple_of' alone or with 'longer_at_most' / 'shorter_at_least'")
        }
        for key in ["min_width", "max_width"] where targetKey != "height" {
            if let node = fields.keyNode(key) {
                throw fields.reader.error(at: node, found: "resize has '\(key)' with '\(targetKey)'", expected: "'\(key)' only together with 'height'")
            }
        }
        let multiple = try fields.int("multiple_of", default: 1, expected: "an integer from 1 to 4096", where: (1...4096).contains)
        if targetKey != "shorter", let maxSizeKey = fields.keyNode("max_size") {
            throw fields.reader.error(
                at: maxSizeKey, found: "resize has 'max_size' with '\(targetKey)'",
                expected: "'max_size' only together with 'shorter'")
        }
        let target: Target
        switch targetKey {
        case "size":
            let size = try fields.imageSize("size")
            target = .size(height: size.height, width: size.width)
        case "letterbox":
            let size = try fields.imageSize("letterbox")
            target = .letterbox(height: size.height, width: size.width)
        case "shorter":
            let shorter = try fields.imageSide("shorter")
            var maxSize: Int?
            if let node = fields["max_size"] {
                // torchvision refuses max_size <= size: the longer side could never fit.
                maxSize = try fields.reader.int(
                    node, fields.label("max_size"),
                    expected: "an integer larger than 'shorter' (\(shorter)) and at most \(OpSpec.maxImageSide)",
                    where: { $0 > shorter && $0 <= OpSpec.maxImageSide })
            }
            target = .shorter(shorter, maxSize: maxSize)
        case "longer_at_most":
            target = .longerAtMost(try fields.imageSide("longer_at_most"), multipleOf: multiple)
        case "shorter_at_least":
            target = .shorterAtLeast(try fields.imageSide("shorter_at_least"), multipleOf: multiple)
        case "multiple_of":
            target = .multipleOf(multiple)
        case "height":
            let height = try fields.imageSide("height")
            let minWidth = try fields.int("min_width", default: 1, expected: imageSideExpectation, where: imageSideRange.contains)
            let maxWidth = try fields.int(
                "max_width", default: OpSpec.maxImageSide, expected: "an integer from min_width (\(minWidth)) to \(OpSpec.maxImageSide)",
                where: (minWidth...OpSpec.maxImageSide).contains)
            target = .height(height, minWidth: minWidth, maxWidth: maxWidth)
        default:
            target = .longer(try fields.imageSide("longer"))
        }
        for key in ["pad_value", "align"] where targetKey != "letterbox" {
            if let keyNode = fields.keyNode(key) {
                throw fields.reader.error(
                    at: keyNode, found: "resize has '\(key)' with '\(targetKey)'",
                    expected: "'\(key)' only together with 'letterbox'")
            }
        }
        let interpolation: OpSpec.Interpolation = try fields.choice("interpolation", default: .bilinear)
        // Pillow's bilinear always antialiases; OpenCV's never does.
        let match: Match? = fields["match"] == nil ? nil : try fields.choice("match") as Match
        let antialias = try fields.bool("antialias", default: match == .pillow)
        if let keyNode = fields.keyNode("match") ?? fields.keyNode("antialias"), antialias || match != nil,
            interpolation != .bilinear
        {
            throw fields.reader.error(
                at: keyNode, found: "resize has '\(fields.keyNode("match") != nil ? "match" : "antialias")' with "
                    + "interpolation '\(interpolation.rawValue)'",
                expected: "'match' and 'antialias' only with interpolation: bilinear")
        }
        if let keyNode = fields.keyNode("antialias"), match != nil, antialias != (match == .pillow) {
            throw fields.reader.error(
                at: keyNode, found: "resize has match: \(match?.rawValue ?? "") with antialias: \(antialias)",
                expected: "antialias: true only with match: pillow (OpenCV's INTER_LINEAR does not antialias, "
                    + "Pillow's BILINEAR always does)")
        }
        self.init(
            target: target, interpolation: interpolation, antialias: antialias,
            padValue: try fields.double(
                "pad_value", default: 0, expected: "a number from 0 to 255", where: (0...255).contains),
            alignment: try fields.choice("align", default: .center))
    }
}

extension PadSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let fields = try arguments.fields(["multiple_of", "pads", "min_height", "min_width", "value"])
        let amounts = ["multiple_of", "pads", "min_height"].filter { fields[$0] != nil } + (fields["min_height"] == nil && fields["min_width"] != nil ? ["min_width"] : [])
        if amounts.count > 1, let conflict = fields.conflict(amounts[0], amounts[1], expected: "exactly one of multiple_of, pads, min_height/min_width") {
            throw conflict
        }
        let amount: Amount
        if fields["min_height"] != nil || fields["min_width"] != nil {
            let expected = "an integer from 0 to \(OpSpec.maxImageSide)"
            amount = .atLeast(
                height: try fields.int("min_height", default: 0, expected: expected, where: (0...OpSpec.maxImageSide).contains),
                width: try fields.int("min_width", default: 0, expected: expected, where: (0...OpSpec.maxImageSide).contains))
        } else if let node = fields["pads"] {
            let expected = "[top, left, bottom, right], each an integer from 0 to \(OpSpec.maxImageSide)"
            let sides = try fields.reader.list(node, fields.label("pads"), count: 4, expected: expected).map {
                node throws(SpecError) in
                try fields.reader.int(
                    node, "item of \(fields.label("pads"))", expected: expected,
                    where: (0...OpSpec.maxImageSide).contains)
            }
            amount = .pads(top: sides[0], left: sides[1], bottom: sides[2], right: sides[3])
        } else {
            amount = .multipleOf(
                try fields.int("multiple_of", expected: "an integer from 1 to 4096", where: (1...4096).contains))
        }
        self.init(
            amount: amount,
            value: try fields.numbers("value", default: [0], expected: "a number", where: { _ in true }))
    }
}

extension ToTensorSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let fields = try arguments.fields(["layout"])
        let layout: OpSpec.Layout = try fields.choice("layout", default: .chw)
        if layout == .hwc || layout == .nhwc, let node = fields["layout"] {
            throw fields.reader.error(
                at: node, found: "to_tensor with layout \(layout.rawValue)",
                expected: "CHW or NCHW (torchvision's ToTensor is channels-first)")
        }
        self.init(layout: layout)
    }
}

extension Fields {
    /// A number in 0…1 under `key`, or `defaultValue` when the key is absent.
    func probability(_ key: String, default defaultValue: Double) throws(SpecError) -> Double {
        try double(key, default: defaultValue, expected: "a number in 0…1") { (0...1).contains($0) }
    }

    /// `true` or `false` under `key`, or `defaultValue` when the key is absent.
    func bool(_ key: String, default defaultValue: Bool) throws(SpecError) -> Bool {
        guard let node = self[key] else { return defaultValue }
        switch try reader.string(node, label(key), expected: "true or false") {
        case "true": return true
        case "false": return false
        default: throw reader.error(at: node, found: "\(label(key)) is \(SpecReader.describe(node))", expected: "true or false")
        }
    }
}

extension CenterCropSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let size = try arguments.fields(["size"]).imageSize("size")
        self.init(height: size.height, width: size.width)
    }
}

extension CropSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let fields = try arguments.fields(["box"])
        let reader = arguments.reader
        let offsetRange = 0...(OpSpec.maxImageSide - 1)
        let offsetExpectation = "an integer from 0 to \(offsetRange.upperBound)"
        let expected =
            "[y, x, height, width] with y and x from 0 to \(offsetRange.upperBound), height and width from 1 to "
            + "\(OpSpec.maxImageSide)"
        let box = try reader.list(
            fields.required("box", expected: expected), fields.label("box"), count: 4, expected: expected)
        self.init(
            y: try reader.int(
                box[0], "y in \(fields.label("box"))", expected: offsetExpectation, where: offsetRange.contains),
            x: try reader.int(
                box[1], "x in \(fields.label("box"))", expected: offsetExpectation, where: offsetRange.contains),
            height: try reader.int(
                box[2], "height in \(fields.label("box"))", expected: imageSideExpectation,
                where: imageSideRange.contains),
            width: try reader.int(
                box[3], "width in \(fields.label("box"))", expected: imageSideExpectation,
                where: imageSideRange.contains))
    }
}

extension ConvertColorSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let fields = try arguments.fields(["from", "to"])
        self.init(from: try fields.choice("from", default: .rgb), to: try fields.choice("to"))
    }
}

extension CastSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        self.init(to: try arguments.fields(["to"]).choice("to"))
    }
}

extension NormalizeSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let fields = try arguments.fields(["scale", "mean", "std"])
        let scale = try fields.double("scale", default: 1, expected: "a nonzero number", where: { $0 != 0 })
        let mean = try fields.numbers("mean", default: [0], expected: "a number", where: { _ in true })
        let std = try fields.numbers("std", default: [1], expected: "a number > 0", where: { $0 > 0 })
        // One value applies to every channel; two lists must agree on the channel count.
        if mean.count > 1, std.count > 1, mean.count != std.count, let stdNode = fields["std"] {
            throw fields.reader.error(
                at: stdNode, found: "'std' of normalize has \(std.count) values and 'mean' has \(mean.count)",
                expected: "as many values as 'mean' (one per channel), or a single value")
        }
        self.init(scale: scale, mean: mean, std: std)
    }
}

extension OpSpec.Layout {
    init(_ arguments: OpArguments) throws(SpecError) {
        let names = Self.allCases.map(\.rawValue).joined(separator: ", ")
        let value = try arguments.singleValue(expected: "one of \(names), like '- layout: NCHW'")
        self = try arguments.reader.choice(value, "layout")
    }
}

extension SoftmaxSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        self.init(axis: try arguments.fields(["axis"]).int("axis", default: -1))
    }
}

extension TopKSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let fields = try arguments.fields(["k", "axis", "labels"])
        var labels: Located<String>?
        if let node = fields["labels"] {
            labels = try arguments.parser.path(node, label: fields.label("labels"))
        }
        self.init(
            k: try fields.int("k", expected: "an integer > 0", where: { $0 > 0 }),
            axis: try fields.int("axis", default: -1),
            labels: labels)
    }
}

extension NMSSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let fields = try arguments.fields(["iou_threshold", "mode", "score_threshold", "max_output", "pixel_inclusive", "classes", "candidates"])
        var scoreThreshold: Double?
        if fields["score_threshold"] != nil { scoreThreshold = try fields.double("score_threshold", default: 0, expected: "a number") }
        var maxOutput: Int?
        if fields["max_output"] != nil { maxOutput = try fields.int("max_output", expected: "an integer > 0") { $0 > 0 } }
        var candidates: Int?
        if fields["candidates"] != nil { candidates = try fields.int("candidates", expected: "an integer > 0") { $0 > 0 } }
        let pixelInclusive = try fields.bool("pixel_inclusive", default: false)
        self.init(
            iouThreshold: try fields.double("iou_threshold", default: 0.5, expected: "a number in 0…1") { (0...1).contains($0) },
            overlap: try fields.choice("mode", default: .union), scoreThreshold: scoreThreshold, maxOutput: maxOutput,
            pixelInclusive: pixelInclusive, classes: try fields.choice("classes", default: .separate), candidates: candidates)
    }
}

extension DBBoxesSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let fields = try arguments.fields(["threshold", "box_threshold", "unclip_ratio", "max_candidates"])
        let defaults = DBBoxesSpec()
        self.init(
            threshold: try fields.double("threshold", default: defaults.threshold, expected: "a probability in 0…1") { (0...1).contains($0) },
            boxThreshold: try fields.double("box_threshold", default: defaults.boxThreshold, expected: "a probability in 0…1") { (0...1).contains($0) },
            unclipRatio: try fields.double("unclip_ratio", default: defaults.unclipRatio, expected: "a number in 0…10") { (0...10).contains($0) },
            maxCandidates: try fields.int("max_candidates", default: defaults.maxCandidates, expected: "an integer in 1…100000") { (1...100_000).contains($0) })
    }
}

extension CTCDecodeSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let fields = try arguments.fields(["labels", "metadata_key", "max_length"])
        let expected = "'model' (the decoded model's metadata entry 'metadata_key', by default 'character') or a labels file"
        let node = try fields.required("labels", expected: expected)
        let labels: Labels
        if try fields.reader.string(node, fields.label("labels"), expected: expected) == "model" {
            labels = .modelMetadata(key: try fields.string("metadata_key", default: "character"))
        } else {
            if let key = fields.keyNode("metadata_key") {
                throw fields.reader.error(at: key, found: "ctc_decode has 'metadata_key' with a labels file", expected: "'metadata_key' only with labels: model")
            }
            labels = .file(try arguments.parser.path(node, label: fields.label("labels")))
        }
        self.init(labels: labels, maxLength: try fields.int("max_length", default: 256, expected: "an integer in 1…4096") { (1...4096).contains($0) })
    }
}

extension DetectionGridSpec {
    /// `strides` (a list, one per level) and `input_size` (N or [h, w]) required; `cell_offset`
    /// in 0…1, `defaultOffset` when absent.
    init(_ fields: Fields, cellOffset defaultOffset: Double) throws(SpecError) {
        let expected = "a list of strides, one per level, each an integer from 1 to 4096"
        var strides: [Int] = []
        for (index, item) in try fields.reader.list(try fields.required("strides", expected: expected), fields.label("strides"), expected: expected).enumerated() {
            strides.append(try fields.reader.int(item, "item \(index + 1) of \(fields.label("strides"))", expected: "an integer from 1 to 4096") { (1...4096).contains($0) })
        }
        let size = try fields.imageSize("input_size")
        self.init(
            strides: strides, inputHeight: size.height, inputWidth: size.width,
            cellOffset: try fields.double("cell_offset", default: defaultOffset, expected: "a number in 0…1") { (0...1).contains($0) })
    }
}

extension DetectionsSpec {
    init(_ arguments: OpArguments) throws(SpecError) {
        let fields = try arguments.fields(["labels", "model", "metadata_key"])
        let expected = "'model' (the metadata entry 'metadata_key', by default 'character', of the model node named by 'model') or a labels file"
        guard let node = fields["labels"] else {
            if let key = fields.keyNode("model") ?? fields.keyNode("metadata_key") {
                throw fields.reader.error(at: key, found: "detections has '\(fields.keyNode("model") != nil ? "model" : "metadata_key")' without 'labels'", expected: "labels: model with it")
            }
            self.init()
            return
        }
        guard try fields.reader.string(node, fields.label("labels"), expected: expected) == "model" else {
            if let key = fields.keyNode("model") ?? fields.keyNode("metadata_key") {
                throw fields.reader.error(at: key, found: "detections has a labels file and '\(fields.keyNode("model") != nil ? "model" : "metadata_key")'", expected: "'model' and 'metadata_key' only with labels: model")
            }
            self.init(labels: .file(try arguments.parser.path(node, label: fields.label("labels"))))
            return
        }
        let modelNode = try fields.required("model", expected: "the name of the model node whose metadata names the classes")
        let model = Located(try fields.reader.string(modelNode, fields.label("model")), at: fields.reader.location(of: modelNode))
        self.init(labels: .modelMetadata(node: model, key: try fields.string("metadata_key", default: "character")))
    }
}
