import CKernels
import IR
import Kernels

/// Interpolation named by the `interpolation` attribute (bilinear by default) and `antialias`
/// (1: Pillow's antialiased bilinear; bilinear only); `lanczos` is Pillow's; nil for any other
/// name or combination.
func interpolation(_ a: Attributes) -> Kernels.Interpolation? {
    let antialias = a.int("antialias", default: 0) != 0
    switch a.string("interpolation") ?? "bilinear" {
    case "bilinear", "linear": return antialias ? .antialiasedBilinear : .bilinear
    case "nearest" where !antialias: return .nearest
    case "area" where !antialias: return .area
    case "lanczos" where !antialias: return .lanczos
    default: return nil
    }
}

/// The node's interpolation, or an error naming what it asked for.
func interpolation(_ n: NodeContext) throws -> Kernels.Interpolation {
    guard let method = interpolation(n.attributes) else {
        let antialias = n.attributes.int("antialias", default: 0) != 0
        throw n.unsupported(
            "interpolation '\(n.attributes.string("interpolation") ?? "bilinear")'\(antialias ? " with antialias" : "") (expected bilinear, nearest, area or lanczos; antialias only with bilinear)")
    }
    return method
}

/// Wraps a kernel's refusal of the plan's geometry with the node's name.
func resizePlan(_ n: NodeContext, _ body: () throws(KernelError) -> ResizePlan) throws -> ResizePlan {
    do {
        return try body()
    } catch {
        throw RuntimeError.kernel(value: n.name, error)
    }
}

/// resize of an HWC u8 image with OpenCV's cv2.resize arithmetic (or Pillow's, by the
/// interpolation), to the size shape inference gave the result (`resize`'s rule, or
/// `resize_like`'s second image); the coefficient tables are built once per plan (per source
/// size) and shared by the row tiles.
enum ResizeKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), y = n.outShape(0)
        let channels = x[2]
        let method = try interpolation(n)
        let plan = try resizePlan(n) { () throws(KernelError) in
            try ResizePlan(sourceHeight: x[0], sourceWidth: x[1], resizedHeight: y[0], resizedWidth: y[1], interpolation: method)
        }
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        let xCount = n.inCount(0), yCount = n.outCount(0)
        let rowsPerTask = max(1, OpKernels.minElementsPerTask / max(1, y[1] * channels))
        return { ctx in
            let source = UnsafeBufferPointer(ctx.u8(xSlot, count: xCount)), destination = ctx.u8(ySlot, count: yCount)
            try ctx.pool.parallelRanges(count: y[0], minChunk: rowsPerTask) { rows in
                try plan.resize(source, sourceStride: x[1] * channels, channels: channels, into: destination, destinationStride: y[1] * channels, rows: rows)
            }
        }
    }
}

/// The fused preprocess: resize (optional `size`/`shorter`/`longer`, `interpolation`), crop
/// (`crop_size` centred or `crop_box`), channel selection (`channels`), `v * scale + bias` per
/// output channel, written in `layout`. The crop becomes the resize plan's region of
/// interest, so only kept pixels are interpolated, and the u8 image is read once.
enum PreprocessKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0)
        let a = n.attributes
        let (height, width, sourceChannels) = (x[0], x[1], x[2])
        let geometry: PreprocessGeometry
        do {
            geometry = try PreprocessGeometry(a, height: height, width: width)
        } catch {
            throw RuntimeError.shape(value: n.name, "\(error)")
        }
        let box = geometry.box
        let map = (a.ints("channels") ?? []).map { Int32(clamping: $0) }
        let outChannels = map.count
        let scale = try perChannel(n, "scale", count: outChannels, default: 1)
        let bias = try perChannel(n, "bias", count: outChannels, default: 0)
        let planar = [Layout.nchw, .chw].contains(n.outputTypes[0].layout)
        let method = try interpolation(n)
        let plan = try resizePlan(n) { () throws(KernelError) in try geometry.plan(interpolation: method) }
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        let xCount = n.inCount(0), yCount = n.outCount(0)
        let rowsPerTask = max(1, OpKernels.minElementsPerTask / max(1, box.width * outChannels))
        return { ctx in
            let source = UnsafeBufferPointer(ctx.u8(xSlot, count: xCount)), destination = ctx.f32(ySlot, count: yCount)
            try ctx.pool.parallelRanges(count: box.height, minChunk: rowsPerTask) { rows in
                try plan.preprocess(
                    source, sourceStride: width * sourceChannels, sourceChannels: sourceChannels, channelMap: map,
                    scale: scale, bias: bias, planar: planar, into: destination, rows: rows)
            }
        }
    }

    /// A float attribute given once or per output channel, expanded to one value per channel.
    static func perChannel(_ n: NodeContext, _ key: String, count: Int, default value: Float) throws -> [Float] {
        let values = n.attributes.floats(key) ?? [value]
        if values.count == count { return values }
        guard values.count == 1 else { throw n.unsupported("'\(key)' has \(values.count) values for \(count) channels") }
        return Array(repeating: values[0], count: count)
    }
}

