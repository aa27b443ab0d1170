import IR

/// `fuse-preprocess`: replaces a chain of image ops over an HWC u8 image with one
/// `preprocess` node that reads the u8 pixels once and writes the model's f32 input once.
///
/// ```
/// %r : u8[?,?,3] HWC = resize(%img) {shorter=256}
/// %c : u8[224,224,3] HWC = crop(%r) {size=[224,224]}
/// %f : f32[224,224,3] HWC = cast(%c) {to="f32"}                            %x : f32[1,3,224,224] NCHW = preprocess(%img)
/// %n : f32[224,224,3] HWC = normalize(%f) {mean=[…], scale=…, std=[…]}  ──►    {bias=[…], channels=[0,1,2], crop_size=[224,224],
/// %t : f32[3,224,224] CHW = transpose(%n) {perm=[2,0,1]}                        layout="NCHW", scale=[…], shorter=256}
/// %x : f32[1,3,224,224] NCHW = unsqueeze(%t) {axes=[0]}
/// ```
///
/// The chain, walked from its first node: an optional `resize` (before any crop or cast),
/// an optional `crop`, `convert_color` channel selections (`ImageGeometry.channelMap`), the
/// `cast` to f32 (required), `normalize`s after it, and `transpose` / `unsqueeze` anywhere
/// as long as the layout stays one of HWC, CHW, NHWC, NCHW. Every value but the last must
/// have no other use; a chain of one node (a lone cast) is left alone. The fused node takes
/// the last value (and its name, for `--save`).
///
/// Correct because channel selection, crop and layout changes only move elements, so they
/// commute with each other and with the per-channel affine `u8 · scale[c] + bias[c]`, which
/// composes the casts and normalizes; the resize stays first and on u8, rounding as before.
/// Exact up to float rounding: `x·(s/d) − m/d` instead of `(x·s − m)/d`.
public struct FusePreprocessPass: Pass {
    public let name = "fuse-preprocess"
    public let summary = "fuse resize, crop, color, cast, normalize and layout ops into one preprocess node"
    public let fidelity = Fidelity.exact

    public init() {}

    /// A fusable chain: its nodes in order, the u8 image it reads, the fused node's attributes.
    struct Chain {
        let nodes: [Int]
        let source: ValueID
        let result: ValueID
        let attributes: Attributes
    }

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        let users = graph.users(), uses = graph.useCounts()
        var fusedAt: [Int: Node] = [:]
        var absorbed: Set<Int> = []
        for index in graph.nodes.indices where !absorbed.contains(index) {
            guard let chain = Self.match(startingAt: index, in: graph, users: users, uses: uses) else { continue }
            absorbed.formUnion(chain.nodes)
            fusedAt[chain.nodes[chain.nodes.count - 1]] = Node(
                op: .preprocess, inputs: [chain.source], outputs: [chain.result], attributes: chain.attributes)
            statistics.count("fused # preprocess chains")
            statistics.count("absorbed # nodes", by: chain.nodes.count)
        }
        var g = graph
        g.nodes = graph.nodes.indices.compactMap { fusedAt[$0] ?? (absorbed.contains($0) ? nil : graph.nodes[$0]) }
        return g
    }

    /// Legality: the longest chain starting at node `start`, or nil when there is none to fuse.
    static func match(startingAt start: Int, in g: Graph, users: [ValueID: [Int]], uses: [ValueID: Int]) -> Chain? {
        guard let source = g.nodes[start].inputs.first else { return nil }
        let image = g.type(of: source)
        guard image.dtype == .u8, image.rank == 3, image.layout == .hwc, let channels = image.shape[2].value, channels > 0 else {
            return nil
        }
        var steps = PreprocessSteps(channels: channels)
        var nodes: [Int] = []
        var current = source
        var index = start
        while true {
            let node = g.nodes[index]
            guard node.inputs.first == current, node.outputs.count == 1,
                  steps.absorb(node, operand: g.type(of: current), result: g.type(of: node.outputs[0])) else { break }
            nodes.append(index)
            current = node.outputs[0]
            guard let next = g.soleUser(of: current, users: users, useCounts: uses) else { break }
            index = next
        }
        let result = g.type(of: current)
        // Policy: a lone cast gains nothing from becoming a preprocess node.
        guard nodes.count >= 2, steps.isCast, let attributes = steps.attributes(layout: result.layout),
              let inferred = try? g.inferTypes(op: .preprocess, inputs: [source], attributes: attributes).first,
              inferred.dtype == result.dtype, inferred.layout == result.layout, inferred.rank == result.rank
        else { return nil }
        return Chain(nodes: nodes, source: source, result: current, attributes: attributes)
    }
}

