import Foundation
import IR
import ONNXImport
import PipelineSpec

/// A pipeline lowered to IR, before any pass runs.
public struct LoweredPipeline: Sendable {
    public var graph: Graph
    /// One entry per graph output, in order: what a result formatter needs to know.
    public var outputs: [PipelineOutput]
    /// Top-k results among the outputs, to be shown as ranked classes.
    public var rankings: [Ranking]
    /// Text lines among the outputs, to be shown as text.
    public var textReadings: [TextReading]
    /// Detections among the outputs, to be shown as boxes.
    public var detectionReadings: [DetectionReading]
}

/// One graph output.
public struct PipelineOutput: Sendable, Hashable {
    /// The value's IR name when lowered (passes keep output names).
    public var name: String
}

/// A `text_lines` whose boxes, tokens and scores are all pipeline outputs: read text, one line
/// per row.
public struct TextReading: Sendable, Hashable {
    /// Positions in the graph outputs.
    public var boxesOutput: Int
    public var tokensOutput: Int
    public var scoresOutput: Int
    /// What each token means: token t is `labels[t - 1]` (0 is the CTC blank).
    public var labels: [String]
}

/// Detected objects among the pipeline outputs (an `mtcnn_faces`'s boxes, scores and
/// landmarks, or a `detections`' boxes, scores and classes): one detection per row.
public struct DetectionReading: Sendable, Hashable {
    /// Positions in the graph outputs.
    public var boxesOutput: Int
    public var scoresOutput: Int
    /// x, y pairs per detection (a face's landmarks), when the op gives them.
    public var landmarksOutput: Int?
    /// Each detection's class index, when the op gives them.
    public var classesOutput: Int?
    /// Class names by index, when the op names them.
    public var labels: [String]?
}

/// A `topk` whose scores and indices are both pipeline outputs.
public struct Ranking: Sendable, Hashable {
    /// Positions in the graph outputs.
    public var scoresOutput: Int
    public var indicesOutput: Int
    /// Class names by index, from the op's `labels:` file.
    public var labels: [String]?
}

/// Lowers a validated `PipelineSpec` to one IR graph: each op of an `ops:` list becomes IR
/// nodes, each `model:` is imported from ONNX and inlined, so preprocessing and the model
/// live in one graph that passes can optimize across.
///
/// Value names follow the YAML: the last result of node `pre` is `%pre`, the op results
/// before it `%pre.<op>`, model results keep their ONNX names. A `normalize` on u8
/// pixels gets the `cast` to f32 it implies.
public struct Lowering {
    private let spec: PipelineSpec
    private var graph: Graph
    /// Results of each node, the first being what a bare reference means.
    private var nodeResults: [String: [(name: String, value: ValueID)]] = [:]
    /// Second results of ops before a node's last (a letterbox's scale and offset): named by
    /// `node.result`, not part of what a bare reference to the node means.
    private var nodeExtras: [String: [(name: String, value: ValueID)]] = [:]
    private var inputValues: [String: ValueID] = [:]
    /// Every lowered topk: its scores, its indices and the labels of its classes.
    private var topks: [(scores: ValueID, indices: ValueID, labels: [String]?)] = []
    /// Metadata of each model node's model, by node name (for `ctc_decode: {labels: model}`).
    private var modelMetadata: [String: [String: String]] = [:]
    /// The labels of each `ctc_decode`'s tokens, by the tokens value.
    private var tokenLabels: [ValueID: [String]] = [:]
    /// Every lowered `text_lines`: its three results and the labels of its tokens.
    private var textLines: [(boxes: ValueID, tokens: ValueID, scores: ValueID, labels: [String])] = []
    /// Every lowered detection op: its boxes, scores, landmarks or classes, and class names.
    private var detections: [(boxes: ValueID, scores: ValueID, landmarks: ValueID?, classes: ValueID?, labels: [String]?)] = []

    public static func lower(_ spec: PipelineSpec) throws -> LoweredPipeline {
        var lowering = Lowering(spec: spec)
        return try lowering.run()
    }

    private init(spec: PipelineSpec) {
        self.spec = spec
        graph = Graph(name: Graph.legalName(spec.name))
    }

