import CTurboJPEG

/// A DCT-domain scaling factor TurboJPEG can apply while decoding (1/8 … 2). Only the
/// factors `tjGetScalingFactors` lists can be constructed, so an accepted value never
/// fails later inside the decoder.
public struct JPEGScale: Sendable, Hashable, CustomStringConvertible {
    public let num: Int
    public let denom: Int

    /// Full size (1/1).
    public static let full = JPEGScale(validated: 1, 1)

    /// The factors this libjpeg-turbo offers, largest first (its own order).
    public static let supported: [JPEGScale] = {
        var count: Int32 = 0
        guard let factors = tjGetScalingFactors(&count), count > 0 else { return [.full] }
        return (0..<Int(count)).map { JPEGScale(validated: Int(factors[$0].num), Int(factors[$0].denom)) }
    }()

    /// Accepts any fraction equal in value to a supported factor (2/4 is 1/2).
    /// - Throws: `JPEGError.unsupportedScale` listing the factors that are offered.
    public init(num: Int, denom: Int) throws {
        guard denom > 0, let match = Self.supported.first(where: { $0.num * denom == num * $0.denom }) else {
            throw JPEGError.unsupportedScale(num: num, denom: denom, supported: Self.supported.map(\.description))
        }
        self = match
    }

    private init(validated num: Int, _ denom: Int) {
        self.num = num
        self.denom = denom
    }

    /// `ceil(dimension * num / denom)`, the integer form of TurboJPEG's `TJSCALED` macro.
    public func scaled(_ dimension: Int) -> Int {
        (dimension * num + denom - 1) / denom
    }

    public var description: String { "\(num)/\(denom)" }
}

/// How to decode: output color order, DCT scaling, safety limit, tolerance of damaged
/// data, and whether to honour EXIF orientation.
public struct JPEGDecodeOptions: Sendable, Equatable {
    /// Channel layout of the HWC u8 output.
    public enum Color: Sendable, Equatable {
        case rgb, bgr, gray

        public var channels: Int { self == .gray ? 1 : 3 }
    }

    /// What to do when TurboJPEG reports a warning (truncated file, corrupt scan data).
    public enum CorruptDataPolicy: Sendable, Equatable {
        /// Fail with `JPEGError.corruptData`.
        case error
        /// Keep the pixels decoded so far (the rest is filled by libjpeg) and return the warning text.
        case warn
    }

    public var color: Color
    public var scale: JPEGScale
    /// Largest allowed pixel count, for both the stored image and the scaled output;
    /// checked from the header before anything is allocated.
    public var pixelLimit: Int
    public var onCorrupt: CorruptDataPolicy
    /// Rotate/flip the decoded pixels per EXIF orientation (dimensions swap for codes 5–8).
    public var applyOrientation: Bool
    /// The output pixels the caller will read (after scaling and orientation), or nil for all.
    /// Pixels outside it may be left unwritten: a decode that can skip columns and rows
    /// (`JPEGDecoder`'s region decode) does, and every other path writes the whole image.
    public var region: PixelRect?

    public static let defaultPixelLimit = 100_000_000

    public init(
        color: Color = .rgb, scale: JPEGScale = .full, pixelLimit: Int = defaultPixelLimit,
        onCorrupt: CorruptDataPolicy = .error, applyOrientation: Bool = true, region: PixelRect? = nil
    ) {
        self.color = color
        self.scale = scale
        self.pixelLimit = pixelLimit
        self.onCorrupt = onCorrupt
        self.applyOrientation = applyOrientation
        self.region = region
    }
}
