/// Cutting a text box out of an image: RapidOCR's `get_rotate_crop_image`, and the 90°/180°
/// rotations the OCR pipeline applies to crops.
public enum PerspectiveCrop {
    /// The homography taking `from[i]` to `to[i]` (4 point pairs, no 3 collinear), row-major
    /// 3×3 with the last entry 1, as `cv2.getPerspectiveTransform` solves it (an 8×8 linear
    /// system; here by Gaussian elimination with partial pivoting). Nil when singular.
    public static func homography(from: [Point], to: [Point]) -> [Double]? {
        precondition(from.count == 4 && to.count == 4, "a homography needs 4 point pairs")
        var a = [[Double]](repeating: [Double](repeating: 0, count: 9), count: 8)
        for i in 0..<4 {
            let (u, v, x, y) = (from[i].x, from[i].y, to[i].x, to[i].y)
            a[i] = [u, v, 1, 0, 0, 0, -u * x, -v * x, x]
            a[i + 4] = [0, 0, 0, u, v, 1, -u * y, -v * y, y]
        }
        for column in 0..<8 {
            let pivot = (column..<8).max { abs(a[$0][column]) < abs(a[$1][column]) }!
            guard abs(a[pivot][column]) > 1e-12 else { return nil }
            a.swapAt(column, pivot)
            for row in 0..<8 where row != column {
                let factor = a[row][column] / a[column][column]
                if factor != 0 { for k in column..<9 { a[row][k] -= factor * a[column][k] } }
            }
        }
        return (0..<8).map { a[$0][8] / a[$0][$0] } + [1]
    }

    /// OpenCV's bicubic kernel (a = −0.75): the weights of the 4 taps around a point at
    /// fraction `t` ∈ [0, 1) past the second tap.
    static func cubicWeights(_ t: Double) -> (Double, Double, Double, Double) {
        let a = -0.75
        let w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a
        let w1 = ((a + 2) * t - (a + 3)) * t * t + 1
        let w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1
        return (w0, w1, w2, 1 - w0 - w1 - w2)
    }

    /// The quadrilateral `corners` (top-left, top-right, bottom-right, bottom-left) warped to an
    /// upright `width × height` image, where width = ⌊max(top, bottom edge)⌋ and height =
    /// ⌊max(left, right edge)⌋, corners mapped to (0,0), (w,0), (w,h), (0,h) as RapidOCR does;
    /// then turned 90° counter-clockwise when height / width ≥ 1.5 (a vertical line).
    ///
    /// Sampling follows `cv2.warpPerspective(INTER_CUBIC, BORDER_REPLICATE)` of OpenCV 5.0 (the
    /// peer's `opencv-python-headless`): the source position of each output pixel in double
    /// precision, 4×4 bicubic taps with a = −0.75, edge pixels repeated outside the image,
    /// the sum rounded half up to u8. Measured against it on rotated text boxes: 1 channel value
    /// in ~7000 differs, by 1. (OpenCV 4.x quantizes positions to 1/32 px and uses 15-bit
    /// weights; against that, ~10 % of values differ by 1–3.) A box with integer corners that
    /// is not rotated maps pixels to pixels (fraction 0: weights 0, 1, 0, 0), so its crop is an
    /// exact copy.
    /// - Returns: nil when the box has a side shorter than 1 px or is degenerate.
    public static func crop(_ image: Image, corners: [Point]) -> Image? {
        precondition(corners.count == 4, "a text box has 4 corners")
        func distance(_ a: Point, _ b: Point) -> Double { ((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot() }
        let width = Int(max(distance(corners[0], corners[1]), distance(corners[2], corners[3])))
        let height = Int(max(distance(corners[0], corners[3]), distance(corners[1], corners[2])))
        guard width >= 1, height >= 1 else { return nil }
        let target = [Point(0, 0), Point(Double(width), 0), Point(Double(width), Double(height)), Point(0, Double(height))]
        guard let h = homography(from: target, to: corners) else { return nil }

        let channels = image.channels
        var output = [UInt8](repeating: 0, count: width * height * channels)
        image.pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                var sum = [Double](repeating: 0, count: channels)
                for y in 0..<height {
                    for x in 0..<width {
                        let (dx, dy) = (Double(x), Double(y))
                        let w = h[6] * dx + h[7] * dy + h[8]
                        let scale = w == 0 ? 0 : 1 / w
                        // Clamped so that a far-off position (a nearly degenerate box) stays an Int;
                        // the taps are clamped to the image anyway.
                        let limit = Double(max(image.width, image.height) + 4)
                        let sx = min(max((h[0] * dx + h[1] * dy + h[2]) * scale, -limit), limit)
                        let sy = min(max((h[3] * dx + h[4] * dy + h[5]) * scale, -limit), limit)
                        let (fx, fy) = (sx.rounded(.down), sy.rounded(.down))
                        let (ix, iy) = (Int(fx), Int(fy))
                        let wx = cubicWeights(sx - fx)
                        let wy = cubicWeights(sy - fy)
                        let weightsX = [wx.0, wx.1, wx.2, wx.3], weightsY = [wy.0, wy.1, wy.2, wy.3]
                        for c in 0..<channels { sum[c] = 0 }
                        for j in 0..<4 {
                            let sy = min(max(iy - 1 + j, 0), image.height - 1)
                            for i in 0..<4 {
                                let sx = min(max(ix - 1 + i, 0), image.width - 1)
                                let weight = weightsY[j] * weightsX[i]
                                let base = (sy * image.width + sx) * channels
                                for c in 0..<channels { sum[c] += weight * Double(source[base + c]) }
                            }
                        }
                        let out = (y * width + x) * channels
                        for c in 0..<channels { destination[out + c] = UInt8(min(max((sum[c] + 0.5).rounded(.down), 0), 255)) }
                    }
                }
            }
        }
        let upright = Image(sized: width, height: height, channels: channels, pixels: output)
        return Double(height) / Double(width) >= 1.5 ? rotatedCounterClockwise(upright) : upright
    }

    /// `np.rot90`: a quarter turn counter-clockwise; out(i, j) = in(j, width − 1 − i).
    public static func rotatedCounterClockwise(_ image: Image) -> Image {
        let (w, h, c) = (image.width, image.height, image.channels)
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        for i in 0..<w {
            for j in 0..<h {
                for k in 0..<c { pixels[(i * h + j) * c + k] = image.pixels[(j * w + (w - 1 - i)) * c + k] }
            }
        }
        return Image(sized: h, height: w, channels: c, pixels: pixels)
    }

    /// `cv2.rotate(ROTATE_180)`: out(y, x) = in(h − 1 − y, w − 1 − x).
    public static func rotatedHalfTurn(_ image: Image) -> Image {
        let c = image.channels
        let count = image.width * image.height
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        for p in 0..<count {
            for k in 0..<c { pixels[p * c + k] = image.pixels[(count - 1 - p) * c + k] }
        }
        return Image(sized: image.width, height: image.height, channels: c, pixels: pixels)
    }
}
