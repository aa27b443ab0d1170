import IR

/// Largest violation of `|a - b| <= atol + rtol * |b|` (0 when within tolerance),
/// with the index where it happens, as ONNX's and NumPy's `allclose` define closeness.
public func closeness(_ a: [Float], _ b: [Float], rtol: Float, atol: Float) -> (excess: Float, index: Int, a: Float, b: Float)? {
    guard a.count == b.count else { return nil }
    var worst: (Float, Int, Float, Float) = (0, -1, 0, 0)
    for i in a.indices {
        let allowed = atol + rtol * abs(b[i])
        let diff = abs(a[i] - b[i])
        if !(diff <= allowed) && (diff - allowed > worst.0 || diff.isNaN) {
            worst = (diff.isNaN ? .infinity : diff - allowed, i, a[i], b[i])
        }
    }
    return worst
}

/// Test assertion message for an allclose failure, or nil when the arrays agree.
public func allcloseFailure(_ a: [Float], _ b: [Float], rtol: Float, atol: Float) -> String? {
    guard a.count == b.count else { return "element counts differ: \(a.count) vs \(b.count)" }
    guard let c = closeness(a, b, rtol: rtol, atol: atol), c.index >= 0 else { return nil }
    return "not allclose (rtol \(rtol), atol \(atol)): at \(c.index) got \(c.a), expected \(c.b)"
}

/// Continuous-coordinate IoU of (x1, y1, x2, y2) boxes, as the agreement scripts compute it
/// (not the pixel-inclusive overlap MTCNN's NMS uses: this is a judge, not the algorithm).
public func boxIoU(_ a: [Double], _ b: [Double]) -> Double {
    let width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    let height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    let intersection = width * height
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection
    return union > 0 ? intersection / union : 0
}
