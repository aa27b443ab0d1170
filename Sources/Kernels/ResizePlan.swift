import CKernels

/// Interpolation of the u8 resize, named by the library whose results it reproduces.
public enum Interpolation: Sendable, CaseIterable {
    /// OpenCV INTER_NEAREST: sx = floor(dx * srcW / dstW).
    case nearest
    /// OpenCV INTER_LINEAR: half-pixel centres, 11-bit fixed-point weights, no antialiasing.
    case bilinear
    /// OpenCV INTER_AREA (box filter when downscaling), within ±1.
    case area
    /// Pillow `Image.resize(BILINEAR)`: the triangle filter widened by the scale when
    /// downscaling (antialiased), Pillow's fixed-point arithmetic.
    case antialiasedBilinear
    /// Pillow `Image.resize(LANCZOS)`: Pillow's lanczos3 filter (support 3, widened by the
    /// scale when downscaling) with the same fixed-point arithmetic.
    case lanczos

    var cValue: vc_interp {
        switch self {
        case .nearest: VC_INTERP_NEAREST
        case .bilinear: VC_INTERP_BILINEAR
        case .area: VC_INTERP_AREA
        case .antialiasedBilinear: VC_INTERP_ANTIALIAS_BILINEAR
        case .lanczos: VC_INTERP_LANCZOS
        }
    }
}

/// A rectangle in pixels (used for the region of interest of a resize).
public struct PixelRect: Sendable, Equatable {
    public var y, x, height, width: Int
    public init(y: Int, x: Int, height: Int, width: Int) {
        self.y = y
        self.x = x
        self.height = height
        self.width = width
    }

    /// The part of this rectangle inside `bounds` (height or width 0 when they do not meet).
    public func clamped(to bounds: PixelRect) -> PixelRect {
        let top = max(y, bounds.y), left = max(x, bounds.x)
        let bottom = min(y + height, bounds.y + bounds.height), right = min(x + width, bounds.x + bounds.width)
        return PixelRect(y: top, x: left, height: max(0, bottom - top), width: max(0, right - left))
    }
}

/// Coefficient tables for resizing a `source` image to `resized` and keeping only `roi` of the
/// result (a resize followed by a crop, fused). Built once per shape; immutable, so one plan
/// serves any number of threads.
public final class ResizePlan: @unchecked Sendable {
    private let plan: OpaquePointer
    public let sourceHeight, sourceWidth: Int
    public let roi: PixelRect
    public let interpolation: Interpolation

    /// - Throws: `KernelError` when a size is < 1, too large, or the ROI leaves the resized image.
    public init(
        sourceHeight: Int, sourceWidth: Int, resizedHeight: Int, resizedWidth: Int, roi: PixelRect? = nil,
        interpolation: Interpolation
    ) throws(KernelError) {
        let name = "resize_plan"
        let roi = roi ?? PixelRect(y: 0, x: 0, height: resizedHeight, width: resizedWidth)
        for (label, value) in [
            ("source height", sourceHeight), ("source width", sourceWidth), ("resized height", resizedHeight),
            ("resized width", resizedWidth), ("roi height", roi.height), ("roi width", roi.width),
        ] {
            // Column offsets (x * channels) stay inside 32 bits for up to VC_MAX_CHANNELS channels.
            try KernelError.checkInt32(name, label, value, minimum: 1)
            guard value <= Int(Int32.max) / Int(VC_MAX_CHANNELS) else {
                throw KernelError(kernel: name, message: "\(label) = \(value) is too large")
            }
        }
        guard roi.y >= 0, roi.x >= 0, roi.y + roi.height <= resizedHeight, roi.x + roi.width <= resizedWidth else {
            throw KernelError(
                kernel: name, message: "roi \(roi) is not inside the resized image \(resizedHeight)x\(resizedWidth)")
        }
        guard
            let plan = vc_resize_plan_create(
                Int32(sourceHeight), Int32(sourceWidth), Int32(resizedHeight), Int32(resizedWidth), Int32(roi.y),
                Int32(roi.x), Int32(roi.height), Int32(roi.width), interpolation.cValue)
        else {
            throw KernelError(kernel: name, message: "out of memory for a \(roi.height)x\(roi.width) plan")
        }
        self.plan = plan
        self.sourceHeight = sourceHeight
        self.sourceWidth = sourceWidth
        self.roi = roi
        self.interpolation = interpolation
    }

    deinit { vc_resize_plan_destroy(plan) }

    /// The source pixels the kernels read for this ROI (every tap, zero-weight ones included):
    /// a source that is right inside this rectangle, whatever the rest holds, gives the same
    /// output. What a decode limited to a region (`JPEGDecodeOptions.region`) must produce.
    public var sourceWindow: PixelRect {
        var rowBegin: Int32 = 0, rowEnd: Int32 = 0, columnBegin: Int32 = 0, columnEnd: Int32 = 0
        vc_resize_plan_source_window(plan, &rowBegin, &rowEnd, &columnBegin, &columnEnd)
        return PixelRect(
            y: Int(rowBegin), x: Int(columnBegin), height: Int(rowEnd - rowBegin), width: Int(columnEnd - columnBegin))
    }

