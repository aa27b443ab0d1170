import IR
import Kernels

// The text-reading ops: `db_boxes`, `perspective_crop` and `text_lines` size their results by
// the data, so they run between plans on whole tensors (`DataDependentOps`); `rotate_180_if`,
// `ctc_decode` and `map_boxes` keep their operands' sizes and run as plan steps.

/// `db_boxes`: the DB postprocess (`DBPostprocess.boxes`) of a probability map `[1,1,H,W]`
/// computed for the image operand, boxes in that image's pixels, in reading order: `[n, 8]` as
/// x, y of the 4 corners clockwise from the top-left.
enum DBBoxesOp {
    static func run(_ node: Node, _ operands: [Tensor], name: String) throws -> [Tensor] {
        let map = operands[0], image = operands[1]
        guard map.shape.count == 4, map.shape[0] == 1, map.shape[1] == 1, image.shape.count == 3 else {
            throw RuntimeError.shape(value: name, "db_boxes expects a map [1,1,H,W] and an HWC image, got \(map.shape) and \(image.shape)")
        }
        let a = node.attributes
        var settings = DBPostprocess.Settings()
        settings.threshold = Double(a.float("threshold", default: Float(settings.threshold)))
        settings.boxThreshold = Double(a.float("box_threshold", default: Float(settings.boxThreshold)))
        settings.unclipRatio = Double(a.float("unclip_ratio", default: Float(settings.unclipRatio)))
        settings.maxCandidates = a.int("max_candidates", default: settings.maxCandidates)
        let boxes = DBPostprocess.boxes(
            probability: map.floats, mapWidth: map.shape[3], mapHeight: map.shape[2], imageWidth: image.shape[1],
            imageHeight: image.shape[0], settings: settings)
        let ordered = DBPostprocess.readingOrder(boxes)
        return [Tensor(shape: [ordered.count, 8], floats: ordered.flatMap { $0.corners.flatMap { [Float($0.x), Float($0.y)] } })]
    }
}

/// `perspective_crop`: the upright crop of a u8 HWC image under one box `[1, 8]`
/// (`PerspectiveCrop.crop`; vertical lines turned upright).
enum PerspectiveCropOp {
    static func run(_ node: Node, _ operands: [Tensor], name: String) throws -> [Tensor] {
        let image = operands[0], box = operands[1]
        guard image.shape.count == 3, case .u8(let pixels) = image.data, box.shape == [1, 8] else {
            throw RuntimeError.shape(value: name, "perspective_crop expects a u8 HWC image and a box [1,8], got \(image.dtype)\(image.shape) and \(box.shape)")
        }
        let values = box.floats.map(Double.init)
        let corners = (0..<4).map { Point(values[2 * $0], values[2 * $0 + 1]) }
        let source = try Image(width: image.shape[1], height: image.shape[0], channels: image.shape[2], pixels: pixels)
        guard corners.allSatisfy({ $0.x.isFinite && $0.y.isFinite }), let crop = PerspectiveCrop.crop(source, corners: corners) else {
            throw RuntimeError.shape(value: name, "the box \(values) has a side shorter than 1 px or is degenerate, so there is nothing to crop")
        }
        return [Tensor(shape: [crop.height, crop.width, crop.channels], bytes: crop.pixels)]
    }
}

/// `text_lines`: the rows of boxes, tokens and scores whose score is at least `min_score`.
enum TextLinesOp {
    static func run(_ node: Node, _ operands: [Tensor], name: String) throws -> [Tensor] {
        let boxes = operands[0], tokens = operands[1], scores = operands[2]
        guard boxes.shape.count == 2, tokens.shape.count == 2, scores.shape.count == 1,
              boxes.shape[0] == scores.shape[0], tokens.shape[0] == scores.shape[0], case .i32(let ids) = tokens.data else {
            throw RuntimeError.shape(value: name, "text_lines expects boxes [n,k], tokens i32[n,L] and scores [n], got \(boxes.shape), \(tokens.dtype)\(tokens.shape), \(scores.shape)")
        }
        let minScore = node.attributes.float("min_score", default: 0.5)
        let values = scores.floats, corners = boxes.floats
        let kept = values.indices.filter { values[$0] >= minScore }
        let (k, length) = (boxes.shape[1], tokens.shape[1])
        return [
            Tensor(shape: [kept.count, k], floats: kept.flatMap { corners[($0 * k)..<(($0 + 1) * k)] }),
            Tensor(shape: [kept.count, length], data: .i32(kept.flatMap { ids[($0 * length)..<(($0 + 1) * length)] })),
            Tensor(shape: [kept.count], floats: kept.map { values[$0] }),
        ]
    }
}

