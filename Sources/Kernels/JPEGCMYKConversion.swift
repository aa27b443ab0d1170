/// CMYK → RGB/BGR/gray for CMYK and YCCK JPEGs, which TurboJPEG decodes only to CMYK.
///
/// Without a color profile the conversion is the naive one every viewer uses:
/// red = (1 − C)(1 − K), and likewise for green/M and blue/Y. Adobe applications store
/// the components inverted (255 means no ink) and mark such files with an APP14 "Adobe"
/// segment (Pillow and browsers read them the same way), so for those files
/// R = C·K/255 on the stored values; otherwise R = (255 − C)(255 − K)/255.
/// YCCK always carries that marker and libjpeg's YCCK → CMYK step yields the stored values.
enum JPEGCMYKConversion {
    /// Converts `pixelCount` packed CMYK pixels. `destination` may equal `cmyk`: pixel i is
    /// written to bytes below 4·i, after it is read, so converting in place front to back is safe.
    static func convert(
        cmyk: UnsafePointer<UInt8>, pixelCount: Int, inverted: Bool,
        color: JPEGDecodeOptions.Color, destination: UnsafeMutablePointer<UInt8>
    ) {
        // Work in the inverted form (255 = no ink); XOR with 255 is 255 − v for a byte.
        let toInverted: UInt32 = inverted ? 0 : 255
        for pixel in 0..<pixelCount {
            let c = UInt32(cmyk[4 * pixel]) ^ toInverted
            let m = UInt32(cmyk[4 * pixel + 1]) ^ toInverted
            let y = UInt32(cmyk[4 * pixel + 2]) ^ toInverted
            let k = UInt32(cmyk[4 * pixel + 3]) ^ toInverted
            // Rounded c·k/255 for products up to 255·255.
            let red = (c * k + 127) / 255
            let green = (m * k + 127) / 255
            let blue = (y * k + 127) / 255
            switch color {
            case .rgb:
                destination[3 * pixel] = UInt8(red)
                destination[3 * pixel + 1] = UInt8(green)
                destination[3 * pixel + 2] = UInt8(blue)
            case .bgr:
                destination[3 * pixel] = UInt8(blue)
                destination[3 * pixel + 1] = UInt8(green)
                destination[3 * pixel + 2] = UInt8(red)
            case .gray:
                // libjpeg's RGB → gray weights (0.299, 0.587, 0.114) in 16-bit fixed point.
                destination[pixel] = UInt8((19595 * red + 38470 * green + 7471 * blue + 32768) >> 16)
            }
        }
    }
}
