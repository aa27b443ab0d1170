/// A detected text region: 4 corners clockwise from the top-left (in y-down pixels), and the
/// detector's mean probability inside it.
public struct TextBox: Sendable, Equatable {
    public var corners: [Point]
    public var score: Double
    public init(corners: [Point], score: Double) {
        self.corners = corners
        self.score = score
    }
}

/// The postprocess of a DB ("Differentiable Binarization") text detector, as RapidOCR 1.4.4
/// runs PaddleOCR's `DBPostProcess` (values from its config.yaml): threshold the probability
/// map, dilate, take connected regions, fit each a minimum-area rectangle, score it, expand
/// it ("unclip"), fit again, scale to the image.
public enum DBPostprocess {
    public struct Settings: Sendable, Equatable {
        /// A pixel is text when its probability exceeds this.
        public var threshold = 0.3
        /// A box is kept when its mean probability is at least this.
        public var boxThreshold = 0.5
        /// Regions beyond this many are ignored (bounds the work on a noisy map).
        public var maxCandidates = 1000
        /// The unclip distance is area × ratio / perimeter.
        public var unclipRatio = 1.6
        /// Dilate the binary map with a 2×2 kernel (PaddleOCR's `use_dilation`).
        public var dilate = true
        /// Boxes whose shorter side is below this (before unclip; +2 after) are dropped.
        public var minSize = 3.0
        public init() {}
    }

    /// `probability > threshold`, then (if `dilate`) OpenCV's `dilate` with a 2×2 kernel of
    /// ones: its anchor is the kernel centre (1, 1), so out(y, x) is the OR of in(y−1…y, x−1…x),
    /// pixels outside the map counting as 0. Row-major, 1 for text.
    public static func binaryMap(_ probability: [Float], width: Int, height: Int, threshold: Double, dilate: Bool) -> [UInt8] {
        precondition(probability.count == width * height, "probability map size")
        let cut = Float(threshold)
        var binary = [UInt8](repeating: 0, count: width * height)
        probability.withUnsafeBufferPointer { p in
            binary.withUnsafeMutableBufferPointer { b in
                for index in 0..<(width * height) where p[index] > cut { b[index] = 1 }
            }
        }
        guard dilate else { return binary }
        var dilated = binary
        binary.withUnsafeBufferPointer { b in
            dilated.withUnsafeMutableBufferPointer { d in
                for y in 0..<height {
                    let row = y * width
                    for x in 0..<width where d[row + x] == 0 {
                        let left = x > 0 && b[row + x - 1] != 0
                        let up = y > 0 && (b[row - width + x] != 0 || (x > 0 && b[row - width + x - 1] != 0))
                        if left || up { d[row + x] = 1 }
                    }
                }
            }
        }
        return dilated
    }

    /// The 8-connected regions of `binary` (those `findContours` traces the outer borders of),
    /// in raster order of their first pixel, at most `limit` of them. Each region is given by
    /// its leftmost and rightmost pixel per row: enough for its convex hull. Holes are not
    /// reported (OpenCV's `RETR_LIST` also lists them, and RapidOCR scores their boxes; a DB
    /// map rarely has one).
    public static func regions(_ binary: [UInt8], width: Int, height: Int, limit: Int = .max) -> [[Point]] {
        precondition(binary.count == width * height, "binary map size")
        var label = [Int32](repeating: 0, count: width * height)
        var regions: [[Point]] = []
        var stack: [Int] = []
        var rowMin = [Int](repeating: .max, count: height)
        var rowMax = [Int](repeating: -1, count: height)
        var rows: [Int] = []
        for start in 0..<(width * height) where binary[start] != 0 && label[start] == 0 {
            if regions.count >= limit { break }
            let id = Int32(regions.count + 1)
            label[start] = id
            stack.append(start)
            while let index = stack.popLast() {
                let (y, x) = (index / width, index % width)
                if rowMax[y] < 0 { rows.append(y) }
                rowMin[y] = min(rowMin[y], x)
                rowMax[y] = max(rowMax[y], x)
                for dy in -1...1 {
                    let ny = y + dy
                    guard ny >= 0, ny < height else { continue }
                    for dx in -1...1 {
                        let nx = x + dx
                        guard nx >= 0, nx < width else { continue }
                        let neighbour = ny * width + nx
                        if binary[neighbour] != 0 && label[neighbour] == 0 {
                            label[neighbour] = id
                            stack.append(neighbour)
                        }
                    }
                }
            }
            var points: [Point] = []
            points.reserveCapacity(rows.count * 2)
            for y in rows.sorted() {
                points.append(Point(Double(rowMin[y]), Double(y)))
                if rowMax[y] != rowMin[y] { points.append(Point(Double(rowMax[y]), Double(y))) }
                rowMin[y] = .max
                rowMax[y] = -1
            }
            rows.removeAll(keepingCapacity: true)
            regions.append(points)
        }
        return regions
    }

