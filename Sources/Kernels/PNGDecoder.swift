import CPNG

/// Why a PNG could not be read or decoded, with libpng's own message where it gave one.
public enum PNGError: Error, Equatable, CustomStringConvertible, ImageDecodeFailure {
    /// libpng could not read the header (bad signature, a broken IHDR, a CRC mismatch).
    case headerUnreadable(String)
    /// The image has more pixels than the configured limit.
    case tooLarge(width: Int, height: Int, limit: Int)
    /// libpng failed while decoding: corrupt or truncated data (its message is kept).
    case decodeFailed(String)
    /// The caller's output buffer cannot hold the decoded image.
    case bufferTooSmall(required: Int, provided: Int)

    public var description: String {
        switch self {
        case .headerUnreadable(let message): "PNG decode: header unreadable: \(message)"
        case .tooLarge(let width, let height, let limit):
            "PNG decode: image is \(width)x\(height) = \(width * height) pixels, over the limit of \(limit) pixels"
        case .decodeFailed(let message): "PNG decode: corrupt or truncated data: \(message)"
        case .bufferTooSmall(let required, let provided):
            "PNG decode: output buffer has \(provided) bytes, the decoded image needs \(required)"
        }
    }
}

/// A PNG's header: its size and how its samples are stored.
public struct PNGHeader: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var bitDepth: Int
    /// libpng's colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.
    public var colorType: Int
    public var interlaced: Bool
}

/// PNG decoding on libpng, to the same 8-bit interleaved layouts the JPEG decoder gives, so a
/// graph's `decode` takes either (chosen by the file's signature). Exact against Pillow's
/// `convert("RGB")` / `convert("L")` for 8-bit images and 16-bit colour ones (the high byte of
/// each sample; alpha and transparency dropped, not composited); 16-bit gray keeps the high
/// byte (Pillow clips it instead). No gamma or ICC correction, as Pillow.
public enum PNGDecoder {
    public static func isPNG(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        return vc_png_is_png(base.assumingMemoryBound(to: UInt8.self), bytes.count) != 0
    }

    public static func readHeader(_ bytes: UnsafeRawBufferPointer) throws(PNGError) -> PNGHeader {
        var info = vc_png_info()
        var message = [CChar](repeating: 0, count: 256)
        let status = vc_png_read_info(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &info, &message, message.count)
        guard status == 0 else { throw .headerUnreadable(Self.text(message)) }
        return PNGHeader(
            width: Int(info.width), height: Int(info.height), bitDepth: Int(info.bit_depth), colorType: Int(info.color_type),
            interlaced: info.interlaced != 0)
    }

    /// [height, width, channels] of the decode: 1 channel for gray, else 3.
    public static func outputShape(header: PNGHeader, color: JPEGDecodeOptions.Color) -> (height: Int, width: Int, channels: Int) {
        (header.height, header.width, color == .gray ? 1 : 3)
    }

    /// Decodes into `output` (at least height × width × channels bytes), refusing images
    /// over `pixelLimit` pixels before any row is read.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, color: JPEGDecodeOptions.Color, pixelLimit: Int
    ) throws(PNGError) {
        let header = try readHeader(bytes)
        guard header.width * header.height <= pixelLimit else {
            throw .tooLarge(width: header.width, height: header.height, limit: pixelLimit)
        }
        let shape = outputShape(header: header, color: color)
        let required = shape.height * shape.width * shape.channels
        guard output.count >= required, let out = output.baseAddress else { throw .bufferTooSmall(required: required, provided: output.count) }
        let format: vc_png_format = switch color {
        case .rgb: VC_PNG_RGB
        case .bgr: VC_PNG_BGR
        case .gray: VC_PNG_GRAY
        }
        var message = [CChar](repeating: 0, count: 256)
        let status = vc_png_decode(
            bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, format, out.assumingMemoryBound(to: UInt8.self),
            output.count, UInt32(header.width), UInt32(header.height), &message, message.count)
        guard status == 0 else { throw .decodeFailed(Self.text(message)) }
    }

    private static func text(_ message: [CChar]) -> String {
        String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