/// What a chain of image ops does so far, as the `preprocess` attributes describe it.
struct PreprocessSteps {
    static let resizeKeys = ImageGeometry.resizeRuleKeys.union(ImageGeometry.resizeModifierKeys).union(["interpolation"])
    static let cropKeys: [String: String] = ["size": "crop_size", "box": "crop_box"]

    private var resize: Attributes?
    private var crop: Attributes?
    /// Output channel c reads source channel `channels[c]`, as `u8 · scale[c] + bias[c]`.
    private var channels: [Int]
    private var scale: [Double]
    private var bias: [Double]
    private(set) var isCast = false

    init(channels count: Int) {
        channels = Array(0..<count)
        scale = Array(repeating: 1, count: count)
        bias = Array(repeating: 0, count: count)
    }

    /// Adds one node to the chain; false (and no change) when it cannot be part of it.
    mutating func absorb(_ node: Node, operand: TensorType, result: TensorType) -> Bool {
        let a = node.attributes
        switch node.op {
        case .resize:
            guard resize == nil, crop == nil, !isCast, a.storage.keys.allSatisfy(Self.resizeKeys.contains) else { return false }
            resize = a
        case .crop:
            guard crop == nil, a.storage.count == 1, let (key, value) = a.storage.first, let fusedKey = Self.cropKeys[key] else {
                return false
            }
            crop = [fusedKey: value]
        case .convertColor:
            let from = a.string("from") ?? "rgb", to = a.string("to") ?? "rgb"
            guard ImageGeometry.channels(of: from) == channels.count,
                  let map = ImageGeometry.channelMap(from: from, to: to) else { return false }
            (channels, scale, bias) = (map.map { channels[$0] }, map.map { scale[$0] }, map.map { bias[$0] })
        case .cast:
            guard !isCast, a.string("to") == DType.f32.rawValue else { return false }
            isCast = true
        case .normalize:
            let s = Double(a.float("scale", default: 1))
            let mean = (a.floats("mean") ?? [0]).map(Double.init), std = (a.floats("std") ?? [1]).map(Double.init)
            let n = channels.count
            guard isCast, [1, n].contains(mean.count), [1, n].contains(std.count), !std.contains(0) else { return false }
            for c in 0..<n {
                let m = mean[mean.count == 1 ? 0 : c], d = std[std.count == 1 ? 0 : c]
                (scale[c], bias[c]) = (scale[c] * s / d, (bias[c] * s - m) / d)
            }
        case .transpose, .unsqueeze:
            // A layout change only: a transpose within one layout (an image's height and width
            // swapped) moves pixels, which the fused kernel's `layout` cannot express.
            guard result.layout != .none, node.op == .unsqueeze || operand.layout != result.layout else { return false }
        default:
            return false
        }
        return true
    }

    /// The fused node's attributes for a result in `layout`.
    func attributes(layout: Layout) -> Attributes? {
        guard layout != .none else { return nil }
        var a = resize ?? [:]
        for (key, value) in crop?.storage ?? [:] { a[key] = value }
        a["channels"] = .ints(channels)
        a["scale"] = .floats(scale.map(Float.init))
        a["bias"] = .floats(bias.map(Float.init))
        a["layout"] = .string(layout.rawValue)
        return a
    }
}
