/// EXIF orientation (tag 0x0112): how the stored pixels must be transformed to display
/// upright. Raw values are the EXIF codes 1–8; names say what the decoder does.
public enum JPEGOrientation: Int, Sendable, CaseIterable {
    case identity = 1
    case flipHorizontal = 2
    case rotate180 = 3
    case flipVertical = 4
    /// Mirror across the top-left to bottom-right diagonal.
    case transpose = 5
    case rotate90Clockwise = 6
    /// Mirror across the top-right to bottom-left diagonal.
    case transverse = 7
    case rotate270Clockwise = 8

    /// Codes 5–8 turn rows into columns, so width and height trade places.
    public var swapsDimensions: Bool { rawValue >= 5 }

    /// The displayed size of a stored `width`×`height` image.
    public func orientedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        swapsDimensions ? (height, width) : (width, height)
    }

    /// Writes the upright image into `destination`: destination pixel (x, y) comes from the
    /// source pixel this orientation maps there. Source and destination must not overlap.
    ///
    /// The map is affine, so it is applied as a walk: a start pixel in the source plus a
    /// source step for each destination column and each destination row.
    func apply(
        source: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int,
        destination: UnsafeMutablePointer<UInt8>
    ) {
        let pixel = channels
        let row = width * channels
        let lastColumn = (width - 1) * pixel
        let lastRow = (height - 1) * row
        // (start, step per destination column, step per destination row), in source bytes.
        let (start, columnStep, rowStep): (Int, Int, Int) =
            switch self {
            case .identity: (0, pixel, row)
            case .flipHorizontal: (lastColumn, -pixel, row)
            case .rotate180: (lastRow + lastColumn, -pixel, -row)
            case .flipVertical: (lastRow, pixel, -row)
            case .transpose: (0, row, pixel)
            case .rotate90Clockwise: (lastRow, -row, pixel)
            case .transverse: (lastRow + lastColumn, -row, -pixel)
            case .rotate270Clockwise: (lastColumn, row, -pixel)
            }
        let (outWidth, outHeight) = orientedSize(width: width, height: height)
        var out = destination
        for y in 0..<outHeight {
            var from = start + y * rowStep
            if channels == 3 {
                for _ in 0..<outWidth {
                    out[0] = source[from]
                    out[1] = source[from + 1]
                    out[2] = source[from + 2]
                    out += 3
                    from += columnStep
                }
            } else {
                for _ in 0..<outWidth {
                    for c in 0..<channels { out[c] = source[from + c] }
                    out += channels
                    from += columnStep
                }
            }
        }
    }
}
