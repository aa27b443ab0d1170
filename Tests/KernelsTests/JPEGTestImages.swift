import CTurboJPEG
import XCTest

/// In-process JPEG fixtures: synthetic pixels encoded with TurboJPEG, plus byte-level
/// edits (EXIF segment insertion, SOF size patching) that real cameras and attackers make.
enum JPEGTestImages {
    struct EncodeError: Error, CustomStringConvertible {
        let description: String
    }

    /// Encodes packed pixels of `format` with `tjCompress2`.
    static func encode(
        _ pixels: [UInt8], width: Int, height: Int, format: TJPF = TJPF_RGB,
        subsampling: TJSAMP = TJSAMP_444, quality: Int32 = 95, progressive: Bool = false
    ) throws -> [UInt8] {
        guard let handle = tjInitCompress() else { throw EncodeError(description: "tjInitCompress failed") }
        defer { tjDestroy(handle) }
        var jpeg: UnsafeMutablePointer<UInt8>? = nil
        var jpegSize: UInt = 0
        defer { tjFree(jpeg) }
        let status = pixels.withUnsafeBufferPointer { source in
            tjCompress2(
                handle, source.baseAddress, Int32(width), 0, Int32(height), format.rawValue,
                &jpeg, &jpegSize, Int32(subsampling.rawValue), quality, progressive ? TJFLAG_PROGRESSIVE : 0)
        }
        guard status == 0, let jpeg else { throw EncodeError(description: String(cString: tjGetErrorStr2(handle))) }
        return Array(UnsafeBufferPointer(start: jpeg, count: Int(jpegSize)))
    }

    static func encodeGray(_ pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try encode(pixels, width: width, height: height, format: TJPF_GRAY, subsampling: TJSAMP_GRAY)
    }

    /// Smooth RGB ramps: red along x, green along y, blue along the diagonal.
    static func gradientRGB(width: Int, height: Int) -> [UInt8] {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                pixels.append(UInt8(x * 255 / max(width - 1, 1)))
                pixels.append(UInt8(y * 255 / max(height - 1, 1)))
                pixels.append(UInt8((x + y) * 255 / max(width + height - 2, 1)))
            }
        }
        return pixels
    }

    static func gradientGray(width: Int, height: Int) -> [UInt8] {
        (0..<height).flatMap { y in (0..<width).map { x in UInt8((x + 2 * y) * 255 / (width + 2 * height - 3)) } }
    }

    /// Four flat quadrants, each pixel a copy of `colors[i]` (any channel count):
    /// 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right.
    static func quadrants(width: Int, height: Int, colors: [[UInt8]]) -> [UInt8] {
        (0..<height).flatMap { y in
            (0..<width).flatMap { x in colors[(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)] }
        }
    }

    /// A minimal TIFF structure whose IFD0 holds only the orientation tag.
    static func exifTIFF(orientation: UInt16, bigEndian: Bool) -> [UInt8] {
        func u16(_ value: UInt16) -> [UInt8] {
            bigEndian ? [UInt8(value >> 8), UInt8(value & 0xFF)] : [UInt8(value & 0xFF), UInt8(value >> 8)]
        }
        func u32(_ value: UInt32) -> [UInt8] {
            let high = u16(UInt16(value >> 16)), low = u16(UInt16(value & 0xFFFF))
            return bigEndian ? high + low : low + high
        }
        let byteOrder: [UInt8] = bigEndian ? Array("MM".utf8) : Array("II".utf8)
        return byteOrder + u16(42) + u32(8)  // header; IFD0 right after it
            + u16(1)  // one entry
            + u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0)  // orientation, SHORT, count 1
            + u32(0)  // no next IFD
    }

    /// `jpeg` with an APP1 Exif segment wrapping `tiff` inserted right after SOI.
    static func insertingExif(_ tiff: [UInt8], into jpeg: [UInt8]) -> [UInt8] {
        let payload = Array("Exif\0\0".utf8) + tiff
        let length = payload.count + 2
        let segment: [UInt8] = [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
        return Array(jpeg[0..<2]) + segment + Array(jpeg[2...])
    }

    /// `jpeg` with its frame header (SOF0/SOF2) rewritten to claim `width`×`height`.
    static func patchingFrameSize(_ jpeg: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        var bytes = jpeg
        var offset = 2
        while offset + 9 <= bytes.count, bytes[offset] == 0xFF {
            let marker = bytes[offset + 1]
            if marker == 0xC0 || marker == 0xC2 {
                // Segment: FF Cn, length(2), precision(1), height(2), width(2), all big-endian.
                bytes[offset + 5] = UInt8(height >> 8)
                bytes[offset + 6] = UInt8(height & 0xFF)
                bytes[offset + 7] = UInt8(width >> 8)
                bytes[offset + 8] = UInt8(width & 0xFF)
                return bytes
            }
            offset += 2 + (Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3]))
        }
        throw EncodeError(description: "no SOF0/SOF2 segment found before offset \(offset)")
    }

    /// RGB ↔ BGR on packed 3-channel pixels.
    static func swappingRedAndBlue(_ pixels: [UInt8]) -> [UInt8] {
        var swapped = pixels
        for offset in stride(from: 0, to: pixels.count - 2, by: 3) {
            swapped[offset] = pixels[offset + 2]
            swapped[offset + 2] = pixels[offset]
        }
        return swapped
    }

    /// BT.601 luma (the weights libjpeg uses) of packed RGB pixels, rounded.
    static func luma(_ rgb: [UInt8]) -> [UInt8] {
        stride(from: 0, to: rgb.count - 2, by: 3).map { offset in
            let (red, green, blue) = (Double(rgb[offset]), Double(rgb[offset + 1]), Double(rgb[offset + 2]))
            let weighted: Double = 0.299 * red + 0.587 * green + 0.114 * blue
            return UInt8(weighted.rounded())
        }
    }

    static func meanAbsoluteError(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count, "comparing \(a.count) with \(b.count) samples")
        let total = zip(a, b).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        return Double(total) / Double(max(a.count, 1))
    }
}
