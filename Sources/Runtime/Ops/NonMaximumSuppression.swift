import IR

/// Greedy non-maximum suppression: take the best-scoring box left, drop every remaining box
/// whose overlap with it exceeds the threshold (a box at exactly the threshold stays), repeat.
/// The `nms` op's kernel, and the one implementation the cascades use.
///
/// Boxes are (x1, y1, x2, y2). With `pixelInclusive` a box covers columns x1…x2, so its width
/// is x2 − x1 + 1 (MTCNN's convention); otherwise x2 − x1 (ONNX, torchvision).
public enum NonMaximumSuppression {
    /// How the overlap of two boxes is measured.
    public enum Overlap: String, Sendable {
        /// Intersection over union.
        case union
        /// Intersection over the smaller box's area: suppresses a box nested inside a better
        /// one even when the union is large (MTCNN's O-Net step uses it).
        case minimum
    }

    /// - Parameters:
    ///   - boxes: four numbers per box.
    ///   - scoreThreshold: boxes scoring below it are dropped first (nil keeps all).
    ///   - maxOutput: keep at most this many.
    ///   - laterIndexFirstOnTies: among equal scores, prefer the later box (NumPy's `argsort`
    ///     read from the end, as MTCNN does); otherwise the earlier (a stable sort, as ONNX).
    /// - Returns: the indices of the kept boxes, best score first.
    public static func keep(
        boxes: [Double], scores: [Double], threshold: Double, overlap: Overlap, pixelInclusive: Bool,
        scoreThreshold: Double? = nil, maxOutput: Int = .max, laterIndexFirstOnTies: Bool = false
    ) -> [Int] {
        let extra = pixelInclusive ? 1.0 : 0.0
        func area(_ i: Int) -> Double { max(0, boxes[4 * i + 2] - boxes[4 * i] + extra) * max(0, boxes[4 * i + 3] - boxes[4 * i + 1] + extra) }
        func overlapOf(_ a: Int, _ b: Int) -> Double {
            let width = max(0, min(boxes[4 * a + 2], boxes[4 * b + 2]) - max(boxes[4 * a], boxes[4 * b]) + extra)
            let height = max(0, min(boxes[4 * a + 3], boxes[4 * b + 3]) - max(boxes[4 * a + 1], boxes[4 * b + 1]) + extra)
            let intersection = width * height
            let denominator = overlap == .union ? area(a) + area(b) - intersection : min(area(a), area(b))
            return denominator > 0 ? intersection / denominator : 0
        }
        // Ascending, so the best is popped from the end.
        var remaining = scores.indices.filter { scoreThreshold == nil || scores[$0] >= scoreThreshold! }.sorted { a, b in
            scores[a] != scores[b] ? scores[a] < scores[b] : (laterIndexFirstOnTies ? a < b : a > b)
        }
        var kept: [Int] = []
        while kept.count < maxOutput, let best = remaining.popLast() {
            kept.append(best)
            remaining.removeAll { overlapOf(best, $0) > threshold }
        }
        return kept
    }

    /// The `nms` op on tensors: boxes `[n, 4]`, scores `[n]` → kept indices `i64[k]`.
    static func run(_ node: Node, _ operands: [Tensor], name: String) throws -> Tensor {
        let boxes = operands[0], scores = operands[1]
        guard boxes.shape.count == 2, boxes.shape[1] == 4, scores.shape == [boxes.shape[0]] else {
            throw RuntimeError.shape(value: name, "nms expects boxes [n,4] and scores [n], got \(boxes.shape) and \(scores.shape)")
        }
        let a = node.attributes
        let kept = keep(
            boxes: boxes.floats.map(Double.init), scores: scores.floats.map(Double.init),
            threshold: Double(a.float("iou_threshold", default: 0.5)),
            overlap: Overlap(rawValue: a.string("mode") ?? "union") ?? .union,
            pixelInclusive: a.int("pixel_inclusive", default: 0) == 1,
            scoreThreshold: a.float("score_threshold").map(Double.init),
            maxOutput: a.int("max_output", default: 0) > 0 ? a.int("max_output", default: 0) : .max)
        return Tensor(shape: [kept.count], int64s: kept.map(Int64.init))
    }
}
