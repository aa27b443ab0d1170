import CKernels

/// Convolution weights packed once for `F32Kernels.conv1x1` and `F32Kernels.conv2d`: the
/// [outChannels, depth] matrix (depth = inChannels * kh * kw, the row-major weight tensor's
/// trailing dims) in blocks of 8 output channels, k-major within a block.
public struct PackedConvWeights: Sendable {
    public let outChannels: Int
    public let depth: Int
    let packed: [Float]

    /// Packs `weights` = [outChannels, depth] (row-major).
    public init(_ weights: UnsafeBufferPointer<Float>, outChannels: Int, depth: Int) throws(KernelError) {
        let name = "conv_pack"
        try KernelError.checkInt32(name, "outChannels", outChannels, minimum: 1)
        try KernelError.checkInt32(name, "depth", depth, minimum: 1)
        try KernelError.checkCount(name, "weights", weights.count, needed: KernelError.product(name, outChannels, depth))
        self.outChannels = outChannels
        self.depth = depth
        let count = vc_f32_conv1x1_packed_count(Int32(outChannels), Int32(depth))
        packed = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            vc_f32_conv1x1_pack(weights.baseAddress, Int32(outChannels), Int32(depth), buffer.baseAddress)
            initialized = count
        }
    }
}

extension F32Kernels {
    /// Output pixels `pixels` of a pointwise convolution of one image: x = [inChannels, plane],
    /// y = [outChannels, plane], y = program(activation(W·x + bias)). x is read in place (no
    /// im2col, no packing); each output is stored once, with bias, activation and the fused
    /// elementwise program applied in registers.
    public static func conv1x1(
        _ weights: PackedConvWeights, _ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>,
        plane: Int, bias: UnsafeBufferPointer<Float>?, activation: Activation, program: EpilogueProgram = EpilogueProgram(),
        pixels: Range<Int>
    ) throws(KernelError) {
        let name = "conv1x1"
        try KernelError.checkInt32(name, "plane", plane, minimum: 1)
        try KernelError.checkRange(name, "pixels", pixels, within: plane)
        try KernelError.checkCount(name, "x", x.count, needed: KernelError.product(name, weights.depth, plane))
        try KernelError.checkCount(name, "y", y.count, needed: KernelError.product(name, weights.outChannels, plane))
        if let bias { try KernelError.checkCount(name, "bias", bias.count, needed: weights.outChannels) }
        let (act, lo, hi) = activation.cArguments
        weights.packed.withUnsafeBufferPointer { packed in
            program.withOps { ops, opCount in
                vc_f32_conv1x1(
                    packed.baseAddress, x.baseAddress, y.baseAddress, Int32(weights.outChannels), Int32(plane),
                    Int32(weights.depth), bias?.baseAddress, act, lo, hi, ops, opCount,
                    Int32(pixels.lowerBound), Int32(pixels.upperBound))
            }
        }
    }
}

extension F32Kernels {
    /// Output rows `rows` of a stride-1, dilation-1, group-1 convolution of one image without
    /// im2col: x = [inChannels, h, w] (geometry), y = [outChannels, oh, ow],
    /// y = program(activation(conv + bias)); `weights` packed with depth = inChannels * kh * kw.
    public static func conv2d(
        _ weights: PackedConvWeights, _ x: UnsafeBufferPointer<Float>, inChannels: Int, geometry g: WindowGeometry,
        _ y: UnsafeMutableBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?, activation: Activation,
        program: EpilogueProgram = EpilogueProgram(), rows: Range<Int>
    ) throws(KernelError) {
        let name = "conv2d"
        try g.validate(name)
        guard g.strideHeight == 1, g.strideWidth == 1, g.dilationHeight == 1, g.dilationWidth == 1,
              g.kernelWidth <= Int(VC_CONV2D_MAX_KW) else {
            throw KernelError(kernel: name, message: "needs stride 1, dilation 1 and kernel width <= \(VC_CONV2D_MAX_KW), got \(g)")
        }
        try KernelError.checkInt32(name, "inChannels", inChannels, minimum: 1)
        guard try KernelError.product(name, inChannels, g.kernelHeight, g.kernelWidth) == weights.depth else {
            throw KernelError(kernel: name, message: "weights packed with depth \(weights.depth), expected inChannels*kh*kw")
        }
        try KernelError.checkRange(name, "rows", rows, within: g.outputHeight)
        try KernelError.checkCount(name, "x", x.count, needed: KernelError.product(name, inChannels, g.height, g.width))
        try KernelError.checkCount(
            name, "y", y.count, needed: KernelError.product(name, weights.outChannels, g.outputHeight, g.outputWidth))
        if let bias { try KernelError.checkCount(name, "bias", bias.count, needed: weights.outChannels) }
        let (act, lo, hi) = activation.cArguments
        weights.packed.withUnsafeBufferPointer { packed in
            program.withOps { ops, opCount in
                vc_f32_conv2d(
                    packed.baseAddress, x.baseAddress, Int32(inChannels), Int32(g.height), Int32(g.width),
                    Int32(g.kernelHeight), Int32(g.kernelWidth), Int32(g.padTop), Int32(g.padLeft), y.baseAddress,
                    Int32(weights.outChannels), Int32(g.outputHeight), Int32(g.outputWidth), bias?.baseAddress, act, lo, hi,
                    ops, opCount, Int32(rows.lowerBound), Int32(rows.upperBound))
            }
        }
    }
}