    private mutating func run() throws -> LoweredPipeline {
        for input in spec.inputs {
            switch input.kind {
            case .jpeg:
                inputValues[input.name] = graph.addInput(name: input.name, type: TensorType(.u8, [.symbol("n")]))
            case .image:
                inputValues[input.name] = graph.addInput(
                    name: input.name, type: TensorType(.u8, [.symbol("h"), .symbol("w"), .known(3)], layout: .hwc))
            case .tensor:
                break  // typed by the model that reads it
            }
        }
        for node in spec.nodes {
            switch node.body {
            case .ops(let ops): try lowerOps(ops, of: node)
            case .model(let model): try lowerModel(model, of: node)
            }
        }
        var outputs: [PipelineOutput] = []
        for reference in spec.outputs {
            let results = try resolveAll(reference)
            for value in results {
                graph.outputs.append(value)
                outputs.append(PipelineOutput(name: graph[value].name))
            }
        }
        let rankings = topks.compactMap { topk -> Ranking? in
            guard let s = graph.outputs.firstIndex(of: topk.scores), let i = graph.outputs.firstIndex(of: topk.indices) else { return nil }
            return Ranking(scoresOutput: s, indicesOutput: i, labels: topk.labels)
        }
        let textReadings = textLines.compactMap { lines -> TextReading? in
            guard let b = graph.outputs.firstIndex(of: lines.boxes), let t = graph.outputs.firstIndex(of: lines.tokens),
                  let s = graph.outputs.firstIndex(of: lines.scores) else { return nil }
            return TextReading(boxesOutput: b, tokensOutput: t, scoresOutput: s, labels: lines.labels)
        }
        let detectionReadings = detections.compactMap { found -> DetectionReading? in
            guard let b = graph.outputs.firstIndex(of: found.boxes), let s = graph.outputs.firstIndex(of: found.scores) else { return nil }
            return DetectionReading(
                boxesOutput: b, scoresOutput: s, landmarksOutput: found.landmarks.flatMap { graph.outputs.firstIndex(of: $0) },
                classesOutput: found.classes.flatMap { graph.outputs.firstIndex(of: $0) }, labels: found.labels)
        }
        try Verifier.verify(graph)
        return LoweredPipeline(graph: graph, outputs: outputs, rankings: rankings, textReadings: textReadings, detectionReadings: detectionReadings)
    }

    // MARK: - Op lists

    private mutating func lowerOps(_ ops: [OpSpec], of node: NodeSpec) throws {
        let operandCount = ops.first?.operation.operandCount ?? 1
        // A collect gathers any number of values from the same children; a detector-head op
        // reads any number of levels.
        let variadic = (ops.first?.operation == .collect || ops.first?.operation.readsLevels == true) && !node.inputs.isEmpty
        guard variadic || node.inputs.count == operandCount else {
            let what = operandCount == 1 ? "exactly one value" : "\(operandCount) values (its first op, \(ops[0].operation.name), takes \(operandCount))"
            throw LoweringError(at: node.location, "an ops node reads \(what), found \(node.inputs.count)")
        }
        var operands = try node.inputs.map { try resolve($0) }
        operands[0] = try queued(operands[0], for: node)
        var current = operands[0]
        var results: [(name: String, value: ValueID)] = []
        var extras: [(name: String, value: ValueID)] = []
        for (index, op) in ops.enumerated() {
            extras += results.dropFirst()
            let isLast = index == ops.count - 1
            let name = isLast ? node.name : "\(node.name).\(op.operation.name)"
            if index > 0 && op.operation.operandCount > 1 {
                throw LoweringError(at: op.location, "\(op.operation.name) reads \(op.operation.operandCount) values, so it must be the first op of its node (with inputs: [...])")
            }
            do {
                results = try lower(op, input: current, extra: index == 0 ? Array(operands.dropFirst()) : [], name: name, node: node)
            } catch let error as LoweringError {
                throw error
            } catch {
                throw LoweringError(at: op.location, "\(op.operation.name): \(error)")
            }
            current = results[0].value
        }
        nodeResults[node.name] = results
        nodeExtras[node.name] = extras
    }

