/// Shape rules of the text-reading ops (`db_boxes` → `for_each` → `perspective_crop` →
/// `rotate_180_if` → `ctc_decode` → `collect` → `text_lines`, with `map_boxes`).
extension ShapeInference {
    static func textResultTypes(op: Op, inputs: [TensorType], attributes a: Attributes) throws -> [TensorType] {
        func arity(_ n: Int) throws {
            guard inputs.count == n else { throw IRError.arity(op: op.rawValue, expected: "\(n)", found: inputs.count) }
        }
        switch op {
        case .dbBoxes:
            try arity(2)
            let map = inputs[0]
            guard map.dtype == .f32, map.rank == 4, map.shape[0] == .known(1), map.shape[1] == .known(1) else {
                throw IRError.typeMismatch(op: op.rawValue, "expected a probability map f32[1,1,H,W], found \(map)")
            }
            try image(inputs[1], op, "the image the boxes belong to as an HWC image")
            for (key, range) in [("threshold", 0...1.0), ("box_threshold", 0...1.0), ("unclip_ratio", 0...10.0)] {
                guard let value = a.float(key).map(Double.init), range.contains(value) else {
                    throw IRError.invalidAttribute(op: op.rawValue, name: key, "expected a number in \(range.lowerBound)…\(range.upperBound)")
                }
            }
            guard a.int("max_candidates", default: 0) >= 1 else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "max_candidates", "expected an integer ≥ 1")
            }
            return [TensorType(.f32, [.symbol("boxes"), .known(8)])]
        case .perspectiveCrop:
            try arity(2)
            try image(inputs[0], op, "the image to crop as an HWC image")
            guard inputs[0].dtype == .u8, inputs[1].dtype == .f32, inputs[1].shape == [.known(1), .known(8)] else {
                throw IRError.typeMismatch(op: op.rawValue, "expected a u8 image and one box f32[1,8], found \(inputs[0]) and \(inputs[1])")
            }
            return [inputs[0].with(shape: [.symbol("crop_h"), .symbol("crop_w"), inputs[0].shape[2]])]
        case .rotate180If:
            try arity(2)
            try image(inputs[0], op, "the image to turn as an HWC image")
            let p = inputs[1]
            // After a batching queue the row count is symbolic; per item it is 1.
            guard p.dtype == .f32, p.rank == 2, p.shape[0].value ?? 1 == 1 else {
                throw IRError.typeMismatch(op: op.rawValue, "expected one row of class probabilities f32[1,C], found \(p)")
            }
            let classIndex = a.int("class", default: -1)
            guard classIndex >= 0, p.shape[1].value.map({ classIndex < $0 }) ?? true else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "class", "expected a class index below the \(p.shape[1]) classes")
            }
            return [inputs[0]]
        case .ctcDecode:
            try arity(1)
            let p = inputs[0]
            guard p.dtype == .f32, p.rank == 3 else {
                throw IRError.typeMismatch(op: op.rawValue, "expected per-step class probabilities f32[N,T,C], found \(p)")
            }
            guard let length = a.int("max_length"), (1...4096).contains(length) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "max_length", "expected an integer in 1…4096")
            }
            return [TensorType(.i32, [p.shape[0], .known(length)]), TensorType(.f32, [p.shape[0]])]
        case .mapBoxes:
            try arity(3)
            let boxes = inputs[0]
            guard boxes.dtype == .f32, boxes.rank == 2, boxes.shape[1].value.map({ $0 > 0 && $0 % 2 == 0 }) ?? false else {
                throw IRError.typeMismatch(op: op.rawValue, "expected boxes f32[n,2k] of x, y pairs, found \(boxes)")
            }
            // From a stretched image (its size), or through a letterbox (its scale and offset).
            if inputs[1].dtype != .f32 || inputs[1].shape != [.known(4)] {
                try image(inputs[1], op, "the image the boxes are in as an HWC image, or a letterbox's f32[4] scale and offset")
            }
            try image(inputs[2], op, "the image to map them to as an HWC image")
            return [boxes]
        default:  // textLines
            try arity(3)
            let (boxes, tokens, scores) = (inputs[0], inputs[1], inputs[2])
            guard boxes.dtype == .f32, boxes.rank == 2, tokens.dtype == .i32, tokens.rank == 2, scores.dtype == .f32, scores.rank == 1 else {
                throw IRError.typeMismatch(op: op.rawValue, "expected boxes f32[n,k], tokens i32[n,L] and scores f32[n], found \(boxes), \(tokens), \(scores)")
            }
            let rows = [boxes.shape[0], tokens.shape[0], scores.shape[0]].compactMap(\.value)
            guard Set(rows).count <= 1 else { throw IRError.typeMismatch(op: op.rawValue, "boxes, tokens and scores disagree on the line count: \(rows)") }
            guard (0...1).contains(a.float("min_score", default: -1)) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "min_score", "expected a number in 0…1")
            }
            let kept = Dim.symbol("lines")
            return [boxes.with(shape: [kept, boxes.shape[1]]), tokens.with(shape: [kept, tokens.shape[1]]), scores.with(shape: [kept])]
        }
    }
}
