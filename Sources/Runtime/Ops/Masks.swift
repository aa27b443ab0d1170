import IR

/// The items of a `divide_by_max` or `min_max_normalize` operand (`ShapeInference.itemCount`)
/// and the elements in each.
private func items(_ n: NodeContext) -> (count: Int, size: Int) {
    let count = ShapeInference.itemCount(n.inputTypes[0]).value ?? 1
    return (count, n.inCount(0) / max(1, count))
}

/// `divide_by_max`: each item divided by its own maximum in f32 (rembg's `im / np.max(im)`,
/// correctly rounded per element); an item whose maximum is 0 (numpy would give NaN) or not
/// finite is copied unchanged.
enum DivideByMaxKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let (count, size) = items(n)
        let isU8 = n.inputTypes[0].dtype == .u8
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        return { ctx in
            let y = ctx.f32(ySlot)
            for item in 0..<count {
                let range = (item * size)..<((item + 1) * size)
                if isU8 {
                    let x = ctx.u8(xSlot)
                    let largest = range.reduce(UInt8(0)) { max($0, x[$1]) }
                    let divisor = largest == 0 ? 1 : Float(largest)
                    for i in range { y[i] = Float(x[i]) / divisor }
                } else {
                    let x = ctx.f32(xSlot)
                    let largest = range.reduce(-Float.infinity) { max($0, x[$1]) }
                    let divisor = largest == 0 || !largest.isFinite ? 1 : largest
                    for i in range { y[i] = x[i] / divisor }
                }
            }
        }
    }
}

/// `min_max_normalize`: (x − min) / (max − min) per item in f32, the operations in numpy's
/// order (rembg's `(pred - mi) / (ma - mi)`, so the same bits); an item with no spread
/// (max = min) becomes 0, where numpy would give NaN.
enum MinMaxNormalizeKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let (count, size) = items(n)
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        return { ctx in
            let x = ctx.f32(xSlot), y = ctx.f32(ySlot)
            for item in 0..<count {
                let range = (item * size)..<((item + 1) * size)
                var (lowest, highest) = (Float.infinity, -Float.infinity)
                for i in range {
                    lowest = min(lowest, x[i])
                    highest = max(highest, x[i])
                }
                let spread = highest - lowest
                guard spread > 0, spread.isFinite else {
                    for i in range { y[i] = 0 }
                    continue
                }
                for i in range { y[i] = (x[i] - lowest) / spread }
            }
        }
    }
}

/// `cutout`: RGBA from an RGB image and a mask of its size, as rembg's `naive_cutout` (Pillow's
/// `Image.composite(photo, transparent black, mask)`): alpha = m, each colour c·m/255 rounded
/// with Pillow's DIV255, bit for bit.
enum CutoutKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        // Shape inference has checked the mask is the image's size, for this plan's sizes.
        let pixels = n.inShape(0)[0] * n.inShape(0)[1]
        let (xSlot, maskSlot, ySlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        return { ctx in
            let x = ctx.u8(xSlot), alpha = ctx.u8(maskSlot), y = ctx.u8(ySlot)
            ctx.pool.parallelRanges(count: pixels, minChunk: OpKernels.minElementsPerTask) { range in
                for p in range {
                    let m = Int(alpha[p])
                    for c in 0..<3 {
                        let v = Int(x[p * 3 + c]) * m + 128
                        y[p * 4 + c] = UInt8(((v >> 8) + v) >> 8)
                    }
                    y[p * 4 + 3] = alpha[p]
                }
            }
        }
    }
}
