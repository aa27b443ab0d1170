/// The cells of a detector head's levels: one grid per stride over the network input, cells
/// row-major, levels in stride order (the order PicoDet, YOLOX and YOLOv8 exports flatten them).
public struct DetectionGrid: Sendable, Hashable {
    public let strides: [Int]
    /// The network input's height and width.
    public let inputHeight: Int
    public let inputWidth: Int

    /// Reads `strides` and `input_size` [h, w]; nil unless every stride and side is in 1…65535.
    public init?(attributes a: Attributes) {
        guard let strides = a.ints("strides"), !strides.isEmpty, let size = a.ints("input_size"), size.count == 2,
              (strides + size).allSatisfy({ (1...65_535).contains($0) }) else { return nil }
        self.strides = strides
        (inputHeight, inputWidth) = (size[0], size[1])
    }

    /// Rows and columns of a level: the input's sides over the stride, rounded up (a partial
    /// cell at the bottom or right edge is a cell, as the heads' convolutions produce it).
    public func cells(stride: Int) -> (rows: Int, cols: Int) {
        ((inputHeight + stride - 1) / stride, (inputWidth + stride - 1) / stride)
    }

    /// Cells of all levels together.
    public var cellCount: Int { strides.reduce(0) { total, s in let c = cells(stride: s); return total + c.rows * c.cols } }

    /// Each cell's column, row and stride, in the order the levels flatten them.
    public func forEachCell(_ body: (_ cell: Int, _ col: Int, _ row: Int, _ stride: Int) -> Void) {
        var cell = 0
        for stride in strides {
            let (rows, cols) = cells(stride: stride)
            for row in 0..<rows {
                for col in 0..<cols {
                    body(cell, col, row, stride)
                    cell += 1
                }
            }
        }
    }
}

