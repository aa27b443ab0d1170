import CPNG

/// PNG encoding on libpng, for the images a graph outputs (a segmentation mask, a cut-out):
/// 8-bit interleaved rows, 1 channel gray, 2 gray + alpha, 3 RGB, 4 RGBA.
public enum PNGEncoder {
    /// The PNG file of a `height` × `width` image of `channels` whose rows are packed in `pixels`.
    public static func encode(_ pixels: UnsafeBufferPointer<UInt8>, height: Int, width: Int, channels: Int) throws(KernelError) -> [UInt8] {
        let name = "png_encode"
        guard (1...4).contains(channels) else {
            throw KernelError(kernel: name, message: "\(channels) channels; a PNG holds 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA)")
        }
        try KernelError.checkInt32(name, "height", height, minimum: 1)
        try KernelError.checkInt32(name, "width", width, minimum: 1)
        try KernelError.checkCount(name, "pixels", pixels.count, needed: KernelError.product(name, height, width, channels))
        let bound = vc_png_encoded_size_bound(UInt32(width), UInt32(height), Int32(channels))
        guard bound > 0 else { throw KernelError(kernel: name, message: "a \(width)x\(height) image is too large for one PNG") }
        var file = [UInt8](repeating: 0, count: bound)
        var size = bound
        var message = [CChar](repeating: 0, count: 256)
        let status = file.withUnsafeMutableBufferPointer { out in
            vc_png_encode(pixels.baseAddress, UInt32(width), UInt32(height), Int32(channels), out.baseAddress, &size, &message, message.count)
        }
        guard status == 0 else {
            throw KernelError(kernel: name, message: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        file.removeSubrange(size...)
        return file
    }
}
