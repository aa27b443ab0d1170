import IR
import Kernels

/// `tile_boxes`: `rows × cols` windows of `size` over an HWC image, row-major, as x1, y1,
/// x2, y2 (x2, y2 exclusive). On an axis with n > 1 windows the j-th starts at
/// round(j·(E − S)/(n − 1)), so the first and last touch the image's edges; with one it is
/// centred (floor). Sizes are known when the plan is built, so the boxes are computed once.
enum TileBoxesKernel {
    static func boxes(height: Int, width: Int, size: [Int], rows: Int, cols: Int) -> [Float] {
        func starts(_ extent: Int, _ window: Int, _ count: Int) -> [Int] {
            guard count > 1 else { return [(extent - window) / 2] }
            let span = extent - window
            return (0..<count).map { (2 * $0 * span + count - 1) / (2 * (count - 1)) }
        }
        let ys = starts(height, size[0], rows), xs = starts(width, size[1], cols)
        return ys.flatMap { y in xs.flatMap { x in [Float(x), Float(y), Float(x + size[1]), Float(y + size[0])] } }
    }

    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0)
        guard let size = n.attributes.ints("size"), let rows = n.attributes.int("rows"), let cols = n.attributes.int("cols"),
              x[0] >= size[0], x[1] >= size[1] else {
            throw RuntimeError.shape(value: n.name, "tile_boxes needs windows no larger than the \(x[0])×\(x[1]) image")
        }
        let values = boxes(height: x[0], width: x[1], size: size, rows: rows, cols: cols)
        let ySlot = n.outputs[0]
        return { ctx in values.withUnsafeBufferPointer { ctx.f32(ySlot).update(from: $0.baseAddress!, count: $0.count) } }
    }
}

/// `crop_box`: copies the `size` window whose top-left corner is the run-time box's (x1, y1),
/// rounded to the nearest pixel. A window that leaves the image is an error naming the box,
/// never a read outside the buffer.
enum CropBoxKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), y = n.outShape(0)
        let pixelBytes = x[2] * n.inputTypes[0].dtype.byteSize
        let sourceRow = x[1] * pixelBytes, rowBytes = y[1] * pixelBytes
        let (imageSlot, boxSlot, outSlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        let name = n.name
        return { ctx in
            let box = ctx.f32(boxSlot)
            let (left, top) = (box[0].rounded(), box[1].rounded())
            guard left.isFinite, top.isFinite, left >= 0, top >= 0, Int(left) + y[1] <= x[1], Int(top) + y[0] <= x[0] else {
                throw KernelError(
                    kernel: "crop_box", message: "%\(name): a \(y[0])×\(y[1]) window at x=\(box[0]), y=\(box[1]) leaves the \(x[0])×\(x[1]) image")
            }
            let source = ctx.raw(imageSlot) + Int(top) * sourceRow + Int(left) * pixelBytes, destination = ctx.raw(outSlot)
            for row in 0..<y[0] { (destination + row * rowBytes).copyMemory(from: source + row * sourceRow, byteCount: rowBytes) }
        }
    }
}

/// `crop_resize`: the region of the image under the run-time box (x1, y1, x2, y2, clipped to
/// the image and widened to whole pixels: columns ⌊x1⌋…⌈x2⌉) resized to the output size with the
/// node's interpolation. The resize plan depends on the box, so it is built per run. An empty
/// or non-finite box is an error naming it.
enum CropResizeKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), y = n.outShape(0)
        let (h, w, c) = (x[0], x[1], x[2])
        let method = try interpolation(n)
        let (imageSlot, boxSlot, outSlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        let name = n.name
        return { ctx in
            let box = ctx.f32(boxSlot)
            let corners = (0..<4).map { Double(box[$0]) }
            guard corners.allSatisfy(\.isFinite) else {
                throw KernelError(kernel: "crop_resize", message: "%\(name): box \(corners) is not finite")
            }
            let left = max(0, min(w, Int(corners[0].rounded(.down)))), right = max(0, min(w, Int(corners[2].rounded(.up))))
            let top = max(0, min(h, Int(corners[1].rounded(.down)))), bottom = max(0, min(h, Int(corners[3].rounded(.up))))
            guard right > left, bottom > top else {
                throw KernelError(kernel: "crop_resize", message: "%\(name): box \(corners) covers no pixel of the \(h)×\(w) image")
            }
            let plan = try ResizePlan(sourceHeight: bottom - top, sourceWidth: right - left, resizedHeight: y[0], resizedWidth: y[1], interpolation: method)
            let source = UnsafeBufferPointer(start: ctx.u8(imageSlot) + (top * w + left) * c, count: ((bottom - top - 1) * w + (right - left)) * c)
            try plan.resize(source, sourceStride: w * c, channels: c, into: ctx.u8(outSlot, count: y[0] * y[1] * c), destinationStride: y[1] * c, rows: 0..<y[0])
        }
    }
}
