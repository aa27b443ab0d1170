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

/// Greedy NMS as MTCNN does it (pixel-inclusive boxes; equal scores keep the later index
/// first, as NumPy's `argsort` taken from the end does), by the runtime's one implementation.
/// - Returns: the indices of the kept boxes, best score first.
func nonMaximumSuppression(_ boxes: [ScoredBox], threshold: Double, mode: NonMaximumSuppression.Overlap) -> [Int] {
    NonMaximumSuppression.keep(
        boxes: boxes.flatMap { [$0.x1, $0.y1, $0.x2, $0.y2] }, scores: boxes.map(\.score), threshold: threshold, overlap: mode,
        pixelInclusive: true, laterIndexFirstOnTies: true)
}