/// Where a preprocess (its resize rule and crop) reads a (height × width) source: the resized
/// size and the kept box of it. One place for the preprocess kernel and for a decode that
/// writes only the pixels the preprocess reads (`decode-region`).
struct PreprocessGeometry {
    let height, width: Int
    let resized: (h: Int, w: Int)
    let box: PixelRect

    /// - Throws: `ImageGeometry`'s errors for a rule or crop this source size cannot take.
    init(_ a: Attributes, height: Int, width: Int) throws {
        self.height = height
        self.width = width
        resized = ImageGeometry.resizes(a) ? try ImageGeometry.resizedSize(height: height, width: width, attributes: a) : (height, width)
        let crop = Attributes(["size": a["crop_size"], "box": a["crop_box"]].compactMapValues { $0 })
        let kept = crop.isEmpty ? (0, 0, resized.h, resized.w) : try ImageGeometry.cropBox(height: resized.h, width: resized.w, attributes: crop)
        box = PixelRect(y: kept.0, x: kept.1, height: kept.2, width: kept.3)
    }

    func plan(interpolation: Kernels.Interpolation) throws(KernelError) -> ResizePlan {
        try ResizePlan(
            sourceHeight: height, sourceWidth: width, resizedHeight: resized.h, resizedWidth: resized.w, roi: box,
            interpolation: interpolation)
    }
}

/// crop of an HWC image: one contiguous copy per kept row.
enum CropKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0)
        let box: (y: Int, x: Int, h: Int, w: Int)
        do {
            box = try ImageGeometry.cropBox(height: x[0], width: x[1], attributes: n.attributes)
        } catch {
            throw RuntimeError.shape(value: n.name, "\(error)")
        }
        let pixelBytes = x[2] * n.inputTypes[0].dtype.byteSize
        let sourceRow = x[1] * pixelBytes, rowBytes = box.w * pixelBytes
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        return { ctx in
            let source = ctx.raw(xSlot) + box.y * sourceRow + box.x * pixelBytes, destination = ctx.raw(ySlot)
            for row in 0..<box.h { (destination + row * rowBytes).copyMemory(from: source + row * sourceRow, byteCount: rowBytes) }
        }
    }
}

/// convert_color between rgb, bgr and gray on HWC u8 or f32: a channel selection, or for
/// gray from color the ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B (rounded to nearest on u8).
enum ConvertColorKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let from = n.attributes.string("from") ?? "rgb", to = n.attributes.string("to") ?? "rgb"
        let pixels = n.inShape(0)[0] * n.inShape(0)[1]
        let inChannels = n.inShape(0)[2], outChannels = n.outShape(0)[2]
        let isU8 = n.inputTypes[0].dtype == .u8
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        let perTask = max(1, OpKernels.minElementsPerTask / max(1, inChannels))
        if let map = ImageGeometry.channelMap(from: from, to: to) {
            return { ctx in
                ctx.pool.parallelRanges(count: pixels, minChunk: perTask) { range in
                    if isU8 {
                        select(ctx.u8(xSlot), ctx.u8(ySlot), map: map, inChannels: inChannels, range)
                    } else {
                        select(ctx.f32(xSlot), ctx.f32(ySlot), map: map, inChannels: inChannels, range)
                    }
                }
            }
        }
        guard to == "gray", from == "rgb" || from == "bgr", outChannels == 1 else {
            throw n.unsupported("conversion \(from) → \(to)")
        }
        let (r, b) = from == "rgb" ? (0, 2) : (2, 0)
        return { ctx in
            ctx.pool.parallelRanges(count: pixels, minChunk: perTask) { range in
                if isU8 {
                    let x = ctx.u8(xSlot), y = ctx.u8(ySlot)
                    for p in range {
                        let luma = 0.299 * Float(x[p * 3 + r]) + 0.587 * Float(x[p * 3 + 1]) + 0.114 * Float(x[p * 3 + b])
                        y[p] = UInt8(min(255, luma.rounded()))
                    }
                } else {
                    let x = ctx.f32(xSlot), y = ctx.f32(ySlot)
                    for p in range { y[p] = 0.299 * x[p * 3 + r] + 0.587 * x[p * 3 + 1] + 0.114 * x[p * 3 + b] }
                }
            }
        }
    }

    private static func select<T>(
        _ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, map: [Int], inChannels: Int, _ range: Range<Int>
    ) {
        let outChannels = map.count
        for p in range {
            for (c, source) in map.enumerated() { y[p * outChannels + c] = x[p * inChannels + source] }
        }
    }
}

