/// Shape rules of the image ops added after the first set: `letterbox` and `pad_spatial`, and
/// the ops of segmentation graphs: `divide_by_max`, `min_max_normalize`, `resize_like`, `cutout`.
extension ShapeInference {
    static func imageResultTypes(op: Op, inputs: [TensorType], attributes a: Attributes) throws -> [TensorType] {
        guard inputs.count == 1 else { throw IRError.arity(op: op.rawValue, expected: "1", found: inputs.count) }
        let x = inputs[0]
        switch op {
        case .letterbox:
            guard x.rank == 3, x.layout == .hwc, x.dtype == .u8 else {
                throw IRError.typeMismatch(op: op.rawValue, "expected a u8 HWC image, found \(x)")
            }
            guard let size = a.ints("size"), size.count == 2, size.allSatisfy({ $0 > 0 }) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "size", "expected [h, w] with positive sides")
            }
            return [x.with(shape: [.known(size[0]), .known(size[1]), x.shape[2]]), TensorType(.f32, [4])]
        case .padSpatial:
            guard let (hAxis, wAxis) = spatialAxes(x.layout), x.rank == x.layout.rawValue.count else {
                throw IRError.typeMismatch(op: op.rawValue, "expected an image layout (HWC, CHW, NHWC, NCHW), found \(x)")
            }
            var shape = x.shape
            if let h = x.shape[hAxis].value, let w = x.shape[wAxis].value {
                let pads = try ImageGeometry.spatialPads(height: h, width: w, attributes: a)
                shape[hAxis] = .known(h + pads[0] + pads[2])
                shape[wAxis] = .known(w + pads[1] + pads[3])
            } else if let pads = a.ints("pads"), pads.count == 4 {
                shape[hAxis] = x.shape[hAxis].value.map { .known($0 + pads[0] + pads[2]) } ?? .symbol("")
                shape[wAxis] = x.shape[wAxis].value.map { .known($0 + pads[1] + pads[3]) } ?? .symbol("")
            } else {
                _ = try ImageGeometry.spatialPads(height: 1, width: 1, attributes: a)
                shape[hAxis] = .symbol("")
                shape[wAxis] = .symbol("")
            }
            if let axis = x.layout.channelAxis, let c = x.shape[axis].value, let values = a.floats("value"),
                values.count != 1, values.count != c
            {
                throw IRError.invalidAttribute(op: op.rawValue, name: "value", "has \(values.count) values for \(c) channels")
            }
            return [x.with(shape: shape)]
        default:
            throw IRError.typeMismatch(op: op.rawValue, "not an image op of this file")
        }
    }

    /// `divide_by_max` and `min_max_normalize` keep the shape in f32; `resize_like` takes the
    /// second image's height and width; `cutout` makes RGBA of an RGB image and its mask.
    static func maskResultTypes(op: Op, inputs: [TensorType]) throws -> [TensorType] {
        let expected = [.resizeLike, .cutout].contains(op) ? 2 : 1
        guard inputs.count == expected else { throw IRError.arity(op: op.rawValue, expected: "\(expected)", found: inputs.count) }
        let x = inputs[0]
        switch op {
        case .divideByMax, .minMaxNormalize:
            let dtypes: [DType] = op == .divideByMax ? [.u8, .f32] : [.f32]
            guard dtypes.contains(x.dtype), x.rank >= 1 else {
                let names = dtypes.map(\.rawValue).joined(separator: " or ")
                throw IRError.typeMismatch(op: op.rawValue, "expected a \(names) tensor, found \(x)")
            }
            var result = x
            result.dtype = .f32
            return [result]
        case .cutout:
            let photo = try image(x, op, "an RGB u8 HWC image", dtype: .u8), mask = try image(inputs[1], op, "a u8 HWC mask", dtype: .u8)
            guard photo.shape[2].value ?? 3 == 3, mask.shape[2].value ?? 1 == 1 else {
                throw IRError.typeMismatch(op: op.rawValue, "expected 3 channels and a 1-channel mask, found \(photo) and \(mask)")
            }
            for axis in 0..<2 {
                if let a = photo.shape[axis].value, let b = mask.shape[axis].value, a != b {
                    throw IRError.typeMismatch(op: op.rawValue, "the mask \(mask) is not the image's size \(photo)")
                }
            }
            return [photo.with(shape: [photo.shape[0], photo.shape[1], .known(4)])]
        default:
            let image = try image(x, op, "a u8 HWC image", dtype: .u8)
            let reference = try self.image(inputs[1], op, "an HWC image to take the size of")
            return [image.with(shape: [reference.shape[0], reference.shape[1], image.shape[2]])]
        }
    }

    /// How `divide_by_max` and `min_max_normalize` split a value into items: an HWC or CHW image
    /// (or a vector) is one item; any other value has one per index of its first axis.
    public static func itemCount(_ t: TensorType) -> Dim {
        [.hwc, .chw].contains(t.layout) || t.rank < 2 ? .known(1) : t.shape[0]
    }

    /// Axes of height and width in an image layout.
    public static func spatialAxes(_ layout: Layout) -> (Int, Int)? {
        switch layout {
        case .hwc: (0, 1)
        case .chw: (1, 2)
        case .nhwc: (1, 2)
        case .nchw: (2, 3)
        default: nil
        }
    }
}
