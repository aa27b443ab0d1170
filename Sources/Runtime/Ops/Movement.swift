import CKernels
import IR

/// transpose with any permutation. Output axes that are also adjacent, in order, in the input
/// are merged first, so NCHW↔NHWC becomes a 2-D or 3-D problem. Channels-last to
/// channels-first on f32 and u8 takes the SIMD kernel; other cases run a strided copy whose
/// inner loop writes the output contiguously.
enum TransposeKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0)
        let perm = n.attributes.ints("perm") ?? Array((0..<x.count).reversed())
        let elementSize = n.inputTypes[0].dtype.byteSize
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])

        var inStrides = Array(repeating: 1, count: x.count)
        for axis in stride(from: x.count - 2, through: 0, by: -1) { inStrides[axis] = inStrides[axis + 1] * x[axis + 1] }
        var dims: [Int] = [], strides: [Int] = []
        var previous: Int?
        for axis in perm where x[axis] != 1 {
            if let previous, previous + 1 == axis {
                dims[dims.count - 1] *= x[axis]
                strides[strides.count - 1] = inStrides[axis]
            } else {
                dims.append(x[axis])
                strides.append(inStrides[axis])
            }
            previous = axis
        }
        let count = x.product
        if dims.count <= 1 {
            return { ctx in ctx.raw(ySlot).copyMemory(from: ctx.raw(xSlot), byteCount: count * elementSize) }
        }
        // What is left is a (batched) 2-D transpose, input [B, d1, d0] → output [B, d0, d1]:
        // HWC → CHW with d0 channels, or CHW → HWC with d1 channels. The kernels are made for
        // few channels (an image's), so the smaller side is the channels.
        let last = dims.count - 1
        let (d0, d1) = (dims[last - 1], dims[last])
        let isTwoD = strides[last - 1] == 1 && strides[last] == d0 && (dims.count == 2 || (dims.count == 3 && strides[0] == d0 * d1))
        let batch = dims.count == 3 ? dims[0] : 1
        if isTwoD && elementSize == 4 && d1 < d0 {
            return perImage(batch: batch, channels: d1, pixels: d0, elementSize: 4, xSlot: xSlot, ySlot: ySlot) {
                vc_f32_chw_to_hwc($0.assumingMemoryBound(to: Float.self), $1.assumingMemoryBound(to: Float.self), $2, $3, $4, $5, $6)
            }
        }
        if isTwoD && elementSize == 4 {
            return perImage(batch: batch, channels: d0, pixels: d1, elementSize: 4, xSlot: xSlot, ySlot: ySlot) {
                vc_f32_hwc_to_chw($0.assumingMemoryBound(to: Float.self), $1.assumingMemoryBound(to: Float.self), $2, $3, $4, $5, $6)
            }
        }
        if isTwoD && elementSize == 1 {
            return perImage(batch: batch, channels: d0, pixels: d1, elementSize: 1, xSlot: xSlot, ySlot: ySlot) {
                vc_u8_hwc_to_chw($0.assumingMemoryBound(to: UInt8.self), $1.assumingMemoryBound(to: UInt8.self), $2, $3, $4, $5, $6)
            }
        }
        switch elementSize {
        case 1: return strided(dims: dims, strides: strides, xSlot: xSlot, ySlot: ySlot, as: UInt8.self)
        case 4: return strided(dims: dims, strides: strides, xSlot: xSlot, ySlot: ySlot, as: UInt32.self)
        default: return strided(dims: dims, strides: strides, xSlot: xSlot, ySlot: ySlot, as: UInt64.self)
        }
    }

    /// One of the C HWC ↔ CHW kernels on each image: (x, y, height, width, channels, first row, end row).
    private typealias ImageKernel = (UnsafeMutableRawPointer, UnsafeMutableRawPointer, Int32, Int32, Int32, Int32, Int32) -> Void

    /// `kernel` on each of `batch` images of `channels × pixels` elements, split over rows.
    private static func perImage(
        batch: Int, channels: Int, pixels: Int, elementSize: Int, xSlot: Int, ySlot: Int, kernel: @escaping ImageKernel
    ) -> StepBody {
        // The kernels walk image rows; any factorisation pixels = height * width works, and
        // rows of up to 1024 pixels keep each strided copy long.
        let width = stride(from: min(pixels, 1024), through: 1, by: -1).first { pixels % $0 == 0 } ?? 1
        let height = pixels / width
        let imageBytes = channels * pixels * elementSize
        let rowsPerTask = max(1, OpKernels.minElementsPerTask / max(1, width * channels))
        return { ctx in
            let x = ctx.raw(xSlot), y = ctx.raw(ySlot)
            for b in 0..<batch {
                ctx.pool.parallelRanges(count: height, minChunk: rowsPerTask) { rows in
                    kernel(x + b * imageBytes, y + b * imageBytes, Int32(height), Int32(width), Int32(channels),
                           Int32(rows.lowerBound), Int32(rows.upperBound))
                }
            }
        }
    }

    private static func strided<T>(dims: [Int], strides: [Int], xSlot: Int, ySlot: Int, as: T.Type) -> StepBody {
        let inner = dims[dims.count - 1], innerStride = strides[strides.count - 1]
        let rows = dims.dropLast().reduce(1, *)
        return { ctx in
            let x = ctx.raw(xSlot).assumingMemoryBound(to: T.self), y = ctx.raw(ySlot).assumingMemoryBound(to: T.self)
            ctx.pool.parallelRanges(count: rows, minChunk: max(1, OpKernels.minElementsPerTask / max(1, inner))) { range in
                for row in range {
                    var rest = row, offset = 0
                    for axis in stride(from: dims.count - 2, through: 0, by: -1) {
                        offset += (rest % dims[axis]) * strides[axis]
                        rest /= dims[axis]
                    }
                    let source = x + offset, destination = y + row * inner
                    for i in 0..<inner { destination[i] = source[i * innerStride] }
                }
            }
        }
    }
}

/// concat along one axis: for each index of the axes before it, each operand contributes one
/// contiguous block.
enum ConcatKernel {
    static func make(_ n: NodeContext) -> StepBody {
        let out = n.outShape(0)
        var axis = n.attributes.int("axis", default: 0)
        if axis < 0 { axis += out.count }
        let outer = out[..<axis].reduce(1, *)
        let elementSize = n.outputTypes[0].dtype.byteSize
        let inner = out[(axis + 1)...].reduce(1, *) * elementSize
        let blocks = n.inputs.indices.map { n.inShape($0)[axis] * inner }
        let rowBytes = blocks.reduce(0, +)
        let slots = n.inputs, ySlot = n.outputs[0]
        return { ctx in
            let y = ctx.raw(ySlot)
            ctx.pool.parallelRanges(count: outer, minChunk: max(1, OpKernels.minElementsPerTask * 4 / max(1, rowBytes))) { range in
                for o in range {
                    var offset = o * rowBytes
                    for (slot, block) in zip(slots, blocks) {
                        (y + offset).copyMemory(from: ctx.raw(slot) + o * block, byteCount: block)
                        offset += block
                    }
                }
            }
        }
    }
}
