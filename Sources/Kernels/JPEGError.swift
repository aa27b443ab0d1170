/// An image decoder's failure (JPEG or PNG), as the runtime reports it.
public protocol ImageDecodeFailure: Error, CustomStringConvertible, Sendable {}

/// Why a JPEG could not be read or decoded. Every case carries what was found and, where
/// it helps, what was expected, so a failed request can be diagnosed from the message alone.
public enum JPEGError: Error, Equatable, CustomStringConvertible, ImageDecodeFailure {
    /// The input has no bytes at all.
    case emptyInput
    /// The input does not start with the JPEG start-of-image marker FF D8.
    case notJPEG(firstBytes: [UInt8])
    /// TurboJPEG could not parse the header (its message is kept).
    case headerUnreadable(String)
    /// The header parsed without giving an image size. libjpeg rejects a frame header (SOF)
    /// that declares zero pixels, so this means the data ended before any frame header.
    case zeroSize(width: Int, height: Int)
    /// The image (source or decoded output) has more pixels than the configured limit.
    case tooLarge(width: Int, height: Int, limit: Int)
    /// TurboJPEG reported a warning: truncated file or corrupt scan data (its text is kept).
    case corruptData(String)
    /// TurboJPEG failed outright while decoding (its message is kept).
    case decodeFailed(String)
    /// The scaling factor is not one TurboJPEG offers.
    case unsupportedScale(num: Int, denom: Int, supported: [String])
    /// The caller's output buffer cannot hold the decoded image.
    case bufferTooSmall(required: Int, provided: Int)
    /// TurboJPEG could not create a decompressor instance.
    case initFailed(String)

    public var description: String {
        switch self {
        case .emptyInput:
            "JPEG decode: input is empty (0 bytes)"
        case .notJPEG(let firstBytes):
            "JPEG decode: input is not a JPEG: expected start-of-image marker FF D8, found \(Self.describe(firstBytes))"
        case .headerUnreadable(let message):
            "JPEG decode: header unreadable: \(message)"
        case .zeroSize(let width, let height):
            "JPEG decode: header gives no image size (\(width)x\(height)): the data ends before a frame header (SOF)"
        case .tooLarge(let width, let height, let limit):
            "JPEG decode: image is \(width)x\(height) = \(width * height) pixels, over the limit of \(limit) pixels"
        case .corruptData(let message):
            "JPEG decode: corrupt or truncated data: \(message)"
        case .decodeFailed(let message):
            "JPEG decode: decoding failed: \(message)"
        case .unsupportedScale(let num, let denom, let supported):
            "JPEG decode: scale \(num)/\(denom) is not supported; TurboJPEG offers \(supported.joined(separator: ", "))"
        case .bufferTooSmall(let required, let provided):
            "JPEG decode: output buffer has \(provided) bytes, the decoded image needs \(required)"
        case .initFailed(let message):
            "JPEG decode: cannot create a TurboJPEG decompressor: \(message)"
        }
    }

    /// Hex dump of the leading bytes, naming the format when the signature is a common one.
    private static func describe(_ bytes: [UInt8]) -> String {
        let hex = bytes.map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
        let signatures: [(prefix: [UInt8], format: String)] = [
            ([0x89, 0x50, 0x4E, 0x47], "PNG"),
            ([0x47, 0x49, 0x46, 0x38], "GIF"),
            ([0x52, 0x49, 0x46, 0x46], "RIFF (WebP?)"),
            ([0x42, 0x4D], "BMP"),
        ]
        guard let match = signatures.first(where: { bytes.starts(with: $0.prefix) }) else { return hex }
        return "\(hex) (looks like \(match.format))"
    }
}
