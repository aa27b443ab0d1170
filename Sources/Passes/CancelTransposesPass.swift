import IR

/// `cancel-transposes`: removes layout conversions that meet the model's own transposes.
/// A transpose of a fused `preprocess` result becomes the preprocess's output layout (the
/// kernel writes any of NCHW, NHWC, CHW, HWC directly), and two transposes in a row become
/// one with the composed permutation, or an `identity` view when they cancel. A rewrite
/// happens only where it gives the result exactly its declared type (layout included).
///
/// ```
/// %p : f32[1,3,h,w] NCHW = preprocess(%img) {layout="NCHW", …}                 %t : f32[1,h,w,3] NHWC = preprocess(%img) {layout="NHWC", …}
/// %t : f32[1,h,w,3] NHWC = transpose(%p) {perm=[0,2,3,1]}               ──►
/// ```
///
/// A transpose of a `pad_spatial` result first moves above the padding (padding commutes with
/// a change of image layout), so the conversion `assign-layouts` puts before a channels-last
/// first conv reaches the preprocess even when `fold-normalize` padded its input. Likewise
/// above a batching `queue` when the transpose keeps axis 0 (stacking requests on axis 0
/// commutes with permuting the others), so a model behind a queue still gets its layout
/// written by the preprocess of each request:
///
/// ```
/// %p : f32[1,3,h,w] NCHW = preprocess(…)                          %p : f32[1,h,w,3] NHWC = preprocess(…) {layout="NHWC"}
/// %q : f32[?batch,3,h,w] NCHW = queue(%p)                    ──►   %q.nhwc : f32[?batch,h,w,3] NHWC = queue(%p)
/// %q.nhwc : f32[?batch,h,w,3] NHWC = transpose(%q) {perm=[0,2,3,1]}
/// ```
///
/// MTCNN-style models take NHWC and transpose to NCHW themselves: preprocess writes NCHW, the
/// YAML's `layout: NHWC` or the model's `Transpose(0,2,3,1)`… each pair folds away here.
/// Exact: transposes only move elements. Legal when the first value has no other use; the
/// result keeps the last value (and its name). Only layout changes qualify: a transpose within
/// one layout (an image's height and width swapped, MTCNN's inputs) stays where it is.
public struct CancelTransposesPass: Pass {
    public let name = "cancel-transposes"
    public let summary = "fold transposes into the preprocess layout and cancel or merge transpose pairs"
    public let fidelity = Fidelity.exact

    public init() {}

    static let preprocessLayouts: Set<Layout> = [.nchw, .nhwc, .chw, .hwc]

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        var g = graph
        while let (padIndex, transposeIndex) = Self.nextHoist(in: g) {
            let pad = g.nodes[padIndex], transpose = g.nodes[transposeIndex]
            let source = pad.inputs[0]
            let type = try g.inferTypes(op: .transpose, inputs: [source], attributes: transpose.attributes)[0]
            // The moved value takes the source's name: folded into a preprocess, it is what
            // `--save preprocess.raw` means, now in the model's layout.
            let name = g[source].name
            g.rename(source, to: name + "." + g.type(of: source).layout.rawValue.lowercased())
            let moved = g.addValue(name: name, type: type)
            g.nodes[padIndex] = Node(op: .transpose, inputs: [source], outputs: [moved], attributes: transpose.attributes)
            g.nodes[transposeIndex] = Node(op: pad.op, inputs: [moved], outputs: transpose.outputs, attributes: pad.attributes)
            statistics.count("hoisted # transposes above \(pad.op.rawValue)")
        }
        // Each rewrite removes one node; repeat until no pair is left (chains of transposes).
        while let (producerIndex, transposeIndex, replacement, event) = Self.nextRewrite(in: g) {
            g.nodes[transposeIndex] = replacement
            g.nodes.remove(at: producerIndex)
            statistics.count(event)
        }
        return g
    }

    /// A `pad_spatial` or `queue` read only by a transpose (between two image layouts; for a
    /// queue, one that keeps axis 0): padding commutes with the transpose (its pads name the
    /// spatial axes, whatever the layout), and so does stacking on axis 0, so the transpose
    /// moves above it, towards a preprocess that can absorb it. Their node indices.
    static func nextHoist(in g: Graph) -> (Int, Int)? {
        let users = g.users(), uses = g.useCounts(), producers = g.producers()
        for (index, transpose) in g.nodes.enumerated() where transpose.op == .transpose {
            guard let input = transpose.inputs.first, let padIndex = producers[input],
                  [.padSpatial, .queue].contains(g.nodes[padIndex].op),
                  g.soleUser(of: input, users: users, useCounts: uses) == index,
                  preprocessLayouts.contains(g.type(of: transpose.outputs[0]).layout),
                  // A transpose within one layout (height and width swapped) is no layout change.
                  g.type(of: input).layout != g.type(of: transpose.outputs[0]).layout else { continue }
            let pad = g.nodes[padIndex]
            if pad.op == .queue && transpose.attributes.ints("perm")?.first != 0 { continue }
            guard let moved = try? g.inferTypes(op: .transpose, inputs: [pad.inputs[0]], attributes: transpose.attributes).first,
                  preprocessLayouts.contains(moved.layout) else { continue }
            guard let padded = try? ShapeInference.resultTypes(op: pad.op, inputs: [moved], attributes: pad.attributes, constants: [nil]),
                  padded == [g.type(of: transpose.outputs[0])] else { continue }
            return (padIndex, index)
        }
        return nil
    }

    /// The first (producer, transpose) pair to rewrite: their node indices, the node that
    /// replaces both, and the statistics event. A rewrite must reproduce the declared type of
    /// the transpose's result exactly (layout included), else the pair is left alone.
    static func nextRewrite(in g: Graph) -> (Int, Int, Node, String)? {
        let users = g.users(), uses = g.useCounts(), producers = g.producers()
        for (index, transpose) in g.nodes.enumerated() where transpose.op == .transpose {
            guard let input = transpose.inputs.first, let producerIndex = producers[input],
                  g.soleUser(of: input, users: users, useCounts: uses) == index else { continue }
            let producer = g.nodes[producerIndex], result = transpose.outputs[0]
            var replacement = producer
            replacement.outputs = [result]
            let event: String
            switch producer.op {
            case .preprocess where preprocessLayouts.contains(g.type(of: result).layout) && g.type(of: input).layout != g.type(of: result).layout:
                replacement.attributes["layout"] = .string(g.type(of: result).layout.rawValue)
                event = "folded # transposes into preprocess"
            case .transpose:
                guard let first = producer.attributes.ints("perm"), let second = transpose.attributes.ints("perm"),
                      first.count == second.count else { continue }
                let composed = second.map { first[$0] }
                if composed == Array(composed.indices) {
                    replacement = Node(op: .identity, inputs: producer.inputs, outputs: [result])
                    event = "cancelled # transpose pairs"
                } else {
                    replacement.attributes["perm"] = .ints(composed)
                    event = "merged # transpose pairs"
                }
            default:
                continue
            }
            guard let inferred = try? g.inferTypes(op: replacement.op, inputs: replacement.inputs, attributes: replacement.attributes),
                  inferred == [g.type(of: result)] else { continue }
            return (producerIndex, index, replacement, event)
        }
        return nil
    }
}
