import CKernels

/// Activation fused into an epilogue.
public enum Activation: Sendable, Equatable {
    case none
    /// max(v, 0)
    case relu
    /// min(max(v, lo), hi), e.g. ReLU6 = clip(lo: 0, hi: 6).
    case clip(lo: Float, hi: Float)

    var cArguments: (vc_activation, Float, Float) {
        switch self {
        case .none: (VC_ACT_NONE, 0, 0)
        case .relu: (VC_ACT_RELU, 0, 0)
        case .clip(let lo, let hi): (VC_ACT_CLIP, lo, hi)
        }
    }
}

/// Elementwise binary operator of `F32Kernels.binary`.
public enum BinaryOp: Sendable, CaseIterable {
    case add, sub, mul, div

    var cValue: vc_binary_op {
        switch self {
        case .add: VC_BINARY_ADD
        case .sub: VC_BINARY_SUB
        case .mul: VC_BINARY_MUL
        case .div: VC_BINARY_DIV
        }
    }
}

/// Geometry of a 2-D sliding window over one [height, width] plane (convolution or pooling).
/// Output sizes are the caller's (they encode ceil mode and the bottom/right padding).
public struct WindowGeometry: Sendable, Equatable {
    public var height, width, kernelHeight, kernelWidth: Int
    public var strideHeight = 1, strideWidth = 1
    public var padTop = 0, padLeft = 0
    public var dilationHeight = 1, dilationWidth = 1
    public var outputHeight, outputWidth: Int

    public init(
        height: Int, width: Int, kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
        padTop: Int = 0, padLeft: Int = 0, dilationHeight: Int = 1, dilationWidth: Int = 1,
        outputHeight: Int, outputWidth: Int
    ) {
        self.height = height
        self.width = width
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.padTop = padTop
        self.padLeft = padLeft
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
    }

    /// Checks the values keep every coordinate the C kernels compute inside 32 bits.
    func validate(_ kernel: String) throws(KernelError) {
        let limit = Int(Int32.max) / 4
        for (name, value, minimum) in [
            ("height", height, 1), ("width", width, 1), ("kernel height", kernelHeight, 1),
            ("kernel width", kernelWidth, 1), ("stride height", strideHeight, 1), ("stride width", strideWidth, 1),
            ("dilation height", dilationHeight, 1), ("dilation width", dilationWidth, 1),
            ("output height", outputHeight, 0), ("output width", outputWidth, 0),
        ] {
            guard value >= minimum, value <= limit else {
                throw KernelError(kernel: kernel, message: "\(name) = \(value), expected \(minimum)...\(limit)")
            }
        }
        guard abs(padTop) <= limit, abs(padLeft) <= limit,
            (outputHeight - 1) * strideHeight + (kernelHeight - 1) * dilationHeight <= limit,
            (outputWidth - 1) * strideWidth + (kernelWidth - 1) * dilationWidth <= limit
        else {
            throw KernelError(kernel: kernel, message: "window geometry \(self) exceeds 32-bit coordinates")
        }
    }
}

/// f32 kernels (see Kernels/include/visionc_kernels.h). Each takes the range of rows, planes or
/// elements it should produce, so callers can split one operation over threads.
public enum F32Kernels {
    /// GEMM epilogue over `y` = [channels, plane]: y[c,:] = act(y[c,:] + bias[c]) for c in `channels`.
    public static func biasActivation(
        _ y: UnsafeMutableBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?, plane: Int,
        channels: Range<Int>, activation: Activation
    ) throws(KernelError) {
        let name = "bias_act"
        try KernelError.checkInt32(name, "channels.upperBound", channels.upperBound)
        try KernelError.checkRange(name, "channels", channels, within: Int(Int32.max))
        try KernelError.checkCount(name, "y", y.count, needed: KernelError.product(name, channels.upperBound, plane))
        if let bias { try KernelError.checkCount(name, "bias", bias.count, needed: channels.upperBound) }
        let (act, lo, hi) = activation.cArguments
        vc_f32_bias_act(
            y.baseAddress, bias?.baseAddress, plane, Int32(channels.lowerBound), Int32(channels.upperBound), act, lo, hi)
    }

