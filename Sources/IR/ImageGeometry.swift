/// Size rules of the image ops, in one place: shape inference, the fused preprocess
/// and the runtime's per-request planning all compute crops and resizes through here.
public enum ImageGeometry {
    /// Output (h, w) of `resize` for a source of (h, w), from its attributes:
    /// `size=[h,w]`, `shorter=N` (+ optional `max_size`), or `longer=N`.
    /// Follows torchvision's `Resize`: the other side is `Int(N * long / short)` (truncated).
    public static func resizedSize(height h: Int, width w: Int, attributes a: Attributes) throws -> (h: Int, w: Int) {
        if let size = a.ints("size") {
            guard size.count == 2, size[0] > 0, size[1] > 0 else {
                throw IRError.invalidAttribute(op: "resize", name: "size", "expected [h, w] with positive sides, found \(size)")
            }
            return (size[0], size[1])
        }
        guard h > 0, w > 0 else { throw IRError.invalidShape("resize of an empty \(h)x\(w) image") }
        if let shorter = a.int("shorter") {
            guard shorter > 0 else { throw IRError.invalidAttribute(op: "resize", name: "shorter", "must be positive") }
            let (short, long) = h <= w ? (h, w) : (w, h)
            var newShort = shorter
            var newLong = Int(Double(shorter) * Double(long) / Double(short))
            if let maxSize = a.int("max_size"), newLong > maxSize {
                newShort = Int(Double(maxSize) * Double(newShort) / Double(newLong))
                newLong = maxSize
            }
            newShort = max(newShort, 1)
            newLong = max(newLong, 1)
            return h <= w ? (newShort, newLong) : (newLong, newShort)
        }
        if let longer = a.int("longer") {
            guard longer > 0 else { throw IRError.invalidAttribute(op: "resize", name: "longer", "must be positive") }
            let (short, long) = h <= w ? (h, w) : (w, h)
            let newShort = max(Int(Double(longer) * Double(short) / Double(long)), 1)
            return h <= w ? (newShort, longer) : (longer, newShort)
        }
        if let limit = a.int("longer_at_most") ?? a.int("shorter_at_least") {
            let longer = a.int("longer_at_most") != nil
            let multiple = a.int("multiple_of", default: 1)
            guard limit > 0, multiple > 0 else { throw IRError.invalidAttribute(op: "resize", name: "multiple_of", "the limit and multiple must be positive") }
            let side = longer ? max(h, w) : min(h, w)
            guard longer ? side > limit : side < limit else { return (h, w) }
            let ratio = Double(limit) / Double(side)
            return (roundedToMultiple(Int(Double(h) * ratio), multiple), roundedToMultiple(Int(Double(w) * ratio), multiple))
        }
        if let multiple = a.int("multiple_of") {
            guard multiple > 0 else { throw IRError.invalidAttribute(op: "resize", name: "multiple_of", "must be positive") }
            return (roundedToMultiple(h, multiple), roundedToMultiple(w, multiple))
        }
        if let height = a.int("height") {
            let minWidth = a.int("min_width", default: 1), maxWidth = a.int("max_width", default: 65_535)
            guard height > 0, minWidth > 0, maxWidth >= minWidth else {
                throw IRError.invalidAttribute(op: "resize", name: "height", "expected height > 0 and 0 < min_width ≤ max_width")
            }
            let scaled = Double(height) * Double(w) / Double(h)
            let canvas = min(max(Int(scaled), minWidth), maxWidth)
            return (height, max(1, min(Int(scaled.rounded(.up)), canvas)))
        }
        throw IRError.invalidAttribute(
            op: "resize", name: "size", "one of size, shorter, longer, longer_at_most, shorter_at_least, multiple_of or height is required")
    }

    /// `value` rounded to the nearest multiple of `multiple`, half to even (Python's `round`,
    /// as PaddleOCR sizes its detector input), and at least one multiple: a side never
    /// vanishes.
    static func roundedToMultiple(_ value: Int, _ multiple: Int) -> Int {
        max(1, Int((Double(value) / Double(multiple)).rounded(.toNearestOrEven))) * multiple
    }