    /// The IR for one YAML op; returns its named results.
    private mutating func lower(
        _ op: OpSpec, input: ValueID, extra: [ValueID], name: String, node nodeSpec: NodeSpec
    ) throws -> [(name: String, value: ValueID)] {
        let node = nodeSpec.name
        /// An op with one result, reading `x` and the node's further inputs (for its first op).
        func single(_ irOp: Op, _ x: ValueID, _ attributes: Attributes) throws -> [(name: String, value: ValueID)] {
            [(name: "result", value: try graph.append(irOp, [x] + extra, attributes: attributes, name: name)[0])]
        }
        /// An op with several results, each under its `label` (what `node.label` reads) and
        /// its IR `value` name.
        func several(
            _ irOp: Op, _ operands: [ValueID], _ attributes: Attributes, _ results: [(label: String, value: String)]
        ) throws -> [(name: String, value: ValueID)] {
            let types = try graph.inferTypes(op: irOp, inputs: operands, attributes: attributes)
            let values = graph.append(irOp, operands, attributes: attributes, results: zip(results, types).map { (name: $0.value, type: $1) })
            return zip(results, values).map { (name: $0.label, value: $1) }
        }
        switch op.operation {
        case .decode(let d):
            let type = graph.type(of: input)
            guard type.dtype == .u8, type.rank == 1 else {
                throw LoweringError(at: op.location, "decode reads JPEG bytes (a `jpeg` input), found \(type)")
            }
            return try single(.decodeJPEG, input, [
                "color": .string(d.color.rawValue), "orientation": .string(d.orientation.rawValue),
                "max_pixels": .int(d.maxPixels), "on_corrupt": .string(d.onCorrupt.rawValue),
            ])
        case .resize(let r):
            var attributes: Attributes = ["interpolation": .string(r.interpolation.rawValue)]
            if r.antialias { attributes["antialias"] = .int(1) }
            switch r.target {
            case .letterbox(let h, let w):
                attributes["size"] = .ints([h, w])
                attributes["pad_value"] = .float(Float(r.padValue))
                attributes["align"] = .string(r.alignment.rawValue)
                return try several(.letterbox, [input], attributes, [("result", name), ("letterbox", "\(node).letterbox")])
            case .size(let h, let w): attributes["size"] = .ints([h, w])
            case .shorter(let n, let maxSize):
                attributes["shorter"] = .int(n)
                if let maxSize { attributes["max_size"] = .int(maxSize) }
            case .longer(let n): attributes["longer"] = .int(n)
            case .longerAtMost(let n, let multiple):
                attributes["longer_at_most"] = .int(n)
                attributes["multiple_of"] = .int(multiple)
            case .shorterAtLeast(let n, let multiple):
                attributes["shorter_at_least"] = .int(n)
                attributes["multiple_of"] = .int(multiple)
            case .multipleOf(let multiple): attributes["multiple_of"] = .int(multiple)
            case .height(let h, let minWidth, let maxWidth):
                attributes["height"] = .int(h)
                attributes["min_width"] = .int(minWidth)
                attributes["max_width"] = .int(maxWidth)
            }
            return try single(.resize, input, attributes)
        case .centerCrop(let c):
            return try single(.crop, input, ["size": .ints([c.height, c.width])])
        case .crop(let c):
            return try single(.crop, input, ["box": .ints([c.y, c.x, c.height, c.width])])
        case .convertColor(let c):
            return try single(.convertColor, input, ["from": .string(c.from.rawValue), "to": .string(c.to.rawValue)])
        case .cast(let c):
            return try single(.cast, input, ["to": .string(c.to.rawValue)])
        case .normalize(let n):
            var x = input
            if graph.type(of: x).dtype != .f32 {
                x = try graph.append(.cast, [x], attributes: ["to": .string("f32")], name: "\(name).cast")[0]
            }
            return try single(.normalize, x, [
                "scale": .float(Float(n.scale)), "mean": .floats(n.mean.map(Float.init)), "std": .floats(n.std.map(Float.init)),
            ])
        case .layout(let target):
            return [(name: "result", value: try lowerLayout(input, to: target, name: name, at: op.location))]
        case .pad(let p):
            var attributes: Attributes = ["value": .floats(p.value.map(Float.init))]
            switch p.amount {
            case .multipleOf(let n): attributes["multiple_of"] = .int(n)
            case .pads(let t, let l, let b, let r): attributes["pads"] = .ints([t, l, b, r])
            case .atLeast(let h, let w): attributes["min_size"] = .ints([h, w])
            }
            return try single(.padSpatial, input, attributes)
        case .toTensor(let t):
            // torchvision's ToTensor: u8 → f32 / 255, channels first.
            let cast = try graph.append(.cast, [input], attributes: ["to": .string("f32")], name: "\(name).cast")[0]
            let scaled = try graph.append(
                .normalize, [cast], attributes: ["scale": .float(Float(1.0 / 255.0)), "mean": .floats([0]), "std": .floats([1])],
                name: "\(name).normalize")[0]
            return [(name: "result", value: try lowerLayout(scaled, to: t.layout, name: name, at: op.location))]
        case .softmax(let s):
            return try single(.softmax, input, ["axis": .int(s.axis)])
        case .topk(let t):
            let results = try graph.append(.topk, [input], attributes: ["k": .int(t.k), "axis": .int(t.axis)], name: name)
            topks.append((results[0], results[1], try t.labels.map(readLabels)))
            return [(name: "values", value: results[0]), (name: "indices", value: results[1])]
        case .forEach:
            return try single(.forEach, input, [:])
        case .collect:
            // Each result is named as what it gathers was within its node (`text.tokens` →
            // `tokens`), so `all.tokens` reads it.
            let labels = nodeSpec.inputs.map { reference -> String in
                if case .node(let producer, let output) = reference.producer { return output ?? producer }
                return "\(reference)"
            }
            guard Set(labels).count == labels.count else {
                throw LoweringError(at: op.location, "collect gathers values with the same name twice: \(labels.joined(separator: ", "))")
            }
            guard labels.count > 1 else { return try single(.collect, input, [:]) }
            return try several(.collect, [input] + extra, [:], labels.map { ($0, "\(name).\($0)") })
        case .nms(let n):
            var attributes: Attributes = [
                "iou_threshold": .float(Float(n.iouThreshold)), "mode": .string(n.overlap.rawValue),
                "pixel_inclusive": .int(n.pixelInclusive ? 1 : 0),
            ]
            if let threshold = n.scoreThreshold { attributes["score_threshold"] = .float(Float(threshold)) }
            if let limit = n.maxOutput { attributes["max_output"] = .int(limit) }
            if let limit = n.candidates { attributes["candidates"] = .int(limit) }
            if graph.type(of: extra.first ?? input).rank == 2 { attributes["classes"] = .string(n.classes.rawValue) }
            return try single(.nms, input, attributes)
        case .tileBoxes(let t):
            return try single(.tileBoxes, input, ["size": .ints([t.height, t.width]), "rows": .int(t.rows), "cols": .int(t.cols)])
        case .cropBox(let c):
            return try single(.cropBox, input, ["size": .ints([c.height, c.width])])
        case .mean(let axis):
            return try single(.reduceMean, input, ["axes": .ints([axis]), "keepdims": .int(1)])
        case .dbBoxes(let d):
            return try single(.dbBoxes, input, [
                "threshold": .float(Float(d.threshold)), "box_threshold": .float(Float(d.boxThreshold)),
                "unclip_ratio": .float(Float(d.unclipRatio)), "max_candidates": .int(d.maxCandidates),
            ])
        case .perspectiveCrop:
            return try single(.perspectiveCrop, input, [:])
        case .rotate180If(let r):
            return try single(.rotate180If, input, ["class": .int(r.classIndex), "threshold": .float(Float(r.threshold))])
        case .ctcDecode(let c):
            let labels = try ctcLabels(c, of: nodeSpec, at: op.location)
            if let classes = graph.type(of: input).shape.last?.value, classes != labels.count + 1 {
                throw LoweringError(
                    at: op.location, "ctc_decode: the model gives \(classes) classes per step, but there are \(labels.count) labels (+ the blank = \(labels.count + 1))")
            }
            let results = try several(.ctcDecode, [input], ["max_length": .int(c.maxLength)], [("tokens", name), ("scores", "\(node).scores")])
            tokenLabels[results[0].value] = labels
            return results
        case .mapBoxes:
            return try single(.mapBoxes, input, [:])
        case .cropResize(let height, let width, let interpolation):
            return try single(.cropResize, input, ["size": .ints([height, width]), "interpolation": .string(interpolation.rawValue)])
        case .pyramidScales(let minSize, let factor, let window):
            return try single(.pyramidScales, input, ["min_size": .float(Float(minSize)), "factor": .float(Float(factor)), "window": .int(window)])
        case .resizeByScale(let interpolation):
            return try single(.resizeByScale, input, ["interpolation": .string(interpolation.rawValue)])
        case .divideByMax:
            return try single(.divideByMax, input, [:])
        case .minMaxNormalize:
            return try single(.minMaxNormalize, input, [:])
        case .resizeLike(let interpolation):
            return try single(.resizeLike, input, ["interpolation": .string(interpolation.rawValue)])
        case .cutout:
            return try single(.cutout, input, [:])
        case .transposeImage:
            guard graph.type(of: input).layout == .hwc else {
                throw LoweringError(at: op.location, "transpose_image swaps the height and width of an HWC image, found \(graph.type(of: input))")
            }
            return try single(.transpose, input, ["perm": .ints([1, 0, 2])])
        case .mtcnnPNetBoxes(let threshold, let iou):
            return try single(.mtcnnPNetBoxes, input, ["threshold": .float(Float(threshold)), "iou_threshold": .float(Float(iou))])
        case .mtcnnMerge(let iou):
            return try single(.mtcnnMerge, input, ["iou_threshold": .float(Float(iou))])
        case .mtcnnCrop(let size):
            return try single(.mtcnnCrop, input, ["size": .int(size)])
        case .mtcnnRefine(let threshold, let iou):
            return try single(.mtcnnRefine, input, ["threshold": .float(Float(threshold)), "iou_threshold": .float(Float(iou))])
        case .mtcnnFaces(let threshold, let iou):
            let results = try several(
                .mtcnnFaces, [input] + extra, ["threshold": .float(Float(threshold)), "iou_threshold": .float(Float(iou))],
                ["boxes", "scores", "landmarks"].map { ($0, "\(name).\($0)") })
            detections.append((results[0].value, results[1].value, results[2].value, nil, nil))
            return results
        case .dflBoxes(let grid):
            return try single(.dflBoxes, input, gridAttributes(grid))
        case .gridDecode(let grid, let objectness):
            var attributes = gridAttributes(grid)
            attributes["objectness"] = .int(objectness ? 1 : 0)
            return try several(.gridDecode, [input] + extra, attributes, [("boxes", name), ("scores", "\(node).scores")])
        case .topCells(let k):
            return try single(.topCells, input, ["k": .int(k)])
        case .detections(let d):
            let labels = try detectionLabels(d.labels)
            let results = try several(.detections, [input] + extra, [:], ["boxes", "scores", "classes"].map { ($0, "\(name).\($0)") })
            if let labels, let kept = extra.last, graph.type(of: kept).rank == 2, let classes = graph.type(of: extra[0]).shape.last?.value, classes != labels.count {
                throw LoweringError(at: op.location, "detections: the scores have \(classes) classes, but there are \(labels.count) labels")
            }
            detections.append((results[0].value, results[1].value, nil, results[2].value, labels))
            return results
        case .textLines(let minScore):
            let operands = [input] + extra
            guard let labels = labelsOfTokens(operands[1]) else {
                throw LoweringError(at: op.location, "text_lines: its second input must be the tokens of a ctc_decode (or their collect)")
            }
            let results = try several(
                .textLines, operands, ["min_score": .float(Float(minScore))], ["boxes", "tokens", "scores"].map { ($0, "\(name).\($0)") })
            textLines.append((results[0].value, results[1].value, results[2].value, labels))
            return results
        }
    }