    /// PaddleOCR's `get_mini_boxes`: the minimum-area rectangle of `points`, its corners
    /// ordered top-left, top-right, bottom-right, bottom-left (of the two leftmost corners the
    /// upper one first, likewise on the right), and its shorter side.
    public static func miniBox(_ points: [Point]) -> (corners: [Point], shorterSide: Double)? {
        guard let rectangle = Geometry.minimumAreaRectangle(points) else { return nil }
        let p = rectangle.corners.enumerated().sorted { $0.element.x < $1.element.x || ($0.element.x == $1.element.x && $0.offset < $1.offset) }.map(\.element)
        let (topLeft, bottomLeft) = p[1].y > p[0].y ? (p[0], p[1]) : (p[1], p[0])
        let (topRight, bottomRight) = p[3].y > p[2].y ? (p[2], p[3]) : (p[3], p[2])
        return ([topLeft, topRight, bottomRight, bottomLeft], rectangle.shorterSide)
    }

    /// PaddleOCR's "fast" box score: the mean probability over the pixels of the box's
    /// bounding rectangle (floor/ceil, clipped to the map) that the polygon covers, the polygon
    /// cut to integers (truncated after shifting to the rectangle) and rasterized as
    /// `cv2.fillPoly` does: scanline spans from the left edge rounded half up to the right edge
    /// floored, plus each edge drawn as an 8-connected line. This matches OpenCV up to a few
    /// boundary pixels (its edge stepping is fixed-point), which moves the mean very little.
    public static func boxScore(_ probability: [Float], width: Int, height: Int, corners: [Point]) -> Double {
        let xs = corners.map(\.x), ys = corners.map(\.y)
        let xMin = min(max(Int(xs.min()!.rounded(.down)), 0), width - 1)
        let xMax = min(max(Int(xs.max()!.rounded(.up)), 0), width - 1)
        let yMin = min(max(Int(ys.min()!.rounded(.down)), 0), height - 1)
        let yMax = min(max(Int(ys.max()!.rounded(.up)), 0), height - 1)
        let maskWidth = xMax - xMin + 1, maskHeight = yMax - yMin + 1
        let polygon = corners.map { (x: Int(($0.x - Double(xMin)).rounded(.towardZero)), y: Int(($0.y - Double(yMin)).rounded(.towardZero))) }
        var mask = [Bool](repeating: false, count: maskWidth * maskHeight)
        func set(_ x: Int, _ y: Int) {
            if x >= 0, x < maskWidth, y >= 0, y < maskHeight { mask[y * maskWidth + x] = true }
        }
        /// Integer division rounded half away from zero.
        func roundedQuotient(_ numerator: Int, _ denominator: Int) -> Int {
            (numerator >= 0 ? 1 : -1) * ((2 * abs(numerator) + denominator) / (2 * denominator))
        }
        var spans = [(low: Double, high: Double)](repeating: (.infinity, -.infinity), count: maskHeight)
        for index in polygon.indices {
            var (a, b) = (polygon[index], polygon[(index + 1) % polygon.count])
            let (dx, dy) = (abs(b.x - a.x), abs(b.y - a.y))
            if dx >= dy {
                if a.x > b.x { swap(&a, &b) }
                for x in a.x...b.x { set(x, a.y + (dx == 0 ? 0 : roundedQuotient((x - a.x) * (b.y - a.y), dx))) }
            } else {
                if a.y > b.y { swap(&a, &b) }
                for y in a.y...b.y { set(a.x + roundedQuotient((y - a.y) * (b.x - a.x), dy), y) }
            }
            guard a.y != b.y else { continue }
            if a.y > b.y { swap(&a, &b) }
            // Rows [a.y, b.y): the edge's x at the row.
            for y in max(a.y, 0)..<max(min(b.y, maskHeight), max(a.y, 0)) {
                let x = Double(a.x) + Double(y - a.y) * Double(b.x - a.x) / Double(b.y - a.y)
                spans[y].low = min(spans[y].low, x)
                spans[y].high = max(spans[y].high, x)
            }
        }
        for y in 0..<maskHeight where spans[y].low <= spans[y].high {
            let low = max(Int((spans[y].low + 0.5).rounded(.down)), 0)
            let high = min(Int(spans[y].high.rounded(.down)), maskWidth - 1)
            if low <= high { for x in low...high { mask[y * maskWidth + x] = true } }
        }
        var sum = 0.0
        var count = 0
        for y in 0..<maskHeight {
            for x in 0..<maskWidth where mask[y * maskWidth + x] {
                sum += Double(probability[(y + yMin) * width + x + xMin])
                count += 1
            }
        }
        return count == 0 ? 0 : sum / Double(count)
    }