    /// Fills rows `rows` of `col` = [channels*kh*kw, outputRows.count*ow] from one image
    /// `x` = [channels, h, w]: the columns of output rows `outputRows` (all of them by default),
    /// so a convolution can lower one band of its output at a time into a cache-sized `col`.
    public static func im2col(
        _ x: UnsafeBufferPointer<Float>, channels: Int, geometry g: WindowGeometry,
        col: UnsafeMutableBufferPointer<Float>, rows: Range<Int>, outputRows: Range<Int>? = nil
    ) throws(KernelError) {
        let name = "im2col"
        try g.validate(name)
        let band = outputRows ?? 0..<g.outputHeight
        let rowCount = try KernelError.product(name, channels, g.kernelHeight, g.kernelWidth)
        try KernelError.checkInt32(name, "channels*kh*kw", rowCount, minimum: 1)
        try KernelError.checkRange(name, "rows", rows, within: rowCount)
        try KernelError.checkRange(name, "outputRows", band, within: g.outputHeight)
        try KernelError.checkCount(name, "x", x.count, needed: KernelError.product(name, channels, g.height, g.width))
        try KernelError.checkCount(
            name, "col", col.count, needed: KernelError.product(name, rowCount, band.count, g.outputWidth))
        vc_f32_im2col(
            x.baseAddress, Int32(channels), Int32(g.height), Int32(g.width), Int32(g.kernelHeight),
            Int32(g.kernelWidth), Int32(g.strideHeight), Int32(g.strideWidth), Int32(g.padTop), Int32(g.padLeft),
            Int32(g.dilationHeight), Int32(g.dilationWidth), Int32(g.outputHeight), Int32(g.outputWidth),
            Int32(band.lowerBound), Int32(band.upperBound), col.baseAddress, Int32(rows.lowerBound), Int32(rows.upperBound))
    }

    private static func checkPool(
        _ name: String, _ x: UnsafeBufferPointer<Float>, _ g: WindowGeometry, _ y: UnsafeMutableBufferPointer<Float>,
        _ planes: Range<Int>
    ) throws(KernelError) {
        try g.validate(name)
        try KernelError.checkInt32(name, "planes.upperBound", planes.upperBound)
        try KernelError.checkRange(name, "planes", planes, within: Int(Int32.max))
        try KernelError.checkCount(name, "x", x.count, needed: KernelError.product(name, planes.upperBound, g.height, g.width))
        try KernelError.checkCount(
            name, "y", y.count, needed: KernelError.product(name, planes.upperBound, g.outputHeight, g.outputWidth))
    }

    /// Max pool over NCHW planes `planes` (padding never wins).
    public static func maxPool2d(
        _ x: UnsafeBufferPointer<Float>, geometry g: WindowGeometry, _ y: UnsafeMutableBufferPointer<Float>,
        planes: Range<Int>
    ) throws(KernelError) {
        try checkPool("max_pool2d", x, g, y, planes)
        vc_f32_max_pool2d(
            x.baseAddress, Int32(g.height), Int32(g.width), y.baseAddress, Int32(g.outputHeight), Int32(g.outputWidth),
            Int32(g.kernelHeight), Int32(g.kernelWidth), Int32(g.strideHeight), Int32(g.strideWidth), Int32(g.padTop),
            Int32(g.padLeft), Int32(g.dilationHeight), Int32(g.dilationWidth), Int32(planes.lowerBound),
            Int32(planes.upperBound))
    }

