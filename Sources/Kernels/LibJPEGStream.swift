import CJPEG

/// A JPEG stream made of pieces (ranges of a file, patched header bytes), decoded with
/// libjpeg's API without being copied into one buffer: the pruned and band-cut streams of
/// `JPEGStreamLayout`.
struct LibJPEGStream {
    /// The pieces, read in order; each must stay valid while `decode` runs.
    var chunks: [vc_jpeg_chunk] = []

    mutating func append(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) {
        guard let base = bytes.baseAddress, !range.isEmpty else { return }
        chunks.append(vc_jpeg_chunk(data: (base + range.lowerBound).assumingMemoryBound(to: UInt8.self), size: range.count))
    }

    /// Decodes output rows `skipRows ..< skipRows + rows` into `destination` (packed rows of
    /// `width × color.channels` bytes), skipping the rows before them and not decoding those after.
    /// With `columns`, only those columns of each row are sure to be written (and right): the
    /// decoder leaves out the iMCU columns outside them, less a margin (`vc_jpeg_request`).
    /// - Throws: `corruptData` for libjpeg's warnings (the decode stops at the first one),
    ///   `decodeFailed` for its errors, each with libjpeg's message.
    func decode(
        into destination: UnsafeMutablePointer<UInt8>, capacity: Int, width: Int, color: JPEGDecodeOptions.Color,
        scale: JPEGScale, blockSmoothing: Bool, skipRows: Int = 0, rows: Int, columns: Range<Int>? = nil
    ) throws(JPEGError) {
        let format: vc_jpeg_format = switch color {
        case .rgb: VC_JPEG_RGB
        case .bgr: VC_JPEG_BGR
        case .gray: VC_JPEG_GRAY
        }
        var request = vc_jpeg_request(
            format: format, scale_num: UInt32(scale.num), scale_denom: UInt32(scale.denom),
            block_smoothing: blockSmoothing ? 1 : 0, skip_rows: UInt32(skipRows), rows: UInt32(rows),
            stride: width * color.channels, expected_width: UInt32(width),
            crop_x: UInt32(columns?.lowerBound ?? 0), crop_width: UInt32(columns?.count ?? 0))
        var message = [CChar](repeating: 0, count: 256)
        let status = chunks.withUnsafeBufferPointer { chunks in
            vc_jpeg_decode(chunks.baseAddress, chunks.count, &request, destination, capacity, &message, message.count)
        }
        guard status != VC_JPEG_OK else { return }
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw status == VC_JPEG_CORRUPT ? .corruptData(text) : .decodeFailed(text)
    }

    /// Decodes `region` of an image `width` pixels wide into `destination` (the whole image's
    /// packed rows), at `options`' scale and colour; pixels outside it may stay unwritten.
    func decode(
        _ region: PixelRect, of width: Int, into destination: UnsafeMutablePointer<UInt8>, options: JPEGDecodeOptions,
        blockSmoothing: Bool
    ) throws(JPEGError) {
        let rowBytes = width * options.color.channels
        try decode(
            into: destination + region.y * rowBytes, capacity: region.height * rowBytes, width: width,
            color: options.color, scale: options.scale, blockSmoothing: blockSmoothing, skipRows: region.y,
            rows: region.height, columns: region.x..<region.x + region.width)
    }
}