    /// Expands a box: Clipper's round-joined offset by area × ratio / perimeter.
    public static func unclip(_ corners: [Point], ratio: Double) -> [Point] {
        let perimeter = Geometry.perimeter(corners)
        guard perimeter > 0 else { return [] }
        return Geometry.roundOffset(corners, distance: abs(Geometry.signedArea(corners)) * ratio / perimeter)
    }

    /// imutils' `order_points_clockwise` as RapidOCR uses it: the two leftmost points (by x)
    /// give top-left and bottom-left (by y), the other two top-right and bottom-right.
    public static func orderedClockwise(_ corners: [Point]) -> [Point] {
        let byX = corners.enumerated().sorted { $0.element.x < $1.element.x || ($0.element.x == $1.element.x && $0.offset < $1.offset) }.map(\.element)
        let left = byX[0].y <= byX[1].y ? [byX[0], byX[1]] : [byX[1], byX[0]]
        let right = byX[2].y <= byX[3].y ? [byX[2], byX[3]] : [byX[3], byX[2]]
        return [left[0], right[0], right[1], left[1]]
    }

    /// The whole postprocess on a `mapWidth × mapHeight` probability map computed for an
    /// image of `imageWidth × imageHeight`: boxes in image pixels with integer corners,
    /// clockwise from the top-left, clipped to the image, each side longer than 3 px.
    public static func boxes(
        probability: [Float], mapWidth: Int, mapHeight: Int, imageWidth: Int, imageHeight: Int, settings: Settings = Settings()
    ) -> [TextBox] {
        let binary = binaryMap(probability, width: mapWidth, height: mapHeight, threshold: settings.threshold, dilate: settings.dilate)
        var result: [TextBox] = []
        for region in regions(binary, width: mapWidth, height: mapHeight, limit: settings.maxCandidates) {
            guard let (box, shorter) = miniBox(region), shorter >= settings.minSize else { continue }
            let score = boxScore(probability, width: mapWidth, height: mapHeight, corners: box)
            guard score >= settings.boxThreshold else { continue }
            guard let (expanded, expandedShorter) = miniBox(unclip(box, ratio: settings.unclipRatio)),
                expandedShorter >= settings.minSize + 2
            else { continue }
            // np.round (half to even) of the map→image scaling, clipped to [0, size].
            let scaled = expanded.map { point in
                Point(
                    min(max((point.x / Double(mapWidth) * Double(imageWidth)).rounded(.toNearestOrEven), 0), Double(imageWidth)),
                    min(max((point.y / Double(mapHeight) * Double(imageHeight)).rounded(.toNearestOrEven), 0), Double(imageHeight)))
            }
            let clipped = orderedClockwise(scaled).map { point in
                Point(min(max(point.x, 0), Double(imageWidth - 1)), min(max(point.y, 0), Double(imageHeight - 1)))
            }
            func length(_ a: Point, _ b: Point) -> Double { ((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot() }
            guard length(clipped[0], clipped[1]).rounded(.towardZero) > 3, length(clipped[0], clipped[3]).rounded(.towardZero) > 3 else { continue }
            result.append(TextBox(corners: clipped, score: score))
        }
        return result
    }

    /// RapidOCR's `sorted_boxes`: by the top-left corner's (y, x), then one bubble pass that
    /// puts a box first when its top-left is less than 10 px lower and further left (boxes on
    /// one line read left to right).
    public static func readingOrder(_ boxes: [TextBox]) -> [TextBox] {
        var sorted = boxes.enumerated().sorted { a, b in
            let (p, q) = (a.element.corners[0], b.element.corners[0])
            return p.y < q.y || (p.y == q.y && (p.x < q.x || (p.x == q.x && a.offset < b.offset)))
        }.map(\.element)
        guard sorted.count > 1 else { return sorted }
        for i in 0..<(sorted.count - 1) {
            var j = i
            while j >= 0 {
                let (next, current) = (sorted[j + 1].corners[0], sorted[j].corners[0])
                guard abs(next.y - current.y) < 10 && next.x < current.x else { break }
                sorted.swapAt(j, j + 1)
                j -= 1
            }
        }
        return sorted
    }
}