    /// The attributes that each name a size rule of `resize` (one per resize), and those that
    /// modify one: a fused `preprocess` carries them the same way.
    public static let resizeRuleKeys: Set<String> = ["size", "shorter", "longer", "longer_at_most", "shorter_at_least", "multiple_of", "height"]
    public static let resizeModifierKeys: Set<String> = ["max_size", "min_width", "max_width"]

    /// Whether the attributes name a size rule (a `preprocess` without one does not resize).
    public static func resizes(_ a: Attributes) -> Bool { a.storage.keys.contains(where: resizeRuleKeys.contains) }

    /// Whether the resize's output size is fixed regardless of the input size.
    public static func resizeIsFixed(_ a: Attributes) -> Bool { a.ints("size") != nil }

    /// Crop box (y, x, h, w) inside an image of (h, w): `box=[y,x,h,w]` or centred `size=[h,w]`.
    /// Centre offsets follow torchvision: `round((H - h) / 2)` with round-half-to-even.
    public static func cropBox(height: Int, width: Int, attributes a: Attributes) throws -> (y: Int, x: Int, h: Int, w: Int) {
        if let box = a.ints("box") {
            guard box.count == 4, box[0] >= 0, box[1] >= 0, box[2] > 0, box[3] > 0 else {
                throw IRError.invalidAttribute(op: "crop", name: "box", "expected [y, x, h, w] with y, x ≥ 0 and h, w > 0, found \(box)")
            }
            guard box[0] + box[2] <= height, box[1] + box[3] <= width else {
                throw IRError.invalidShape("crop box \(box) does not fit in a \(height)x\(width) image")
            }
            return (box[0], box[1], box[2], box[3])
        }
        guard let size = a.ints("size"), size.count == 2, size[0] > 0, size[1] > 0 else {
            throw IRError.invalidAttribute(op: "crop", name: "size", "expected box=[y,x,h,w] or size=[h,w]")
        }
        guard size[0] <= height, size[1] <= width else {
            throw IRError.invalidShape("center crop \(size[0])x\(size[1]) is larger than the \(height)x\(width) image")
        }
        let top = Int((Double(height - size[0]) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(width - size[1]) / 2).rounded(.toNearestOrEven))
        return (top, left, size[0], size[1])
    }

    /// Whether the crop's output size is fixed regardless of the input size.
    public static func cropSize(_ a: Attributes) -> (h: Int, w: Int)? {
        if let box = a.ints("box"), box.count == 4 { return (box[2], box[3]) }
        if let size = a.ints("size"), size.count == 2 { return (size[0], size[1]) }
        return nil
    }

    /// An image pyramid (MTCNN's): scales m·factorᵏ, m = window / min_size, while the image's
    /// shorter side, scaled, still holds the detector's `window`.
    public static func pyramidScales(height: Int, width: Int, minSize: Double, factor: Double, window: Int) -> [Double] {
        let m = Double(window) / minSize
        var layer = Double(min(width, height)) * m
        var scales: [Double] = []
        var power = 1.0
        while layer >= Double(window), scales.count < 64 {
            scales.append(m * power)
            power *= factor
            layer *= factor
        }
        return scales
    }

    /// Channels of a colour name.
    public static func channels(of color: String) -> Int? {
        switch color {
        case "rgb", "bgr": 3
        case "gray": 1
        default: nil
        }
    }

    /// For `convert_color`: output channel i reads input channel `map[i]`; nil when the
    /// conversion is not a channel selection (gray from color needs a weighted sum).
    public static func channelMap(from: String, to: String) -> [Int]? {
        switch (from, to) {
        case ("rgb", "rgb"), ("bgr", "bgr"): [0, 1, 2]
        case ("rgb", "bgr"), ("bgr", "rgb"): [2, 1, 0]
        case ("gray", "gray"): [0]
        case ("gray", "rgb"), ("gray", "bgr"): [0, 0, 0]
        default: nil
        }
    }
}

// MARK: - Letterbox, padding, and the decoded size a resize needs

