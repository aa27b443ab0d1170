/// Facts TurboJPEG's header call does not report, read from the marker segments before
/// the first scan: progressive frame type, EXIF orientation, Adobe APP14 presence.
///
/// Every read is bounds-checked; a malformed segment ends the walk and leaves the defaults,
/// because TurboJPEG itself is the judge of whether the stream is decodable.
struct JPEGMarkerInfo: Equatable {
    var isProgressive = false
    var orientation = JPEGOrientation.identity
    var hasAdobeMarker = false

    init(scanning bytes: UnsafeRawBufferPointer) {
        var offset = 2  // past SOI
        var sawExif = false
        while offset + 1 < bytes.count {
            guard bytes[offset] == 0xFF else { return }
            let marker = bytes[offset + 1]
            switch marker {
            case 0xFF:
                offset += 1  // fill byte before a marker
                continue
            case 0x01, 0xD0...0xD8:
                offset += 2  // standalone markers carry no length
                continue
            case 0xD9, 0xDA:
                return  // end of image, or start of scan: all header segments are behind us
            default:
                break
            }
            guard offset + 4 <= bytes.count else { return }
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let end = offset + 2 + length
            guard length >= 2, end <= bytes.count else { return }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<end])
            switch marker {
            case 0xC0...0xCF where marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
                // SOFn; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
                isProgressive = marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE
            case 0xE1 where !sawExif && payload.starts(with: Self.exifSignature):
                sawExif = true
                let tiff = UnsafeRawBufferPointer(rebasing: payload[Self.exifSignature.count...])
                orientation = Self.exifOrientation(tiff: tiff) ?? .identity
            case 0xEE where payload.starts(with: Self.adobeSignature):
                hasAdobeMarker = true
            default:
                break
            }
            offset = end
        }
    }

    private static let exifSignature: [UInt8] = Array("Exif\0\0".utf8)
    private static let adobeSignature: [UInt8] = Array("Adobe".utf8)
    private static let orientationTag = 0x0112
    private static let tiffTypeShort = 3

    /// Orientation from IFD0 of the TIFF structure inside an Exif segment, either byte order.
    /// Nil when the structure is malformed, the tag is missing, or its value is not 1–8.
    private static func exifOrientation(tiff: UnsafeRawBufferPointer) -> JPEGOrientation? {
        guard tiff.count >= 8 else { return nil }
        let bigEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): bigEndian = false  // "II", Intel
        case (0x4D, 0x4D): bigEndian = true  // "MM", Motorola
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            let (a, b) = (Int(tiff[at]), Int(tiff[at + 1]))
            return bigEndian ? a << 8 | b : b << 8 | a
        }
        func u32(_ at: Int) -> Int? {
            guard let first = u16(at), let second = u16(at + 2) else { return nil }
            return bigEndian ? first << 16 | second : second << 16 | first
        }
        guard u16(2) == 42, let ifdOffset = u32(4), let entryCount = u16(ifdOffset) else { return nil }
        for entry in 0..<entryCount {
            let entryOffset = ifdOffset + 2 + entry * 12
            guard let tag = u16(entryOffset) else { return nil }
            guard tag == orientationTag else { continue }
            guard u16(entryOffset + 2) == tiffTypeShort, u32(entryOffset + 4) == 1,
                let value = u16(entryOffset + 8)
            else { return nil }
            return JPEGOrientation(rawValue: value)
        }
        return nil
    }
}