/// cast between dtypes (`ElementConversion`'s rules, ONNX Cast). u8 → f32 runs the SIMD kernel.
enum CastKernel {
    static func make(_ n: NodeContext) -> StepBody {
        let from = n.inputTypes[0].dtype, to = n.outputTypes[0].dtype
        let count = n.outCount(0)
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        if from == to {
            return { ctx in ctx.raw(ySlot).copyMemory(from: ctx.raw(xSlot), byteCount: count * from.byteSize) }
        }
        if from == .u8, to == .f32 {
            return { ctx in
                let x = ctx.u8(xSlot), y = ctx.f32(ySlot)
                ctx.pool.parallelRanges(count: count, minChunk: OpKernels.minElementsPerTask) { range in
                    vc_u8_to_f32(x, y, range.lowerBound, range.upperBound)
                }
            }
        }
        return { ctx in
            let x = UnsafeRawPointer(ctx.raw(xSlot)), y = ctx.raw(ySlot)
            ctx.pool.parallelRanges(count: count, minChunk: OpKernels.minElementsPerTask) { range in
                ElementConversion.convert(from, x, to: to, y, range: range)
            }
        }
    }
}

/// normalize: `y = (x * scale - mean[c]) / std[c]` on the layout's channel axis, run as the
/// affine `x * (scale / std) + (-mean / std)` (the fused preprocess uses the same form).
enum NormalizeKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0)
        guard let axis = n.inputTypes[0].layout.channelAxis else { throw n.unsupported("needs a layout with a channel axis") }
        let channels = x[axis]
        let scale = n.attributes.float("scale", default: 1)
        let mean = try PreprocessKernel.perChannel(n, "mean", count: channels, default: 0)
        let std = try PreprocessKernel.perChannel(n, "std", count: channels, default: 1)
        guard std.allSatisfy({ $0 != 0 }) else { throw n.unsupported("std has a zero entry") }
        guard channels <= Int(VC_MAX_CHANNELS) else { throw n.unsupported("\(channels) channels (at most \(VC_MAX_CHANNELS))") }
        let multiplier = std.map { scale / $0 }
        let offset = zip(mean, std).map { -$0 / $1 }
        let outer = x[..<axis].reduce(1, *), inner = x[(axis + 1)...].reduce(1, *)
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        if inner == 1 {
            return { ctx in
                let input = ctx.f32(xSlot), output = ctx.f32(ySlot)
                ctx.pool.parallelRanges(count: outer, minChunk: max(1, OpKernels.minElementsPerTask / channels)) { pixels in
                    vc_f32_channel_affine_hwc(input, output, pixels.lowerBound, pixels.upperBound, Int32(channels), multiplier, offset)
                }
            }
        }
        let coefficients = AlignedBuffer(copying: .f32(multiplier + offset))
        return { ctx in
            let input = ctx.f32(xSlot), output = ctx.f32(ySlot)
            let m = coefficients.pointer.assumingMemoryBound(to: Float.self), o = m + channels
            ctx.pool.parallelRanges(count: outer * channels, minChunk: max(1, OpKernels.minElementsPerTask / inner)) { planes in
                for p in planes {
                    let c = p % channels
                    vc_f32_channel_affine_hwc(input + p * inner, output + p * inner, 0, inner, 1, m + c, o + c)
                }
            }
        }
    }
}