    /// Layout changes as transposes and a batch axis, so passes see ordinary movement ops.
    private mutating func lowerLayout(_ x: ValueID, to target: OpSpec.Layout, name: String, at location: SourceLocation) throws -> ValueID {
        let from = graph.type(of: x).layout
        let steps: [(Op, Attributes)]
        switch (from, target) {
        case (.hwc, .hwc), (.chw, .chw), (.nchw, .nchw), (.nhwc, .nhwc): return x
        case (.hwc, .chw): steps = [(.transpose, ["perm": .ints([2, 0, 1])])]
        case (.hwc, .nchw): steps = [(.transpose, ["perm": .ints([2, 0, 1])]), (.unsqueeze, ["axes": .ints([0])])]
        case (.hwc, .nhwc), (.chw, .nchw): steps = [(.unsqueeze, ["axes": .ints([0])])]
        case (.chw, .hwc): steps = [(.transpose, ["perm": .ints([1, 2, 0])])]
        // Back to an image from a batch of one (a model's output): the batch axis must be 1.
        case (.nchw, .hwc): steps = [(.transpose, ["perm": .ints([0, 2, 3, 1])]), (.squeeze, ["axes": .ints([0])])]
        case (.nchw, .chw), (.nhwc, .hwc): steps = [(.squeeze, ["axes": .ints([0])])]
        case (.nchw, .nhwc): steps = [(.transpose, ["perm": .ints([0, 2, 3, 1])])]
        case (.nhwc, .nchw): steps = [(.transpose, ["perm": .ints([0, 3, 1, 2])])]
        default:
            throw LoweringError(at: location, "cannot change layout \(from == .none ? "(none)" : from.rawValue) to \(target.rawValue)")
        }
        var value = x
        for (i, (op, attributes)) in steps.enumerated() {
            let stepName = i == steps.count - 1 ? name : "\(name).\(op.rawValue)"
            value = try graph.append(op, [value], attributes: attributes, name: stepName)[0]
        }
        return value
    }

