import CKernels

extension F32Kernels {
    /// Direct depthwise convolution of one image `x` = [channels, h, w] into `y` = [channels, oh, ow],
    /// one `kh*kw` filter per channel (`weights` = [channels, kh, kw]), for the channels in `channels`;
    /// bias, activation, then the fused elementwise `program` run on each output before it is stored.
    public static func depthwiseConv(
        _ x: UnsafeBufferPointer<Float>, weights: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
        geometry g: WindowGeometry, _ y: UnsafeMutableBufferPointer<Float>, channels: Range<Int>, activation: Activation,
        program: EpilogueProgram = EpilogueProgram()
    ) throws(KernelError) {
        let name = "dwconv"
        try g.validate(name)
        try KernelError.checkInt32(name, "channels.upperBound", channels.upperBound)
        try KernelError.checkRange(name, "channels", channels, within: Int(Int32.max))
        try KernelError.checkCount(name, "x", x.count, needed: KernelError.product(name, channels.upperBound, g.height, g.width))
        try KernelError.checkCount(
            name, "weights", weights.count, needed: KernelError.product(name, channels.upperBound, g.kernelHeight, g.kernelWidth))
        try KernelError.checkCount(
            name, "y", y.count, needed: KernelError.product(name, channels.upperBound, g.outputHeight, g.outputWidth))
        if let bias { try KernelError.checkCount(name, "bias", bias.count, needed: channels.upperBound) }
        let (act, lo, hi) = activation.cArguments
        program.withOps { ops, opCount in
            vc_f32_dwconv(
                x.baseAddress, Int32(g.height), Int32(g.width), weights.baseAddress, bias?.baseAddress, y.baseAddress,
                Int32(g.outputHeight), Int32(g.outputWidth), Int32(g.kernelHeight), Int32(g.kernelWidth),
                Int32(g.strideHeight), Int32(g.strideWidth), Int32(g.padTop), Int32(g.padLeft),
                Int32(g.dilationHeight), Int32(g.dilationWidth), act, lo, hi, ops, opCount,
                Int32(channels.lowerBound), Int32(channels.upperBound))
        }
    }
}
