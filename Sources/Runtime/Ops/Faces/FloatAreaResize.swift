// OpenCV's INTER_AREA in double precision, for the MTCNN ops: the peer resizes each crop as
// a float image (its network inputs are not rounded to u8, and the C resize kernels write u8
// only), and its pyramid levels as u8 images, which this reproduces exactly once rounded
// where the C area kernel is off by one at fractional scales.

/// OpenCV's `cv::resize(..., INTER_AREA)` on one HWC plane of doubles, as MTCNN's peer
/// calls it: a true area average when shrinking along both axes, otherwise OpenCV's
/// "area-mode" bilinear (weights from how the destination cell covers the source cells).
///
/// Exact for float images; for u8 images OpenCV accumulates in float and rounds, so the
/// caller's rounding of this double result may differ from it by 1 on rare ties.
func resizeArea(
    _ source: (Int, Int, Int) -> Double, width: Int, height: Int, channels: Int, toWidth dw: Int, toHeight dh: Int
) -> [Double] {
    var output = [Double](repeating: 0, count: dw * dh * channels)
    let scaleX = Double(width) / Double(dw)
    let scaleY = Double(height) / Double(dh)
    if scaleX >= 1 && scaleY >= 1 {
        let xs = areaTable(source: width, destination: dw, scale: scaleX)
        let ys = areaTable(source: height, destination: dh, scale: scaleY)
        for (dy, sy, wy) in ys {
            for (dx, sx, wx) in xs {
                let weight = wy * wx
                for c in 0..<channels { output[(dy * dw + dx) * channels + c] += weight * source(sy, sx, c) }
            }
        }
        return output
    }
    let xs = (0..<dw).map { areaModeLinear($0, source: width, scale: scaleX) }
    let ys = (0..<dh).map { areaModeLinear($0, source: height, scale: scaleY) }
    for dy in 0..<dh {
        let (sy, fy) = ys[dy]
        let sy1 = min(sy + 1, height - 1)
        for dx in 0..<dw {
            let (sx, fx) = xs[dx]
            let sx1 = min(sx + 1, width - 1)
            for c in 0..<channels {
                let top = (1 - fx) * source(sy, sx, c) + fx * source(sy, sx1, c)
                let bottom = (1 - fx) * source(sy1, sx, c) + fx * source(sy1, sx1, c)
                output[(dy * dw + dx) * channels + c] = (1 - fy) * top + fy * bottom
            }
        }
    }
    return output
}

/// OpenCV's `computeResizeAreaTab`: (destination index, source index, weight) triples.
private func areaTable(source: Int, destination: Int, scale: Double) -> [(Int, Int, Double)] {
    var table: [(Int, Int, Double)] = []
    for d in 0..<destination {
        let start = Double(d) * scale
        let end = start + scale
        let cellWidth = min(scale, Double(source) - start)
        var first = Int(start.rounded(.up))
        var last = Int(end.rounded(.down))
        last = min(last, source - 1)
        first = min(first, last)
        if Double(first) - start > 1e-3 { table.append((d, first - 1, (Double(first) - start) / cellWidth)) }
        for s in first..<max(first, last) { table.append((d, s, 1 / cellWidth)) }
        if end - Double(last) > 1e-3 { table.append((d, last, min(min(end - Double(last), 1), cellWidth) / cellWidth)) }
    }
    return table
}

/// OpenCV's bilinear source index and fraction for INTER_AREA when enlarging.
private func areaModeLinear(_ d: Int, source: Int, scale: Double) -> (Int, Double) {
    var s = Int((Double(d) * scale).rounded(.down))
    var f = Double(d + 1) - Double(s + 1) / scale
    f = f <= 0 ? 0 : f - f.rounded(.down)
    if s < 0 { (s, f) = (0, 0) }
    if s >= source - 1 { (s, f) = (source - 1, 0) }
    return (s, f)
}
