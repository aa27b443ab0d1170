import Foundation

/// A point in image pixels (x right, y down).
public struct Point: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// Plane geometry for text boxes: convex hull, minimum-area rectangle, polygon area and
/// perimeter, and the round-joined polygon offset of Clipper (which PaddleOCR's "unclip" calls
/// through pyclipper).
public enum Geometry {
    /// The convex hull (Andrew's monotone chain), counter-clockwise in y-down pixels, starting
    /// at the smallest (x, y); collinear points dropped. Fewer than 3 distinct points come back
    /// as they are (deduplicated, sorted).
    public static func convexHull(_ points: [Point]) -> [Point] {
        var sorted = points.sorted { $0.x < $1.x || ($0.x == $1.x && $0.y < $1.y) }
        sorted = sorted.enumerated().filter { $0.offset == 0 || sorted[$0.offset - 1] != $0.element }.map(\.element)
        guard sorted.count >= 3 else { return sorted }
        func cross(_ o: Point, _ a: Point, _ b: Point) -> Double { (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x) }
        var lower: [Point] = []
        for point in sorted {
            while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], point) <= 0 { lower.removeLast() }
            lower.append(point)
        }
        var upper: [Point] = []
        for point in sorted.reversed() {
            while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], point) <= 0 { upper.removeLast() }
            upper.append(point)
        }
        return Array(lower.dropLast() + upper.dropLast())
    }

    /// A rotated rectangle: its 4 corners in order around it, and its side lengths.
    public struct RotatedRectangle: Sendable, Equatable {
        public var corners: [Point]
        public var width: Double
        public var height: Double
        public var shorterSide: Double { min(width, height) }
    }

    /// The smallest-area rectangle containing `points` (OpenCV's `minAreaRect`): one side of
    /// the optimum lies on a hull edge (rotating calipers), so every hull edge is tried.
    /// Nil for no points; a degenerate set gives a rectangle with a zero side.
    public static func minimumAreaRectangle(_ points: [Point]) -> RotatedRectangle? {
        let hull = convexHull(points)
        guard let first = hull.first else { return nil }
        if hull.count == 1 { return RotatedRectangle(corners: [first, first, first, first], width: 0, height: 0) }
        var best: (area: Double, rectangle: RotatedRectangle)?
        for index in hull.indices {
            let a = hull[index]
            let b = hull[(index + 1) % hull.count]
            let length = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
            guard length > 0 else { continue }
            let (ux, uy) = ((b.x - a.x) / length, (b.y - a.y) / length)
            var (minU, maxU, minV, maxV) = (Double.infinity, -Double.infinity, Double.infinity, -Double.infinity)
            for point in hull {
                let u = (point.x - a.x) * ux + (point.y - a.y) * uy
                let v = -(point.x - a.x) * uy + (point.y - a.y) * ux
                minU = min(minU, u)
                maxU = max(maxU, u)
                minV = min(minV, v)
                maxV = max(maxV, v)
            }
            let area = (maxU - minU) * (maxV - minV)
            if best == nil || area < best!.area {
                func corner(_ u: Double, _ v: Double) -> Point { Point(a.x + u * ux - v * uy, a.y + u * uy + v * ux) }
                best = (area, RotatedRectangle(
                    corners: [corner(minU, minV), corner(maxU, minV), corner(maxU, maxV), corner(minU, maxV)],
                    width: maxU - minU, height: maxV - minV))
            }
        }
        return best?.rectangle
    }

    /// The shoelace area, positive when the corners turn counter-clockwise in y-up axes
    /// (Clipper's `Area` sign).
    public static func signedArea(_ polygon: [Point]) -> Double {
        var twice = 0.0
        for index in polygon.indices {
            let a = polygon[index]
            let b = polygon[(index + 1) % polygon.count]
            twice += a.x * b.y - b.x * a.y
        }
        return twice / 2
    }

    public static func perimeter(_ polygon: [Point]) -> Double {
        polygon.indices.reduce(0) { sum, index in
            let a = polygon[index]
            let b = polygon[(index + 1) % polygon.count]
            return sum + ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
        }
    }

    /// Clipper 6.4's `ClipperOffset` with round joins on one closed polygon, as pyclipper runs
    /// it (arc tolerance 0.25): coordinates truncated to integers on the way in, each edge moved
    /// outward by `distance`, convex corners joined by arcs of `Round`ed integer points.
    ///
    /// Matches Clipper for convex polygons (text boxes) up to its closing union, which only
    /// drops collinear points and may start at another vertex; callers take the hull, which
    /// that leaves unchanged.
    public static func roundOffset(_ polygon: [Point], distance: Double) -> [Point] {
        var path = polygon.map { Point($0.x.rounded(.towardZero), $0.y.rounded(.towardZero)) }
        path = path.enumerated().filter { $0.offset == 0 || path[$0.offset - 1] != $0.element }.map(\.element)
        while path.count > 1 && path.first == path.last { path.removeLast() }
        guard path.count >= 3, distance > 0 else { return distance > 0 ? [] : path }
        if signedArea(path) < 0 { path.reverse() }

        let tolerance = min(0.25, distance * 0.25)
        var steps = Double.pi / acos(1 - tolerance / distance)
        steps = min(steps, distance * Double.pi)
        let stepSin = sin(2 * Double.pi / steps)
        let stepCos = cos(2 * Double.pi / steps)
        let stepsPerRadian = steps / (2 * Double.pi)
        /// Clipper's `Round`: half away from zero.
        func round(_ value: Double) -> Double { value < 0 ? (value - 0.5).rounded(.towardZero) : (value + 0.5).rounded(.towardZero) }

        let normals = path.indices.map { index -> Point in
            let next = path[(index + 1) % path.count]
            let (dx, dy) = (next.x - path[index].x, next.y - path[index].y)
            let length = (dx * dx + dy * dy).squareRoot()
            return length == 0 ? Point(0, 0) : Point(dy / length, -dx / length)
        }
        var output: [Point] = []
        var previous = path.count - 1
        for index in path.indices {
            let (p, nk, nj) = (path[index], normals[previous], normals[index])
            var sinA = nk.x * nj.y - nj.x * nk.y
            let cosA = nk.x * nj.x + nk.y * nj.y
            if abs(sinA * distance) < 1 {
                if cosA > 0 {
                    output.append(Point(round(p.x + nk.x * distance), round(p.y + nk.y * distance)))
                    continue  // Clipper keeps `previous` here
                }
            } else {
                sinA = max(-1, min(1, sinA))
            }
            if sinA * distance < 0 {
                output.append(Point(round(p.x + nk.x * distance), round(p.y + nk.y * distance)))
                output.append(p)
                output.append(Point(round(p.x + nj.x * distance), round(p.y + nj.y * distance)))
            } else {
                let angle = atan2(sinA, cosA)
                let arcSteps = max(Int(round(stepsPerRadian * abs(angle))), 1)
                var (x, y) = (nk.x, nk.y)
                for _ in 0..<arcSteps {
                    output.append(Point(round(p.x + x * distance), round(p.y + y * distance)))
                    (x, y) = (x * stepCos - stepSin * y, x * stepSin + y * stepCos)
                }
                output.append(Point(round(p.x + nj.x * distance), round(p.y + nj.y * distance)))
            }
            previous = index
        }
        return output
    }
}
