import IR

/// `decode-scale`: lets a JPEG decode pick TurboJPEG's DCT-domain scaling factor (1/8 … 1/2,
/// else full size) per image, the smallest whose output is still at least as large as what
/// the following resize produces, by copying that resize's size rule onto the decode node.
/// 5/8 … 7/8 are left out: their IDCTs have no SIMD form in libjpeg-turbo and decode slower
/// than full size (`DecodeConfig.options(for:)`).
///
/// ```
/// %d : u8[?h,?w,3] HWC = decode_jpeg(%jpeg) {color="rgb", …}                      %d : u8[?h,?w,3] HWC = decode_jpeg(%jpeg) {color="rgb", fit_interpolation="bilinear", fit_shorter=256, …}
/// %p : f32[1,3,224,224] NCHW = preprocess(%d) {shorter=256, crop_size=[224,224], …}  ──►  %p : f32[1,3,224,224] NCHW = preprocess(%d) {…}
/// ```
///
/// Shapes stay symbolic: the runtime reads each image's header, tries the factors from the
/// smallest up (`ImageGeometry.decodedSizeSuffices`), and plans for the size it decodes. The
/// resize then starts from a smaller image whose pixels are 8×8-block averages computed in
/// the DCT domain, not the full-size pixels, so results move: approximate (fidelity `fast`).
/// A 5120×2880 photo resized to a 256 shorter side decodes at 1/8 (640×360). A progressive
/// file at 1/2, 1/4 or 1/8 then entropy-decodes only the scans that factor reads (the
/// decoder's scan pruning, exact against its full decode at the same factor).
///
/// Legal when the decode's only user is a `resize`, `letterbox` or a `preprocess` that
/// resizes, and the decode does not already have a fixed scale. `decode-region` then limits
/// the decode to the window the preprocess reads, at whatever scale this pass picked.
public struct DecodeScalePass: Pass {
    public let name = "decode-scale"
    public let summary = "decode JPEGs at the smallest DCT scaling factor the following resize still needs"
    public let fidelity = Fidelity.fast

    public init() {}

    static let resizeKeys = ["size", "shorter", "longer", "max_size", "interpolation", "antialias"]

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        let users = graph.users(), uses = graph.useCounts()
        var g = graph
        for (index, node) in graph.nodes.enumerated() where node.op == .decodeJPEG {
            guard ImageGeometry.decodeFit(node.attributes) == nil, node.attributes["scale_num"] == nil,
                  let userIndex = graph.soleUser(of: node.outputs[0], users: users, useCounts: uses),
                  let fit = Self.fit(of: graph.nodes[userIndex]) else { continue }
            for (key, value) in fit.storage { g.nodes[index].attributes[ImageGeometry.decodeFitPrefix + key] = value }
            statistics.count("scaled # decodes")
        }
        return g
    }

    /// The size rule of a resizing consumer, in `resize` attribute form.
    static func fit(of user: Node) -> Attributes? {
        switch user.op {
        case .letterbox:
            guard let size = user.attributes["size"] else { return nil }
            return ["letterbox": size]
        case .resize, .preprocess:
            let rule = user.attributes.storage.filter { resizeKeys.contains($0.key) }
            guard rule.keys.contains(where: { ["size", "shorter", "longer"].contains($0) }) else { return nil }
            return Attributes(rule)
        default:
            return nil
        }
    }
}
