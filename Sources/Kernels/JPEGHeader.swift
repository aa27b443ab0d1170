/// What a JPEG declares about itself, read without decoding any pixels.
public struct JPEGHeader: Sendable, Equatable {
    /// Stored width in pixels (before EXIF orientation).
    public var width: Int
    /// Stored height in pixels (before EXIF orientation).
    public var height: Int
    public var subsampling: JPEGSubsampling
    public var colorspace: JPEGColorspace
    /// Whether the frame is progressive (SOF2/6/10/14): such files buffer all DCT
    /// coefficients while decoding, so they cost more memory than baseline ones.
    public var isProgressive: Bool
    /// EXIF orientation (tag 0x0112 in the APP1 Exif segment); `.identity` when absent or invalid.
    public var orientation: JPEGOrientation
    /// Whether an APP14 "Adobe" segment is present. Adobe applications store CMYK
    /// inverted (255 = no ink), and this marker is how readers recognise that convention.
    public var hasAdobeMarker: Bool

    public init(
        width: Int, height: Int, subsampling: JPEGSubsampling, colorspace: JPEGColorspace,
        isProgressive: Bool, orientation: JPEGOrientation, hasAdobeMarker: Bool
    ) {
        self.width = width
        self.height = height
        self.subsampling = subsampling
        self.colorspace = colorspace
        self.isProgressive = isProgressive
        self.orientation = orientation
        self.hasAdobeMarker = hasAdobeMarker
    }
}

/// Chroma subsampling, as TurboJPEG classifies it (raw values are the `TJSAMP_*` constants).
public enum JPEGSubsampling: Int32, Sendable, CustomStringConvertible {
    case s444 = 0, s422, s420, gray, s440, s411

    public var description: String {
        switch self {
        case .s444: "4:4:4"
        case .s422: "4:2:2"
        case .s420: "4:2:0"
        case .gray: "gray"
        case .s440: "4:4:0"
        case .s411: "4:1:1"
        }
    }
}

/// Colorspace of the stored components (raw values are the `TJCS_*` constants).
public enum JPEGColorspace: Int32, Sendable, CustomStringConvertible {
    case rgb = 0, ycbcr, gray, cmyk, ycck

    /// CMYK and YCCK files decode only to CMYK pixels; the decoder converts those to RGB itself.
    public var isCMYK: Bool { self == .cmyk || self == .ycck }

    public var description: String {
        switch self {
        case .rgb: "RGB"
        case .ycbcr: "YCbCr"
        case .gray: "gray"
        case .cmyk: "CMYK"
        case .ycck: "YCCK"
        }
    }
}
