import IR
import Kernels

/// conv with one filter per channel (group = input channels = output channels), the layer
/// MobileNetV3 and EfficientNet are made of. The GEMM lowering would run one tiny 1-row GEMM
/// per channel; the direct kernel reads each input plane once per output row instead and
/// fuses bias, activation and the `epilogue` steps after it. Split over
/// (image, channel) planes.
enum DepthwiseConvKernel {
    /// Whether the node is a depthwise conv with multiplier 1.
    static func applies(_ n: NodeContext) -> Bool {
        let x = n.inShape(0), w = n.inShape(1)
        let group = n.attributes.int("group", default: 1)
        return x.count == 4 && w.count == 4 && group > 1 && group == x[1] && w[0] == x[1] && w[1] == 1
    }

    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), w = n.inShape(1), y = n.outShape(0)
        let a = n.attributes
        let strides = a.ints("strides") ?? [1, 1], dilations = a.ints("dilations") ?? [1, 1], pads = a.ints("pads") ?? [0, 0, 0, 0]
        let geometry = WindowGeometry(
            height: x[2], width: x[3], kernelHeight: w[2], kernelWidth: w[3],
            strideHeight: strides[0], strideWidth: strides[1], padTop: pads[0], padLeft: pads[1],
            dilationHeight: dilations[0], dilationWidth: dilations[1], outputHeight: y[2], outputWidth: y[3])
        let (batch, channels) = (x[0], x[1])
        let inImage = channels * x[2] * x[3], outImage = channels * y[2] * y[3]
        let activation = Activation(attributes: a)
        let (xSlot, wSlot, ySlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        let bSlot = n.inputs.count == 3 ? n.inputs[2] : nil
        let weightCount = n.inCount(1)
        let perTask = max(1, OpKernels.minElementsPerTask / max(1, y[2] * y[3] * w[2] * w[3]))
        let program = n.epilogue
        return { ctx in
            let weights = UnsafeBufferPointer(ctx.f32(wSlot, count: weightCount))
            let bias = bSlot.map { UnsafeBufferPointer(ctx.f32($0, count: channels)) }
            for image in 0..<batch {
                let input = UnsafeBufferPointer(start: ctx.f32(xSlot) + image * inImage, count: inImage)
                let output = UnsafeMutableBufferPointer(start: ctx.f32(ySlot) + image * outImage, count: outImage)
                try ctx.pool.parallelRanges(count: channels, minChunk: perTask) { range in
                    try F32Kernels.depthwiseConv(
                        input, weights: weights, bias: bias, geometry: geometry, output, channels: range, activation: activation,
                        program: program)
                }
            }
        }
    }
}
