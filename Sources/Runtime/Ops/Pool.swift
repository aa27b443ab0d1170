import IR
import Kernels

/// max_pool (with its `indices` result when asked), average_pool (NCHW, 2-D windows; ONNX
/// pads [top, left, bottom, right]; the output size from shape inference encodes ceil_mode)
/// and global_average_pool, split over the N*C planes.
enum PoolKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), y = n.outShape(0)
        let planes = x[0] * x[1]
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        let xCount = n.inCount(0), yCount = n.outCount(0)
        if n.op == .globalAveragePool {
            let plane = x.dropFirst(2).reduce(1, *)
            return { ctx in
                let input = UnsafeBufferPointer(ctx.f32(xSlot, count: xCount)), output = ctx.f32(ySlot, count: yCount)
                try ctx.pool.parallelRanges(count: planes, minChunk: max(1, OpKernels.minElementsPerTask / max(plane, 1))) { range in
                    try F32Kernels.globalAvgPool(input, plane: plane, output, planes: range)
                }
            }
        }
        let a = n.attributes
        let kernel = a.ints("kernel_shape") ?? []
        let strides = a.ints("strides") ?? [1, 1], pads = a.ints("pads") ?? [0, 0, 0, 0], dilations = a.ints("dilations") ?? [1, 1]
        let geometry = WindowGeometry(
            height: x[2], width: x[3], kernelHeight: kernel[0], kernelWidth: kernel[1],
            strideHeight: strides[0], strideWidth: strides[1], padTop: pads[0], padLeft: pads[1],
            dilationHeight: dilations[0], dilationWidth: dilations[1], outputHeight: y[2], outputWidth: y[3])
        let isMax = n.op == .maxPool
        let countIncludePad = a.int("count_include_pad", default: 0) != 0
        let perTask = max(1, OpKernels.minElementsPerTask / max(1, x[2] * x[3]))
        if n.outputs.count == 2 {
            let indicesSlot = n.outputs[1], columnMajor = a.int("storage_order", default: 0) != 0
            return { ctx in
                let input = UnsafeBufferPointer(ctx.f32(xSlot, count: xCount)), output = ctx.f32(ySlot, count: yCount)
                let indices = UnsafeMutableBufferPointer(start: ctx.raw(indicesSlot).assumingMemoryBound(to: Int64.self), count: yCount)
                try ctx.pool.parallelRanges(count: planes, minChunk: perTask) { range in
                    try F32Kernels.maxPool2dIndices(input, geometry: geometry, output, indices: indices, columnMajor: columnMajor, planes: range)
                }
            }
        }
        return { ctx in
            let input = UnsafeBufferPointer(ctx.f32(xSlot, count: xCount)), output = ctx.f32(ySlot, count: yCount)
            try ctx.pool.parallelRanges(count: planes, minChunk: perTask) { range in
                if isMax {
                    try F32Kernels.maxPool2d(input, geometry: geometry, output, planes: range)
                } else {
                    try F32Kernels.avgPool2d(
                        input, geometry: geometry, padBottom: pads[2], padRight: pads[3], countIncludePad: countIncludePad,
                        output, planes: range)
                }
            }
        }
    }
}