    /// Max pool that also writes, per output, the index of its maximum in the whole input
    /// flattened row-major (N, C, H, W), or with `columnMajor` (N, C, W, H): ONNX MaxPool's
    /// Indices output and its `storage_order`. The first maximum in window order wins.
    public static func maxPool2dIndices(
        _ x: UnsafeBufferPointer<Float>, geometry g: WindowGeometry, _ y: UnsafeMutableBufferPointer<Float>,
        indices: UnsafeMutableBufferPointer<Int64>, columnMajor: Bool, planes: Range<Int>
    ) throws(KernelError) {
        let name = "max_pool2d_indices"
        try checkPool(name, x, g, y, planes)
        try KernelError.checkCount(
            name, "indices", indices.count, needed: KernelError.product(name, planes.upperBound, g.outputHeight, g.outputWidth))
        vc_f32_max_pool2d_indices(
            x.baseAddress, Int32(g.height), Int32(g.width), y.baseAddress, indices.baseAddress, Int32(g.outputHeight),
            Int32(g.outputWidth), Int32(g.kernelHeight), Int32(g.kernelWidth), Int32(g.strideHeight), Int32(g.strideWidth),
            Int32(g.padTop), Int32(g.padLeft), Int32(g.dilationHeight), Int32(g.dilationWidth), columnMajor ? 1 : 0,
            Int32(planes.lowerBound), Int32(planes.upperBound))
    }

    /// Average pool over NCHW planes. `padBottom`/`padRight` bound the explicit padding: with
    /// `countIncludePad` the divisor counts the window's taps inside the padded image (ONNX
    /// leaves out those a ceil-mode window reaches past it), else those inside the image.
    public static func avgPool2d(
        _ x: UnsafeBufferPointer<Float>, geometry g: WindowGeometry, padBottom: Int = 0, padRight: Int = 0,
        countIncludePad: Bool, _ y: UnsafeMutableBufferPointer<Float>, planes: Range<Int>
    ) throws(KernelError) {
        let name = "avg_pool2d"
        try checkPool(name, x, g, y, planes)
        // The kernel adds them to the image size (h + pt + pb), as validate() bounds the others.
        guard (0...Int(Int32.max) / 4).contains(padBottom), (0...Int(Int32.max) / 4).contains(padRight) else {
            throw KernelError(kernel: name, message: "padding bottom \(padBottom), right \(padRight) exceeds 32-bit coordinates")
        }
        vc_f32_avg_pool2d(
            x.baseAddress, Int32(g.height), Int32(g.width), y.baseAddress, Int32(g.outputHeight), Int32(g.outputWidth),
            Int32(g.kernelHeight), Int32(g.kernelWidth), Int32(g.strideHeight), Int32(g.strideWidth), Int32(g.padTop),
            Int32(g.padLeft), Int32(padBottom), Int32(padRight), Int32(g.dilationHeight), Int32(g.dilationWidth),
            countIncludePad ? 1 : 0, Int32(planes.lowerBound), Int32(planes.upperBound))
    }

    /// y[p] = mean of plane p of `x` for p in `planes`.
    public static func globalAvgPool(
        _ x: UnsafeBufferPointer<Float>, plane: Int, _ y: UnsafeMutableBufferPointer<Float>, planes: Range<Int>
    ) throws(KernelError) {
        let name = "global_avg_pool"
        guard plane >= 1 else { throw KernelError(kernel: name, message: "plane = \(plane), expected >= 1") }
        try KernelError.checkInt32(name, "planes.upperBound", planes.upperBound)
        try KernelError.checkRange(name, "planes", planes, within: Int(Int32.max))
        try KernelError.checkCount(name, "x", x.count, needed: KernelError.product(name, planes.upperBound, plane))
        try KernelError.checkCount(name, "y", y.count, needed: planes.upperBound)
        vc_f32_global_avg_pool(x.baseAddress, plane, y.baseAddress, Int32(planes.lowerBound), Int32(planes.upperBound))
    }

    /// y[i] = act(a[i] op b[i]) for i in `range`; `y` may be the same memory as `a` or `b`.
    public static func binary(
        _ op: BinaryOp, _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>,
        _ y: UnsafeMutableBufferPointer<Float>, range: Range<Int>, activation: Activation = .none
    ) throws(KernelError) {
        let name = "binary"
        try KernelError.checkRange(name, "range", range, within: min(a.count, b.count, y.count))
        let (act, lo, hi) = activation.cArguments
        vc_f32_binary(op.cValue, a.baseAddress, b.baseAddress, y.baseAddress, range.lowerBound, range.upperBound, act, lo, hi)
    }

