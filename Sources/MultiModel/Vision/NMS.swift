import Runtime
/// An axis-aligned box with a score, in MTCNN's pixel-inclusive convention: it covers
/// columns x1…x2, so its width is `x2 - x1 + 1`.
public struct ScoredBox: Sendable, Equatable {
    public var x1: Double
    public var y1: Double
    public var x2: Double
    public var y2: Double
    public var score: Double

    public init(x1: Double, y1: Double, x2: Double, y2: Double, score: Double) {
        self.x1 = x1
        self.y1 = y1
        self.x2 = x2
        self.y2 = y2
        self.score = score
    }

    public var width: Double { x2 - x1 + 1 }
    public var height: Double { y2 - y1 + 1 }
    public var area: Double { width * height }
}

/// How NMS measures the overlap of two boxes.
public enum OverlapMode: String, Sendable {
    /// Intersection over union.
    case union
    /// Intersection over the smaller box's area: suppresses a box nested inside a better
    /// one even when the union is large (MTCNN's O-Net step uses it).
    case minimum
}

/// The overlap of `a` and `b` under `mode`, pixel-inclusive (see `ScoredBox`).
public func overlap(_ a: ScoredBox, _ b: ScoredBox, mode: OverlapMode) -> Double {
    let width = max(0, min(a.x2, b.x2) - max(a.x1, b.x1) + 1)
    let height = max(0, min(a.y2, b.y2) - max(a.y1, b.y1) + 1)
    let intersection = width * height
    switch mode {
    case .union: return intersection / (a.area + b.area - intersection)
    case .minimum: return intersection / min(a.area, b.area)
    }
}

/// Greedy non-maximum suppression as MTCNN does it: take the best-scoring box left, drop
/// every remaining box whose overlap with it exceeds `threshold` (a box at exactly the
/// threshold stays), repeat.
/// - Returns: the indices of the kept boxes, best score first. Equal scores keep the later
///   index first, as NumPy's `argsort` taken from the end does.
public func nonMaximumSuppression(_ boxes: [ScoredBox], threshold: Double, mode: OverlapMode) -> [Int] {
    var remaining = boxes.indices.sorted { boxes[$0].score < boxes[$1].score || (boxes[$0].score == boxes[$1].score && $0 < $1) }
    var kept: [Int] = []
    while let best = remaining.popLast() {
        kept.append(best)
        remaining.removeAll { overlap(boxes[best], boxes[$0], mode: mode) > threshold }
    }
    return kept
}