/// Shape rules of the detection ops (`dfl_boxes`, `grid_decode`, `top_cells`, `nms`,
/// `detections`).
extension ShapeInference {
    static func detectionResultTypes(op: Op, inputs: [TensorType], attributes a: Attributes) throws -> [TensorType] {
        func arity(_ n: Int) throws {
            guard inputs.count == n else { throw IRError.arity(op: op.rawValue, expected: "\(n)", found: inputs.count) }
        }
        switch op {
        case .dflBoxes, .gridDecode:
            let (rows, columns) = try cellRows(op: op, inputs: inputs)
            guard let grid = DetectionGrid(attributes: a) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "strides", "expected strides [s, …] and input_size [h, w], each in 1…65535")
            }
            guard (0...1).contains(a.float("cell_offset", default: 0)) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "cell_offset", "expected a number in 0…1")
            }
            if let rows, rows != grid.cellCount {
                let levels = grid.strides.map { s in let c = grid.cells(stride: s); return "\(c.rows)×\(c.cols)" }.joined(separator: " + ")
                throw IRError.typeMismatch(
                    op: op.rawValue, "the maps have \(rows) cells, but strides \(grid.strides) over \(grid.inputHeight)×\(grid.inputWidth) make \(levels) = \(grid.cellCount)")
            }
            let cells = Dim.known(grid.cellCount)
            if op == .dflBoxes {
                guard let columns, columns % 4 == 0, columns >= 8 else {
                    throw IRError.typeMismatch(op: op.rawValue, "expected 4 sides × B ≥ 2 bins per cell, found \(columns.map(String.init) ?? "?") values")
                }
                return [TensorType(.f32, [cells, .known(4)])]
            }
            let objectness = a.int("objectness", default: 1)
            guard [0, 1].contains(objectness) else { throw IRError.invalidAttribute(op: op.rawValue, name: "objectness", "expected 0 or 1") }
            guard let columns, columns > 4 + objectness else {
                throw IRError.typeMismatch(
                    op: op.rawValue, "expected x, y, w, h, \(objectness == 1 ? "objectness, " : "")and at least one class score per cell, found \(columns.map(String.init) ?? "?") values")
            }
            return [TensorType(.f32, [cells, .known(4)]), TensorType(.f32, [cells, .known(columns - 4 - objectness)])]
        case .topCells:
            let (rows, columns) = try cellRows(op: op, inputs: inputs)
            guard a.int("k", default: 0) >= 1 else { throw IRError.invalidAttribute(op: op.rawValue, name: "k", "expected an integer ≥ 1") }
            return [TensorType(.f32, [rows.map(Dim.known) ?? .symbol("cells"), columns.map(Dim.known) ?? .symbol("classes")])]
        case .nms:
            try arity(2)
            let (boxes, scores) = (inputs[0], inputs[1])
            guard boxes.dtype == .f32, boxes.rank == 2, boxes.shape[1] == .known(4), scores.dtype == .f32,
                  scores.rank == 1 || scores.rank == 2 && scores.shape[1] != .known(0) else {
                throw IRError.typeMismatch(op: op.rawValue, "expected boxes f32[n,4] and scores f32[n] or f32[n,classes ≥ 1], found \(boxes) and \(scores)")
            }
            if let n = boxes.shape[0].value, let m = scores.shape[0].value, n != m {
                throw IRError.typeMismatch(op: op.rawValue, "\(n) boxes but \(m) scores")
            }
            let threshold = a.float("iou_threshold", default: 0.5)
            guard threshold >= 0, threshold <= 1, ["union", "minimum"].contains(a.string("mode") ?? "union"), a.int("max_output", default: 0) >= 0,
                  a.int("candidates", default: 0) >= 0, [0, 1].contains(a.int("pixel_inclusive", default: 0)) else {
                throw IRError.invalidAttribute(
                    op: op.rawValue, name: "iou_threshold",
                    "expected iou_threshold in 0…1, mode union or minimum, max_output and candidates ≥ 0 (0: no limit), pixel_inclusive 0 or 1")
            }
            guard ["separate", "agnostic"].contains(a.string("classes") ?? "separate") else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "classes", "expected separate or agnostic")
            }
            let kept = Dim.symbol("kept")
            return [TensorType(.i64, scores.rank == 2 ? [kept, .known(2)] : [kept])]
        default:  // detections
            try arity(3)
            let (boxes, scores, kept) = (inputs[0], inputs[1], inputs[2])
            guard boxes.dtype == .f32, boxes.rank == 2, boxes.shape[1] == .known(4), scores.dtype == .f32, (1...2).contains(scores.rank),
                  kept.dtype == .i64, kept.rank == scores.rank, kept.rank == 1 || kept.shape[1] == .known(2) else {
                throw IRError.typeMismatch(
                    op: op.rawValue, "expected boxes f32[n,4], scores f32[n,C] and an nms's kept i64[k,2] (or scores f32[n] and kept i64[k]), found \(boxes), \(scores), \(kept)")
            }
            if let n = boxes.shape[0].value, let m = scores.shape[0].value, n != m {
                throw IRError.typeMismatch(op: op.rawValue, "\(n) boxes but \(m) scores")
            }
            let found = Dim.symbol("found")
            return [TensorType(.f32, [found, .known(4)]), TensorType(.f32, [found]), TensorType(.i64, [found])]
        }
    }

    /// The cell count (summed over operands) and values per cell of maps `f32[1,N,K]` or `f32[N,K]`.
    private static func cellRows(op: Op, inputs: [TensorType]) throws -> (rows: Int?, columns: Int?) {
        guard !inputs.isEmpty else { throw IRError.arity(op: op.rawValue, expected: "1 or more", found: 0) }
        var rows: Int? = 0
        let columns = inputs[0].shape.last?.value
        for t in inputs {
            guard t.dtype == .f32, t.rank == 2 || (t.rank == 3 && t.shape[0].value ?? 1 == 1), t.shape.last?.value == columns else {
                throw IRError.typeMismatch(op: op.rawValue, "expected per-cell maps f32[1,N,K] or f32[N,K] with one K, found \(inputs.map(\.description).joined(separator: ", "))")
            }
            let n = t.shape[t.rank - 2].value
            rows = rows.flatMap { total in n.map { total + $0 } }
        }
        return (rows, columns)
    }
}