/// `rotate_180_if`: copies the image, turned 180° (out(y, x) = in(h−1−y, w−1−x), as
/// `cv2.rotate(ROTATE_180)`) when class `class` is the most probable and above `threshold`.
enum Rotate180IfKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), classes = n.inShape(1)[1]
        guard n.inShape(1)[0] == 1 else { throw n.unsupported("one row of probabilities per image, got \(n.inShape(1))") }
        let classIndex = n.attributes.int("class", default: 1)
        guard classIndex < classes else { throw n.unsupported("class \(classIndex) of \(classes) classes") }
        let threshold = n.attributes.float("threshold", default: 0.9)
        let pixels = x[0] * x[1], pixelBytes = x[2] * n.inputTypes[0].dtype.byteSize
        let (imageSlot, probabilitySlot, outSlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        return { ctx in
            let p = ctx.f32(probabilitySlot)
            let best = (0..<classes).max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) } ?? 0
            let source = ctx.raw(imageSlot), destination = ctx.raw(outSlot)
            guard best == classIndex, p[classIndex] > threshold else {
                destination.copyMemory(from: source, byteCount: pixels * pixelBytes)
                return
            }
            for pixel in 0..<pixels {
                (destination + pixel * pixelBytes).copyMemory(from: source + (pixels - 1 - pixel) * pixelBytes, byteCount: pixelBytes)
            }
        }
    }
}

/// `ctc_decode`: per row of `[N, T, C]`, the best class of each step (the first on ties);
/// repeats merged and the blank (class 0) dropped; the kept classes written to the row's
/// tokens (−1 after them; an error past `max_length`), the mean of their probabilities to its
/// score (0 when none is kept). PaddleOCR's `CTCLabelDecode`.
enum CTCDecodeKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0)
        let (rows, steps, classes) = (x[0], x[1], x[2])
        let length = n.outShape(0)[1]
        let (xSlot, tokenSlot, scoreSlot) = (n.inputs[0], n.outputs[0], n.outputs[1])
        let name = n.name
        return { ctx in
            let p = ctx.f32(xSlot), scores = ctx.f32(scoreSlot)
            let tokens = ctx.raw(tokenSlot).assumingMemoryBound(to: Int32.self)
            for row in 0..<rows {
                let out = tokens + row * length
                out.update(repeating: -1, count: length)
                var (kept, total, previous) = (0, Float(0), -1)
                for step in 0..<steps {
                    let base = p + (row * steps + step) * classes
                    var best = 0
                    for c in 1..<max(1, classes) where base[c] > base[best] { best = c }
                    if best != 0 && best != previous {
                        guard kept < length else {
                            throw KernelError(kernel: "ctc_decode", message: "%\(name): a line has more than max_length = \(length) characters")
                        }
                        out[kept] = Int32(best)
                        total += base[best]
                        kept += 1
                    }
                    previous = best
                }
                scores[row] = kept == 0 ? 0 : total / Float(kept)
            }
        }
    }
}

/// `map_boxes`: x, y pairs put back on the original image and clipped to [0, to width] ×
/// [0, to height]. From a stretched image they are scaled by (to width / from width, to height /
/// from height); from a letterbox frame (its `f32[4]` scale_y, scale_x, offset_y, offset_x, read
/// at run time) they become (x − offset_x) / scale_x, (y − offset_y) / scale_y.
enum MapBoxesKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let to = n.inShape(2)
        let count = n.inCount(0)
        let letterbox = n.inputTypes[1].dtype == .f32
        let from = n.inShape(1)
        let (width, height) = (Double(to[1]), Double(to[0]))
        let (boxSlot, fromSlot, outSlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        let stretch = letterbox ? (x: 1.0, y: 1.0) : (x: width / Double(from[1]), y: height / Double(from[0]))
        return { ctx in
            // source = (frame − offset) · factor: the stretch's size ratio, or 1 / the letterbox's scale.
            var (sx, sy, ox, oy) = (stretch.x, stretch.y, 0.0, 0.0)
            if letterbox {
                let p = ctx.f32(fromSlot)
                (sy, sx, oy, ox) = (1 / Double(p[0]), 1 / Double(p[1]), Double(p[2]), Double(p[3]))
            }
            let boxes = ctx.f32(boxSlot), out = ctx.f32(outSlot)
            for i in stride(from: 0, to: count, by: 2) {
                out[i] = Float(min(max((Double(boxes[i]) - ox) * sx, 0), width))
                out[i + 1] = Float(min(max((Double(boxes[i + 1]) - oy) * sy, 0), height))
            }
        }
    }
}
