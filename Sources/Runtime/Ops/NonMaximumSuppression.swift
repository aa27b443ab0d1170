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
    ///   - candidates: only this many of the best boxes (after the score threshold) take part;
    ///     the rest are dropped (PicoDet's `candidate_size`).
    ///   - maxOutput: keep at most this many.
    ///   - laterIndexFirstOnTies: among equal scores, prefer the later box (NumPy's `argsort`
    ///     read from the end, as MTCNN does); otherwise the earlier (a stable sort, as ONNX).
    /// - Returns: the indices of the kept boxes, best score first.
    public static func keep(
        boxes: [Double], scores: [Double], threshold: Double, overlap: Overlap, pixelInclusive: Bool,
        scoreThreshold: Double? = nil, candidates: Int = .max, maxOutput: Int = .max, laterIndexFirstOnTies: Bool = false
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
        remaining = Array(remaining.suffix(candidates))
        var kept: [Int] = []
        while kept.count < maxOutput, let best = remaining.popLast() {
            kept.append(best)
            remaining.removeAll { overlapOf(best, $0) > threshold }
        }
        return kept
    }

    /// The `nms` op on tensors: boxes `[n, 4]` and scores `[n]` → kept indices `i64[k]`; with
    /// scores `[n, C]`, kept (box, class) pairs `i64[k, 2]`: each class on its own, classes in
    /// order, best first within one (`classes: separate`: `candidates` and `max_output` count
    /// per class), or every box once under its best class (the first on ties), suppressing
    /// across classes (`classes: agnostic`).
    static func run(_ node: Node, _ operands: [Tensor], name: String) throws -> Tensor {
        let boxes = operands[0], scores = operands[1]
        let n = boxes.shape.first ?? 0
        guard boxes.shape == [n, 4], scores.shape.first == n, scores.shape.count == 1 || scores.shape.count == 2 && scores.shape[1] > 0 else {
            throw RuntimeError.shape(value: name, "nms expects boxes [n,4] and scores [n] or [n,classes], got \(boxes.shape) and \(scores.shape)")
        }
        let a = node.attributes
        let corners = boxes.floats.map(Double.init)
        func keep(_ values: [Double]) -> [Int] {
            let limit = { (key: String) in a.int(key, default: 0) > 0 ? a.int(key, default: 0) : .max }
            return Self.keep(
                boxes: corners, scores: values, threshold: Double(a.float("iou_threshold", default: 0.5)),
                overlap: Overlap(rawValue: a.string("mode") ?? "union") ?? .union,
                pixelInclusive: a.int("pixel_inclusive", default: 0) == 1,
                scoreThreshold: a.float("score_threshold").map(Double.init), candidates: limit("candidates"),
                maxOutput: limit("max_output"))
        }
        let values = scores.floats.map(Double.init)
        guard scores.shape.count == 2 else {
            let kept = keep(values)
            return Tensor(shape: [kept.count], int64s: kept.map(Int64.init))
        }
        let classes = scores.shape[1]
        func column(_ row: Int, _ c: Int) -> Double { values[row * classes + c] }
        var pairs: [(box: Int, class: Int)] = []
        if a.string("classes") == "agnostic" {
            let best = (0..<n).map { row in (0..<classes).max { column(row, $0) < column(row, $1) || (column(row, $0) == column(row, $1) && $0 > $1) } ?? 0 }
            pairs = keep((0..<n).map { column($0, best[$0]) }).map { ($0, best[$0]) }
        } else {
            for c in 0..<classes { pairs += keep((0..<n).map { column($0, c) }).map { ($0, c) } }
        }
        return Tensor(shape: [pairs.count, 2], int64s: pairs.flatMap { [Int64($0.box), Int64($0.class)] })
    }
}