    /// The grid attributes of `dfl_boxes` and `grid_decode`.
    private func gridAttributes(_ grid: DetectionGridSpec) -> Attributes {
        [
            "strides": .ints(grid.strides), "input_size": .ints([grid.inputHeight, grid.inputWidth]),
            "cell_offset": .float(Float(grid.cellOffset)),
        ]
    }

    /// The class names of a `detections`: a model node's metadata entry (one name per line) or a file.
    private func detectionLabels(_ labels: DetectionsSpec.Labels) throws -> [String]? {
        switch labels {
        case .none:
            return nil
        case .file(let path):
            return try readLabels(path)
        case .modelMetadata(let node, let key):
            guard let metadata = modelMetadata[node.value] else {
                throw LoweringError(at: node.location, "'\(node.value)' is not a model node before this one")
            }
            guard let text = metadata[key] else {
                throw LoweringError(at: node.location, "the model of node '\(node.value)' has no metadata entry '\(key)' (its entries: \(metadata.keys.sorted().joined(separator: ", ")))")
            }
            return metadataLines(text)
        }
    }

    /// A metadata entry's lines (CR LF or LF; a final empty line dropped).
    private func metadataLines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// The labels a `ctc_decode` names: its model's metadata entry (one label per line, and a
    /// space after them, as PaddleOCR's `CTCLabelDecode` appends one), or a labels file.
    private func ctcLabels(_ spec: CTCDecodeSpec, of node: NodeSpec, at location: SourceLocation) throws -> [String] {
        switch spec.labels {
        case .file(let path):
            return try readLabels(path)
        case .modelMetadata(let key):
            guard let reference = node.inputs.first, case .node(let producer, _) = reference.producer,
                  let metadata = modelMetadata[producer] else {
                throw LoweringError(at: location, "ctc_decode with labels: model must read a model node's output")
            }
            guard let text = metadata[key] else {
                throw LoweringError(at: location, "the model of node '\(producer)' has no metadata entry '\(key)' (its entries: \(metadata.keys.sorted().joined(separator: ", ")))")
            }
            return metadataLines(text) + [" "]
        }
    }