extension ImageGeometry {
    /// Where a `letterbox` puts an (h, w) image inside its `size=[H,W]` frame: scaled by
    /// min(H/h, W/w) to (resized.h, resized.w) (rounded, at least 1), at (top, left), centred
    /// (offsets floored) or top-left by `align`.
    public static func letterbox(
        height h: Int, width w: Int, attributes a: Attributes
    ) throws -> (frame: (h: Int, w: Int), resized: (h: Int, w: Int), top: Int, left: Int) {
        guard let size = a.ints("size"), size.count == 2, size[0] > 0, size[1] > 0 else {
            throw IRError.invalidAttribute(op: "letterbox", name: "size", "expected [h, w] with positive sides")
        }
        guard h > 0, w > 0 else { throw IRError.invalidShape("letterbox of an empty \(h)x\(w) image") }
        let scale = min(Double(size[0]) / Double(h), Double(size[1]) / Double(w))
        let rh = min(size[0], max(1, Int((Double(h) * scale).rounded()))), rw = min(size[1], max(1, Int((Double(w) * scale).rounded())))
        let centred = (a.string("align") ?? "center") == "center"
        return ((size[0], size[1]), (rh, rw), centred ? (size[0] - rh) / 2 : 0, centred ? (size[1] - rw) / 2 : 0)
    }

    /// [top, left, bottom, right] of a `pad_spatial` on an image with spatial size (h, w):
    /// `pads=[t,l,b,r]`, `multiple_of=N` (bottom and right grow to the next multiple of N), or
    /// `min_size=[H,W]` (bottom and right grow to at least H, W; 0 leaves an axis alone).
    public static func spatialPads(height h: Int, width w: Int, attributes a: Attributes) throws -> [Int] {
        if let size = a.ints("min_size") {
            guard size.count == 2, size.allSatisfy({ $0 >= 0 }) else {
                throw IRError.invalidAttribute(op: "pad_spatial", name: "min_size", "expected [h, w] ≥ 0, found \(size)")
            }
            return [0, 0, max(0, size[0] - h), max(0, size[1] - w)]
        }
        if let pads = a.ints("pads") {
            guard pads.count == 4, pads.allSatisfy({ $0 >= 0 }) else {
                throw IRError.invalidAttribute(op: "pad_spatial", name: "pads", "expected [top, left, bottom, right] ≥ 0, found \(pads)")
            }
            return pads
        }
        guard let m = a.int("multiple_of"), m > 0 else {
            throw IRError.invalidAttribute(op: "pad_spatial", name: "multiple_of", "expected pads=[t,l,b,r] or multiple_of=N > 0")
        }
        return [0, 0, (m - h % m) % m, (m - w % m) % m]
    }

    /// Prefix of the attributes `decode-scale` copies from the resize a decode feeds, so the
    /// decoder can pick its DCT scaling factor per image from the header.
    public static let decodeFitPrefix = "fit_"

    /// The resize attributes stored on a decode node under `decodeFitPrefix`, or nil.
    public static func decodeFit(_ a: Attributes) -> Attributes? { attributes(a, prefixed: decodeFitPrefix) }

    /// Prefix of the attributes `decode-region` copies from the preprocess a decode feeds (its
    /// resize rule, interpolation and crop), so the decoder can leave out what it never reads.
    public static let decodeRegionPrefix = "region_"

    /// The preprocess geometry stored on a decode node under `decodeRegionPrefix`, or nil.
    public static func decodeRegion(_ a: Attributes) -> Attributes? { attributes(a, prefixed: decodeRegionPrefix) }

    private static func attributes(_ a: Attributes, prefixed prefix: String) -> Attributes? {
        let kept = a.storage.filter { $0.key.hasPrefix(prefix) }
        guard !kept.isEmpty else { return nil }
        return Attributes(Dictionary(uniqueKeysWithValues: kept.map { (String($0.key.dropFirst(prefix.count)), $0.value) }))
    }

    /// Whether a decoded (h, w) image is large enough for the resize `fit`: the resize (or
    /// the letterbox's scaled image) does not upscale it on either axis.
    public static func decodedSizeSuffices(height h: Int, width w: Int, fit: Attributes) -> Bool {
        if fit.ints("letterbox") != nil {
            guard let box = try? letterbox(height: h, width: w, attributes: ["size": fit["letterbox"]!]) else { return false }
            return box.resized.h <= h && box.resized.w <= w
        }
        guard let out = try? resizedSize(height: h, width: w, attributes: fit) else { return false }
        return out.h <= h && out.w <= w
    }
}