    private func checkSource(_ name: String, _ src: UnsafeBufferPointer<UInt8>, stride: Int, channels: Int) throws(KernelError) {
        guard (1...Int(VC_MAX_CHANNELS)).contains(channels) else {
            throw KernelError(kernel: name, message: "channels = \(channels), expected 1...\(VC_MAX_CHANNELS)")
        }
        try KernelError.checkMatrix(name, "source", src.count, rows: sourceHeight, cols: sourceWidth * channels, ld: stride)
    }

    /// The filter kinds allocate a ring of at most about 1 MiB per call; the C side reports failure.
    private func checkScratch(_ name: String, _ status: Int32) throws(KernelError) {
        guard status == 0 else { throw KernelError(kernel: name, message: "out of memory for the filter's scratch rows") }
    }

    /// Writes ROI rows `rows` (0-based in the ROI) as HWC u8 to `dst`, row y at y*dstStride.
    public func resize(
        _ src: UnsafeBufferPointer<UInt8>, sourceStride: Int, channels: Int, into dst: UnsafeMutableBufferPointer<UInt8>,
        destinationStride: Int, rows: Range<Int>
    ) throws(KernelError) {
        let name = "u8_resize"
        try checkSource(name, src, stride: sourceStride, channels: channels)
        try KernelError.checkRange(name, "rows", rows, within: roi.height)
        try KernelError.checkMatrix(
            name, "destination", dst.count, rows: roi.height, cols: roi.width * channels, ld: destinationStride)
        let status = vc_u8_resize(
            plan, src.baseAddress, sourceStride, Int32(channels), dst.baseAddress, destinationStride,
            Int32(rows.lowerBound), Int32(rows.upperBound))
        try checkScratch(name, status)
    }

    /// The fused preprocess: resize exactly as `resize` does, then for output channel oc
    /// v = Float(pixel[channelMap[oc]]) * scale[oc] + bias[oc], written CHW (`planar`) or HWC
    /// into `dst` (the whole ROI tensor; only rows `rows` are written).
    public func preprocess(
        _ src: UnsafeBufferPointer<UInt8>, sourceStride: Int, sourceChannels: Int, channelMap: [Int32],
        scale: [Float], bias: [Float], planar: Bool, into dst: UnsafeMutableBufferPointer<Float>, rows: Range<Int>
    ) throws(KernelError) {
        let name = "u8_preprocess"
        try checkSource(name, src, stride: sourceStride, channels: sourceChannels)
        let outChannels = channelMap.count
        guard (1...Int(VC_MAX_CHANNELS)).contains(outChannels), scale.count == outChannels, bias.count == outChannels
        else {
            throw KernelError(
                kernel: name,
                message: "channel map, scale and bias have \(outChannels), \(scale.count), \(bias.count) entries, "
                    + "expected one equal count in 1...\(VC_MAX_CHANNELS)")
        }
        if let bad = channelMap.first(where: { $0 < 0 || Int($0) >= sourceChannels }) {
            throw KernelError(kernel: name, message: "channel map entry \(bad) is outside 0..<\(sourceChannels)")
        }
        try KernelError.checkRange(name, "rows", rows, within: roi.height)
        try KernelError.checkCount(
            name, "destination", dst.count, needed: KernelError.product(name, roi.height, roi.width, outChannels))
        let status = vc_u8_preprocess(
            plan, src.baseAddress, sourceStride, Int32(sourceChannels), channelMap, Int32(outChannels), scale, bias,
            planar ? 1 : 0, dst.baseAddress, Int32(rows.lowerBound), Int32(rows.upperBound))
        try checkScratch(name, status)
    }
}

/// u8 helpers of the unfused path.
public enum U8Kernels {
    /// y[i] = Float(x[i]) for i in `range`.
    public static func toF32(
        _ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeMutableBufferPointer<Float>, range: Range<Int>
    ) throws(KernelError) {
        try KernelError.checkRange("u8_to_f32", "range", range, within: min(x.count, y.count))
        vc_u8_to_f32(x.baseAddress, y.baseAddress, range.lowerBound, range.upperBound)
    }

    /// [h, w, c] -> [c, h, w] for image rows `rows`.
    public static func hwcToCHW(
        _ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeMutableBufferPointer<UInt8>, height: Int, width: Int,
        channels: Int, rows: Range<Int>
    ) throws(KernelError) {
        try F32Kernels.checkTranspose("u8_hwc_to_chw", x.count, y.count, height, width, channels, rows)
        vc_u8_hwc_to_chw(
            x.baseAddress, y.baseAddress, Int32(height), Int32(width), Int32(channels), Int32(rows.lowerBound),
            Int32(rows.upperBound))
    }
}
