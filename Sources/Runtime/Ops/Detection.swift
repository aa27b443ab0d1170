import Foundation
import IR

// The detector-head decode ops keep their operands' sizes and run as plan steps; `nms` and
// `detections` size their results by the data and run between plans (`DataDependentOps`).

/// The cell maps a decode op reads, operand by operand: its slot and cells, in the levels' order.
private func cellMaps(_ n: NodeContext) -> [(slot: Int, rows: Int)] {
    n.inputs.indices.map { (n.inputs[$0], n.inShape($0).dropLast().reduce(1, *)) }
}

/// Each cell's centre offset (col + cell_offset, row + cell_offset) and stride, in cell order.
private func cellOrigins(_ n: NodeContext) throws -> [(x: Double, y: Double, stride: Double)] {
    guard let grid = DetectionGrid(attributes: n.attributes) else { throw n.unsupported("needs strides and input_size") }
    let offset = Double(n.attributes.float("cell_offset", default: 0))
    var origins: [(x: Double, y: Double, stride: Double)] = []
    origins.reserveCapacity(grid.cellCount)
    grid.forEachCell { _, col, row, stride in origins.append((Double(col) + offset, Double(row) + offset, Double(stride))) }
    return origins
}

/// `dfl_boxes`: per cell, each side's distance is the expectation of the softmax over its `B`
/// bins (bin i at distance i), times the stride, from the centre ((col, row) + cell_offset) ·
/// stride: x1, y1, x2, y2 = cx − left, cy − top, cx + right, cy + bottom (GFL's integral, as
/// PicoDet's and YOLOv8's postprocesses compute it, here in double precision).
enum DFLBoxesKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let origins = try cellOrigins(n)
        let maps = cellMaps(n)
        let bins = n.inShape(0).last! / 4
        let outSlot = n.outputs[0]
        return { ctx in
            let out = ctx.f32(outSlot)
            var cell = 0
            var distances = [Double](repeating: 0, count: 4)
            for map in maps {
                let logits = ctx.f32(map.slot)
                for row in 0..<map.rows {
                    let origin = origins[cell]
                    for side in 0..<4 {
                        let bin = logits + (row * 4 + side) * bins
                        var largest = Double(bin[0])
                        for i in 1..<bins { largest = max(largest, Double(bin[i])) }
                        var (total, weighted) = (0.0, 0.0)
                        for i in 0..<bins {
                            let e = exp(Double(bin[i]) - largest)
                            total += e
                            weighted += e * Double(i)
                        }
                        distances[side] = weighted / total * origin.stride
                    }
                    let (cx, cy) = (origin.x * origin.stride, origin.y * origin.stride)
                    let box = out + cell * 4
                    box[0] = Float(cx - distances[0])
                    box[1] = Float(cy - distances[1])
                    box[2] = Float(cx + distances[2])
                    box[3] = Float(cy + distances[3])
                    cell += 1
                }
            }
        }
    }
}

/// `grid_decode`: per cell row (x, y, w, h, [objectness,] classes…): centre (p + (col, row) +
/// cell_offset) · stride, size exp(p) · stride (YOLOX's decode), as x1, y1, x2, y2; scores are the
/// class scores times the objectness (when the row has one).
enum GridDecodeKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let origins = try cellOrigins(n)
        let maps = cellMaps(n)
        let columns = n.inShape(0).last!
        let objectness = n.attributes.int("objectness", default: 1) == 1
        let classes = n.outShape(1)[1], first = objectness ? 5 : 4
        let (boxSlot, scoreSlot) = (n.outputs[0], n.outputs[1])
        return { ctx in
            let boxes = ctx.f32(boxSlot), scores = ctx.f32(scoreSlot)
            var cell = 0
            for map in maps {
                let values = ctx.f32(map.slot)
                for row in 0..<map.rows {
                    let p = values + row * columns, origin = origins[cell]
                    let cx = (Double(p[0]) + origin.x) * origin.stride, cy = (Double(p[1]) + origin.y) * origin.stride
                    let halfWidth = exp(Double(p[2])) * origin.stride / 2
                    let halfHeight = exp(Double(p[3])) * origin.stride / 2
                    let box = boxes + cell * 4
                    box[0] = Float(cx - halfWidth)
                    box[1] = Float(cy - halfHeight)
                    box[2] = Float(cx + halfWidth)
                    box[3] = Float(cy + halfHeight)
                    let weight = objectness ? p[4] : 1
                    for c in 0..<classes { scores[cell * classes + c] = p[first + c] * weight }
                    cell += 1
                }
            }
        }
    }
}

/// `top_cells`: per operand (one level), the `k` cells whose best class score is highest (the
/// earlier cell on ties) keep their scores, every other cell's become 0; the levels are written
/// one after another (PicoDet's top-1000 candidates per level before NMS).
enum TopCellsKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let maps = cellMaps(n)
        let classes = n.inShape(0).last!
        let k = n.attributes.int("k", default: 1)
        let outSlot = n.outputs[0]
        return { ctx in
            let out = ctx.f32(outSlot)
            var first = 0
            for map in maps {
                let scores = ctx.f32(map.slot), level = out + first * classes
                level.update(from: scores, count: map.rows * classes)
                if k < map.rows {
                    let best = (0..<map.rows).map { row in (0..<classes).reduce(-Float.infinity) { max($0, scores[row * classes + $1]) } }
                    let ranked = (0..<map.rows).sorted { best[$0] != best[$1] ? best[$0] > best[$1] : $0 < $1 }
                    for row in ranked[k...] { (level + row * classes).update(repeating: 0, count: classes) }
                }
                first += map.rows
            }
        }
    }
}

/// `detections`: the rows an `nms` kept, in its order: each kept (box, class) gives the box, its
/// score for that class and the class (a 1-D kept list reads 1-D scores, class 0).
enum DetectionsOp {
    static func run(_ node: Node, _ operands: [Tensor], name: String) throws -> [Tensor] {
        let boxes = operands[0], scores = operands[1], kept = operands[2]
        let rows = boxes.shape.first ?? 0
        let classes = scores.shape.count == 2 ? scores.shape[1] : 1
        guard boxes.shape == [rows, 4], scores.shape.first == rows, kept.shape.count == scores.shape.count,
              kept.shape.count == 1 || kept.shape[1] == 2, case .i64(let picks) = kept.data else {
            throw RuntimeError.shape(value: name, "detections expects boxes [n,4], scores [n] or [n,C] and kept i64, got \(boxes.shape), \(scores.shape), \(kept.dtype)\(kept.shape)")
        }
        let pairs = scores.shape.count == 2 ? stride(from: 0, to: picks.count, by: 2).map { (Int(picks[$0]), Int(picks[$0 + 1])) } : picks.map { (Int($0), 0) }
        guard let bad = pairs.first(where: { !(0..<rows).contains($0.0) || !(0..<classes).contains($0.1) }) else {
            let corners = boxes.floats, values = scores.floats
            return [
                Tensor(shape: [pairs.count, 4], floats: pairs.flatMap { corners[($0.0 * 4)..<($0.0 * 4 + 4)] }),
                Tensor(shape: [pairs.count], floats: pairs.map { values[$0.0 * classes + $0.1] }),
                Tensor(shape: [pairs.count], int64s: pairs.map { Int64($0.1) }),
            ]
        }
        throw RuntimeError.shape(value: name, "kept entry (box \(bad.0), class \(bad.1)) is outside the \(rows) boxes × \(classes) classes")
    }
}
