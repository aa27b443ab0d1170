import IR
import Kernels

/// letterbox: the u8 HWC image resized with its aspect ratio kept to fit `size=[H,W]`
/// (`ImageGeometry.letterbox`), written into the frame at (top, left) with the resize's
/// destination stride, the rest filled with `pad_value`. Second result, for mapping boxes
/// back to the source: f32 [scale_y, scale_x, offset_y, offset_x], where
/// source = (frame - offset) / scale.
enum LetterboxKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), y = n.outShape(0)
        let channels = x[2]
        let box: (frame: (h: Int, w: Int), resized: (h: Int, w: Int), top: Int, left: Int)
        do {
            box = try ImageGeometry.letterbox(height: x[0], width: x[1], attributes: n.attributes)
        } catch {
            throw RuntimeError.shape(value: n.name, "\(error)")
        }
        let method = try interpolation(n)
        let plan = try resizePlan(n) { () throws(KernelError) in
            try ResizePlan(
                sourceHeight: x[0], sourceWidth: x[1], resizedHeight: box.resized.h, resizedWidth: box.resized.w,
                interpolation: method)
        }
        let fill = UInt8(clamping: Int(n.attributes.float("pad_value", default: 0).rounded()))
        let params: [Float] = [
            Float(box.resized.h) / Float(x[0]), Float(box.resized.w) / Float(x[1]), Float(box.top), Float(box.left),
        ]
        let rowBytes = y[1] * channels, offset = box.top * rowBytes + box.left * channels
        let (xSlot, ySlot, pSlot) = (n.inputs[0], n.outputs[0], n.outputs[1])
        let xCount = n.inCount(0), yCount = n.outCount(0)
        let rowsPerTask = max(1, OpKernels.minElementsPerTask / max(1, box.resized.w * channels))
        return { ctx in
            let destination = ctx.u8(ySlot, count: yCount)
            // Only the border: rows above and below the image, then the strips beside it.
            let imageRows = box.top..<(box.top + box.resized.h)
            for row in 0..<y[0] {
                let start = row * rowBytes
                if imageRows.contains(row) {
                    destination[start..<(start + box.left * channels)].update(repeating: fill)
                    destination[(start + (box.left + box.resized.w) * channels)..<(start + rowBytes)].update(repeating: fill)
                } else {
                    destination[start..<(start + rowBytes)].update(repeating: fill)
                }
            }
            let source = UnsafeBufferPointer(ctx.u8(xSlot, count: xCount))
            let inner = UnsafeMutableBufferPointer(rebasing: destination[offset...])
            try ctx.pool.parallelRanges(count: box.resized.h, minChunk: rowsPerTask) { rows in
                try plan.resize(
                    source, sourceStride: x[1] * channels, channels: channels, into: inner, destinationStride: rowBytes,
                    rows: rows)
            }
            let out = ctx.f32(pSlot, count: 4)
            for i in 0..<4 { out[i] = params[i] }
        }
    }
}

/// pad_spatial: the image (u8 or f32; HWC, CHW, NHWC or NCHW) copied into a larger frame
/// grown by [top, left, bottom, right] (`ImageGeometry.spatialPads`), the border holding
/// `value` per channel (one value for all, or one per channel; u8 values rounded, clamped).
enum PadSpatialKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let type = n.inputTypes[0]
        let x = n.inShape(0), y = n.outShape(0)
        guard let (hAxis, wAxis) = ShapeInference.spatialAxes(type.layout), let cAxis = type.layout.channelAxis else {
            throw n.unsupported("layout \(type.layout.rawValue) has no spatial axes")
        }
        let pads: [Int]
        do {
            pads = try ImageGeometry.spatialPads(height: x[hAxis], width: x[wAxis], attributes: n.attributes)
        } catch {
            throw RuntimeError.shape(value: n.name, "\(error)")
        }
        let channels = x[cAxis]
        let values = try PreprocessKernel.perChannel(n, "value", count: channels, default: 0)
        // [outer, H, W, inner]: channels-last layouts keep the channel in `inner`, channels-first in `outer`.
        let channelsLast = cAxis > wAxis
        let inner = channelsLast ? channels : 1
        let outer = x[..<hAxis].reduce(1, *)
        let elementSize = type.dtype.byteSize
        // One output row of border, per outer index's channel: the fill pattern.
        let patternCount = channelsLast ? 1 : channels
        var patterns: [[UInt8]] = []
        for p in 0..<patternCount {
            let pixel = channelsLast ? values : [values[p]]
            let bytes: [UInt8] = switch type.dtype {
            case .u8: pixel.map { UInt8(clamping: Int($0.rounded())) }
            default: pixel.flatMap { v in withUnsafeBytes(of: v) { Array($0) } }
            }
            patterns.append(Array((0..<y[wAxis]).map { _ in bytes }.joined()))
        }
        let pixelBytes = inner * elementSize
        let inRow = x[wAxis] * pixelBytes, outRow = y[wAxis] * pixelBytes
        let inPlane = x[hAxis] * inRow, outPlane = y[hAxis] * outRow
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        return { ctx in
            let source = ctx.raw(xSlot), destination = ctx.raw(ySlot)
            ctx.pool.parallelRanges(count: outer, minChunk: 1) { planes in
                for o in planes {
                    let pattern = patterns[channelsLast ? 0 : o % channels]
                    pattern.withUnsafeBytes { fill in
                        for row in 0..<y[hAxis] {
                            let out = destination + o * outPlane + row * outRow
                            let sourceRow = row - pads[0]
                            if sourceRow < 0 || sourceRow >= x[hAxis] {
                                out.copyMemory(from: fill.baseAddress!, byteCount: outRow)
                                continue
                            }
                            let left = pads[1] * pixelBytes
                            out.copyMemory(from: fill.baseAddress!, byteCount: left)
                            (out + left).copyMemory(from: source + o * inPlane + sourceRow * inRow, byteCount: inRow)
                            (out + left + inRow).copyMemory(from: fill.baseAddress!, byteCount: outRow - left - inRow)
                        }
                    }
                }
            }
        }
    }
}