    /// The labels of a `ctc_decode`'s tokens, followed through the `collect` that gathered them.
    private func labelsOfTokens(_ value: ValueID) -> [String]? {
        if let labels = tokenLabels[value] { return labels }
        guard let producer = graph.producers()[value], graph.nodes[producer].op == .collect,
              let position = graph.nodes[producer].outputs.firstIndex(of: value) else { return nil }
        return tokenLabels[graph.nodes[producer].inputs[position]]
    }

    private func readLabels(_ path: Located<String>) throws -> [String] {
        guard let text = try? String(contentsOfFile: path.value, encoding: .utf8) else {
            throw LoweringError(at: path.location, "labels file '\(path.value)' cannot be read (run scripts/setup to fetch assets)")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    // MARK: - Models

    private mutating func lowerModel(_ spec: ModelSpec, of node: NodeSpec) throws {
        let path = spec.path.value
        guard FileManager.default.fileExists(atPath: path) else {
            throw LoweringError(at: spec.path.location, "model file '\(path)' does not exist (run scripts/setup to fetch assets)")
        }
        let model: ONNXModel
        do {
            model = try ONNXModel.load(path: path)
        } catch {
            throw LoweringError(at: spec.path.location, "\(error)")
        }
        let inputName: String
        if let chosen = spec.input {
            guard model.inputs.contains(where: { $0.name == chosen.value }) else {
                let names = model.inputs.map(\.name).joined(separator: ", ")
                throw LoweringError(at: chosen.location, "model has no input '\(chosen.value)'; its inputs are: \(names)")
            }
            inputName = chosen.value
        } else {
            guard model.inputs.count == 1, let only = model.inputs.first else {
                let names = model.inputs.map(\.name).joined(separator: ", ")
                throw LoweringError(at: node.location, "model has \(model.inputs.count) inputs (\(names)); name one with model_input")
            }
            inputName = only.name
        }
        guard node.inputs.count == 1, let reference = node.inputs.first else {
            throw LoweringError(at: node.location, "a model node reads exactly one value, found \(node.inputs.count)")
        }
        let value: ValueID
        if case .graphInput(let name) = reference.producer, inputValues[name] == nil,
           let declared = model.inputs.first(where: { $0.name == inputName }) {
            value = graph.addInput(name: name, type: declared.type)
            inputValues[name] = value
        } else {
            value = try queued(try resolve(reference), for: node)
        }
        if let queue = node.queue, queue.maxBatch > 1, let declared = model.inputs.first(where: { $0.name == inputName }),
           declared.type.rank >= 1, declared.type.shape[0].value != nil {
            throw LoweringError(
                at: queue.location,
                "the model's input '\(inputName)' has a fixed batch of \(declared.type.shape[0]), so requests cannot be batched; use max_batch: 1 or a model exported with a dynamic batch dim")
        }
        modelMetadata[node.name] = model.metadata
        do {
            let outputs = try model.inline(into: &graph, binding: [inputName: value])
            nodeResults[node.name] = outputs.map { (name: $0.name, value: $0.value) }
        } catch {
            throw LoweringError(at: node.location, "\(error)")
        }
    }

    // MARK: - Queues

    /// `value` through the batching queue the node declares, or `value` itself when it has none.
    private mutating func queued(_ value: ValueID, for node: NodeSpec) throws -> ValueID {
        guard let queue = node.queue else { return value }
        var attributes: Attributes = [
            "max_batch": .int(queue.maxBatch), "max_delay_us": .int(queue.maxDelayMicroseconds), "capacity": .int(queue.capacity),
            "workers": .int(queue.workers), "threads": .int(queue.threads ?? 0), "timeout_us": .int(queue.timeoutMicroseconds),
            "pad_to_largest": .int(queue.padToLargest ? 1 : 0),
        ]
        if let broker = queue.broker {
            attributes["broker"] = .string(broker.address.description)
            attributes["claim_after_ms"] = .int(broker.claimAfterMilliseconds)
            attributes["max_deliveries"] = .int(broker.maxDeliveries)
        }
        do {
            return try graph.append(.queue, [value], attributes: attributes, name: "\(node.name).queue")[0]
        } catch {
            throw LoweringError(at: queue.location, "queue: \(error)")
        }
    }

    // MARK: - References

    private func resolve(_ reference: ValueReference) throws -> ValueID {
        let all = try resolveAll(reference)
        return all[0]
    }

    /// A bare node reference used as a pipeline output means all of its results.
    private func resolveAll(_ reference: ValueReference) throws -> [ValueID] {
        switch reference.producer {
        case .graphInput(let name):
            guard let value = inputValues[name] else {
                throw LoweringError(at: reference.location, "input '\(name)' is a tensor input; only a model node can read it")
            }
            return [value]
        case .node(let name, let output):
            guard let results = nodeResults[name], !results.isEmpty else {
                throw LoweringError(at: reference.location, "node '\(name)' has no results")
            }
            guard let output else { return results.map(\.value) }
            let candidates = results + (nodeExtras[name] ?? [])
            guard let match = candidates.first(where: { $0.name == output || graph[$0.value].name == output }) else {
                let names = candidates.map(\.name).joined(separator: ", ")
                throw LoweringError(at: reference.location, "node '\(name)' has no result '\(output)'; it has: \(names)")
            }
            return [match.value]
        }
    }
}