    /// Numerically stable softmax of rows `rows` of `x` = [?, cols] into `y` (may alias `x`).
    public static func softmax(
        _ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>, cols: Int, rows: Range<Int>
    ) throws(KernelError) {
        let name = "softmax"
        guard cols >= 1 else { throw KernelError(kernel: name, message: "cols = \(cols), expected >= 1") }
        let needed = try KernelError.product(name, rows.upperBound, cols)
        try KernelError.checkRange(name, "rows", rows, within: Int.max)
        try KernelError.checkCount(name, "x", x.count, needed: needed)
        try KernelError.checkCount(name, "y", y.count, needed: needed)
        vc_f32_softmax(x.baseAddress, y.baseAddress, cols, rows.lowerBound, rows.upperBound)
    }

    /// y[p*channels + c] = x[p*channels + c] * scale[c] + bias[c] for pixels p in `pixels` (y may alias x).
    public static func channelAffineHWC(
        _ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>, pixels: Range<Int>,
        scale: [Float], bias: [Float]
    ) throws(KernelError) {
        let name = "channel_affine_hwc"
        let channels = scale.count
        guard (1...Int(VC_MAX_CHANNELS)).contains(channels), bias.count == channels else {
            throw KernelError(
                kernel: name,
                message: "scale has \(channels) and bias \(bias.count) channels, expected equal counts in 1...\(VC_MAX_CHANNELS)")
        }
        let needed = try KernelError.product(name, pixels.upperBound, channels)
        try KernelError.checkRange(name, "pixels", pixels, within: Int.max)
        try KernelError.checkCount(name, "x", x.count, needed: needed)
        try KernelError.checkCount(name, "y", y.count, needed: needed)
        vc_f32_channel_affine_hwc(
            x.baseAddress, y.baseAddress, pixels.lowerBound, pixels.upperBound, Int32(channels), scale, bias)
    }

    /// [h, w, c] -> [c, h, w] for image rows `rows`.
    public static func hwcToCHW(
        _ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>, height: Int, width: Int,
        channels: Int, rows: Range<Int>
    ) throws(KernelError) {
        try transposeImage("f32_hwc_to_chw", vc_f32_hwc_to_chw, x, y, height, width, channels, rows)
    }

    /// [c, h, w] -> [h, w, c] for image rows `rows`.
    public static func chwToHWC(
        _ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>, height: Int, width: Int,
        channels: Int, rows: Range<Int>
    ) throws(KernelError) {
        try transposeImage("f32_chw_to_hwc", vc_f32_chw_to_hwc, x, y, height, width, channels, rows)
    }

    private static func transposeImage(
        _ name: String, _ kernel: (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int32, Int32, Int32, Int32, Int32) -> Void,
        _ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>, _ height: Int, _ width: Int,
        _ channels: Int, _ rows: Range<Int>
    ) throws(KernelError) {
        try checkTranspose(name, x.count, y.count, height, width, channels, rows)
        kernel(x.baseAddress, y.baseAddress, Int32(height), Int32(width), Int32(channels), Int32(rows.lowerBound), Int32(rows.upperBound))
    }

    static func checkTranspose(
        _ name: String, _ xCount: Int, _ yCount: Int, _ height: Int, _ width: Int, _ channels: Int, _ rows: Range<Int>
    ) throws(KernelError) {
        try KernelError.checkInt32(name, "height", height, minimum: 1)
        try KernelError.checkInt32(name, "width", width, minimum: 1)
        try KernelError.checkInt32(name, "channels", channels, minimum: 1)
        try KernelError.checkRange(name, "rows", rows, within: height)
        let total = try KernelError.product(name, height, width, channels)
        // The u8 SIMD variant addresses bytes with 32-bit offsets.
        try KernelError.checkInt32(name, "h*w*c", total)
        try KernelError.checkCount(name, "x", xCount, needed: total)
        try KernelError.checkCount(name, "y", yCount, needed: total)
    }
}
