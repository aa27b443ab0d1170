/// Shape rules of the MTCNN face-cascade ops (`pyramid_scales` → `for_each` →
/// `resize_by_scale` → P-Net → `mtcnn_pnet_boxes` → `collect` → `mtcnn_merge` → `for_each` →
/// `mtcnn_crop` → R-Net → `collect` → `mtcnn_refine` → … → `mtcnn_faces`).
extension ShapeInference {
    static func faceResultTypes(op: Op, inputs: [TensorType], attributes a: Attributes) throws -> [TensorType] {
        func arity(_ n: Int) throws {
            guard inputs.count == n else { throw IRError.arity(op: op.rawValue, expected: "\(n)", found: inputs.count) }
        }
        /// f32 rows of at least `columns` values.
        func rows(_ t: TensorType, _ columns: Int, _ what: String) throws {
            guard t.dtype == .f32, t.rank == 2, t.shape[1].value.map({ $0 >= columns }) ?? true else {
                throw IRError.typeMismatch(op: op.rawValue, "expected \(what) as f32 rows of \(columns) values, found \(t)")
            }
        }
        func probability(_ key: String) throws {
            guard (0...1).contains(a.float(key, default: -1)) else { throw IRError.invalidAttribute(op: op.rawValue, name: key, "expected a number in 0…1") }
        }
        switch op {
        case .pyramidScales:
            try arity(1)
            try image(inputs[0], op, "a u8 HWC image", dtype: .u8)
            let minSize = a.float("min_size", default: 0), factor = a.float("factor", default: 0), window = a.int("window", default: 0)
            guard minSize >= 1, factor > 0.05, factor < 1, window >= 1 else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "factor", "expected min_size ≥ 1, factor in (0.05, 1), window ≥ 1")
            }
            let x = inputs[0]
            let count = x.shape[0].value.flatMap { h in x.shape[1].value.map { w in
                ImageGeometry.pyramidScales(height: h, width: w, minSize: Double(minSize), factor: Double(factor), window: window).count
            } }
            return [TensorType(.f32, [count.map(Dim.known) ?? .symbol("levels"), .known(1)])]
        case .resizeByScale:
            try arity(2)
            try image(inputs[0], op, "a u8 HWC image", dtype: .u8)
            guard inputs[1].dtype == .f32, inputs[1].elementCount.map({ $0 == 1 }) ?? true else {
                throw IRError.typeMismatch(op: op.rawValue, "expected one scale f32[1,1], found \(inputs[1])")
            }
            return [inputs[0].with(shape: [.symbol("scaled_h"), .symbol("scaled_w"), inputs[0].shape[2]])]
        case .mtcnnPNetBoxes:
            try arity(3)
            for (t, channels) in zip(inputs.prefix(2), [4, 2]) where !(t.dtype == .f32 && t.rank == 4 && t.shape[3].value.map { $0 == channels } ?? true) {
                throw IRError.typeMismatch(op: op.rawValue, "expected P-Net's regression [1,X,Y,4] and probability [1,X,Y,2], found \(inputs[0]) and \(inputs[1])")
            }
            try probability("threshold")
            try probability("iou_threshold")
            return [TensorType(.f32, [.symbol("candidates"), .known(9)])]
        case .mtcnnMerge:
            try arity(1)
            try rows(inputs[0], 9, "candidates")
            try probability("iou_threshold")
            return [TensorType(.f32, [.symbol("boxes"), .known(5)])]
        case .mtcnnCrop:
            try arity(2)
            try image(inputs[0], op, "a u8 HWC image", dtype: .u8)
            guard inputs[1].dtype == .f32, inputs[1].rank == 2, inputs[1].shape[0].value ?? 1 == 1, inputs[1].shape[1].value.map({ $0 >= 4 }) ?? true else {
                throw IRError.typeMismatch(op: op.rawValue, "expected one box f32[1,≥4], found \(inputs[1])")
            }
            guard let size = a.int("size"), (1...1024).contains(size) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "size", "expected a side in 1…1024")
            }
            return [TensorType(.f32, [.known(size), .known(size), inputs[0].shape[2]], layout: .hwc)]
        case .mtcnnRefine:
            try arity(3)
            try rows(inputs[0], 5, "boxes")
            try rows(inputs[1], 4, "regression")
            try rows(inputs[2], 2, "probabilities")
            try probability("threshold")
            try probability("iou_threshold")
            return [TensorType(.f32, [.symbol("boxes"), .known(5)])]
        default:  // mtcnnFaces
            try arity(4)
            try rows(inputs[0], 5, "boxes")
            try rows(inputs[1], 4, "regression")
            try rows(inputs[2], 10, "landmarks")
            try rows(inputs[3], 2, "probabilities")
            try probability("threshold")
            try probability("iou_threshold")
            let faces = Dim.symbol("faces")
            return [TensorType(.f32, [faces, .known(4)]), TensorType(.f32, [faces]), TensorType(.f32, [faces, .known(10)])]
        }
    }
}
