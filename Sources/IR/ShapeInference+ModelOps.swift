/// Result types of the model ops added for real networks (PP-OCR, MTCNN, EfficientNet):
/// transposed convolution, the extra activations, prelu/pow, slice, gather, interpolate and
/// reduce_mean. The slice and interpolate geometry lives here too, so shape inference, the
/// constant evaluator and the runtime share one definition of each.
extension ShapeInference {
    static func modelOpResultTypes(
        op: Op, inputs: [TensorType], attributes a: Attributes, constants: [Tensor?]
    ) throws -> [TensorType] {
        func arity(_ range: ClosedRange<Int>) throws {
            guard range.contains(inputs.count) else {
                let expected = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)...\(range.upperBound)"
                throw IRError.arity(op: op.rawValue, expected: expected, found: inputs.count)
            }
        }
        switch op {
        case .hardSigmoid, .hardSwish, .sqrt, .round:
            try arity(1...1)
            return [inputs[0]]

        case .prelu, .pow:
            try arity(2...2)
            var t = inputs[0]
            t.shape = try broadcast(inputs[0].shape, inputs[1].shape, op)
            if op == .prelu, t.rank != inputs[0].rank {
                throw IRError.typeMismatch(op: op.rawValue, "slope \(inputs[1]) has more axes than the input \(inputs[0])")
            }
            return [t]

        case .convTranspose:
            try arity(2...3)
            let x = inputs[0], w = inputs[1]
            let (channelAxis, firstSpatial) = ShapeInference.channelsLast(a) ? (3, 1) : (1, 2)
            guard x.rank == 4, w.rank == 4 else {
                throw IRError.typeMismatch(op: op.rawValue, "expected 2-D transposed convolution on NCHW or NHWC, found \(x) and weight \(w)")
            }
            let group = a.int("group", default: 1)
            guard group >= 1 else { throw IRError.invalidAttribute(op: op.rawValue, name: "group", "must be ≥ 1, found \(group)") }
            if let c = x.shape[channelAxis].value, let wc = w.shape[0].value, c != wc {
                throw IRError.typeMismatch(op: op.rawValue, "input has \(c) channels, weight \(w) expects \(wc)")
            }
            let strides = a.ints("strides") ?? [1, 1], dilations = a.ints("dilations") ?? [1, 1]
            let pads = a.ints("pads") ?? [0, 0, 0, 0], outputPadding = a.ints("output_padding") ?? [0, 0]
            guard strides.count == 2, dilations.count == 2, pads.count == 4, outputPadding.count == 2,
                  strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "strides", "expected 2 strides, 2 dilations, 4 pads, 2 output_padding")
            }
            let spatial = try (0..<2).map { i -> Dim in
                guard let n = x.shape[firstSpatial + i].value, let k = w.shape[2 + i].value else { return .symbol("") }
                let out = strides[i] * (n - 1) + outputPadding[i] + (k - 1) * dilations[i] + 1 - pads[i] - pads[i + 2]
                guard out > 0 else { throw IRError.invalidShape("conv_transpose: output size \(out) on spatial axis \(i)") }
                return .known(out)
            }
            let channels = w.shape[1].value.map { Dim.known($0 * group) } ?? .symbol("")
            return [x.with(shape: channelAxis == 3 ? [x.shape[0]] + spatial + [channels] : [x.shape[0], channels] + spatial)]

        case .slice:
            try arity(1...1)
            let x = inputs[0]
            let plan = try sliceAxes(x.shape.map(\.value), a)
            return [x.with(shape: zip(x.shape, plan).map { dim, axis in axis.map { .known($0.count) } ?? dim })]

        case .gather:
            try arity(2...2)
            let (data, indices) = (inputs[0], inputs[1])
            guard indices.dtype == .i64 || indices.dtype == .i32 else {
                throw IRError.typeMismatch(op: op.rawValue, "indices must be i32 or i64, found \(indices)")
            }
            var axis = a.int("axis", default: 0)
            if axis < 0 { axis += data.rank }
            guard (0..<data.rank).contains(axis) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "axis", "\(a.int("axis", default: 0)) out of range for \(data)")
            }
            return [TensorType(data.dtype, Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...]))]

        case .interpolate:
            try arity(1...1)
            let x = inputs[0]
            let geometry = try Interpolation(a, rank: x.rank)
            return [x.with(shape: x.shape.indices.map { i in
                guard let n = x.shape[i].value else { return .symbol("") }
                return .known(geometry.outputSize(axis: i, input: n))
            })]

        case .reduceMean:
            try arity(1...1)
            let x = inputs[0]
            let axes = try reducedAxes(a, rank: x.rank, op: op)
            let keep = a.int("keepdims", default: 1) != 0
            var shape: [Dim] = []
            for (i, d) in x.shape.enumerated() {
                if !axes.contains(i) { shape.append(d) } else if keep { shape.append(.known(1)) }
            }
            return [x.with(shape: shape)]

        default:
            throw IRError.typeMismatch(op: op.rawValue, "not a model op of this file")
        }
    }

    /// The axes a reduction reads, normalized to 0..<rank (all of them when `axes` is absent).
    public static func reducedAxes(_ a: Attributes, rank: Int, op: Op) throws -> Set<Int> {
        guard let raw = a.ints("axes") else { return Set(0..<rank) }
        let axes = raw.map { $0 < 0 ? $0 + rank : $0 }
        guard axes.allSatisfy({ (0..<rank).contains($0) }), Set(axes).count == axes.count else {
            throw IRError.invalidAttribute(op: op.rawValue, name: "axes", "\(raw) invalid for rank \(rank)")
        }
        return Set(axes)
    }

    /// One sliced axis: the first element read, the step between elements, how many.
    public struct SliceAxis: Equatable, Sendable {
        public var start: Int
        public var step: Int
        public var count: Int
    }

    /// ONNX Slice per axis of the input (nil for axes not sliced, or whose extent is unknown):
    /// negative starts/ends count from the end, then both are clamped to the axis (to [0, n]
    /// for positive steps, [-1, n-1] for negative ones), as `numpy` slicing does.
    /// - Parameter shape: the input's extents, nil where unknown.
    public static func sliceAxes(_ shape: [Int?], _ a: Attributes) throws -> [SliceAxis?] {
        let rank = shape.count
        guard let starts = a.ints("starts"), let ends = a.ints("ends"), starts.count == ends.count else {
            throw IRError.invalidAttribute(op: Op.slice.rawValue, name: "starts", "expected starts and ends of equal length")
        }
        let axes = a.ints("axes") ?? Array(0..<starts.count)
        let steps = a.ints("steps") ?? Array(repeating: 1, count: starts.count)
        guard axes.count == starts.count, steps.count == starts.count, steps.allSatisfy({ $0 != 0 }) else {
            throw IRError.invalidAttribute(op: Op.slice.rawValue, name: "axes", "axes \(axes) and steps \(steps) must match starts \(starts); steps must not be 0")
        }
        let normalized = axes.map { $0 < 0 ? $0 + rank : $0 }
        guard normalized.allSatisfy({ (0..<rank).contains($0) }), Set(normalized).count == normalized.count else {
            throw IRError.invalidAttribute(op: Op.slice.rawValue, name: "axes", "\(axes) invalid for rank \(rank)")
        }
        var result: [SliceAxis?] = Array(repeating: nil, count: rank)
        for (i, axis) in normalized.enumerated() {
            guard let n = shape[axis] else { continue }
            let step = steps[i]
            var start = starts[i], end = ends[i]
            if start < 0 { start = start &+ n }
            if end < 0 { end = end &+ n }
            let count: Int
            if step > 0 {
                start = min(max(start, 0), n)
                end = min(max(end, 0), n)
                count = end > start ? (end - start + step - 1) / step : 0
            } else {
                start = min(max(start, 0), n - 1)
                end = min(max(end, -1), n - 1)
                count = start > end ? (start - end - step - 1) / -step : 0
            }
            result[axis] = SliceAxis(start: count > 0 ? start : 0, step: step, count: count)
        }
        return result
    }
}

/// The `interpolate` node's attributes, checked, and the ONNX Resize geometry they define:
/// output sizes, and for each output index its source coordinate under the coordinate
/// transformation mode and the taps (source indices and weights) that interpolate it.
public struct Interpolation: Sendable {
    public enum Mode: String, Sendable { case nearest, linear, cubic }
    public enum Coordinates: String, Sendable, CaseIterable {
        case halfPixel = "half_pixel"
        case halfPixelSymmetric = "half_pixel_symmetric"
        case pytorchHalfPixel = "pytorch_half_pixel"
        case alignCorners = "align_corners"
        case asymmetric
        case tfHalfPixelForNearest = "tf_half_pixel_for_nearest"
        /// The region `roi` of the input stretched onto the output (TensorFlow's
        /// CropAndResize); outputs whose source falls outside the input get `extrapolationValue`.
        case tfCropAndResize = "tf_crop_and_resize"
    }
    public enum Rounding: String, Sendable, CaseIterable {
        case roundPreferFloor = "round_prefer_floor"
        case roundPreferCeil = "round_prefer_ceil"
        case floor, ceil
    }

    public let mode: Mode
    public let coordinates: Coordinates
    public let rounding: Rounding
    /// Per axis: the scale factor of the coordinate transform (output/input when absent).
    public let scales: [Double]?
    /// Per axis: the output extent (floor(input · scale) when absent).
    public let sizes: [Int]?
    /// cubic: the kernel's `a` (ONNX cubic_coeff_a, -0.75 as PyTorch; -0.5 as TensorFlow), and
    /// whether taps outside the input get weight 0 with the rest renormalized (exclude_outside)
    /// instead of repeating the edge.
    public let cubicCoefficient: Double
    public let excludeOutside: Bool
    /// linear and cubic: when downscaling an axis, the kernel is stretched by 1/scale (so
    /// every input element contributes) and its weights normalized to sum to 1 (ONNX antialias).
    public let antialias: Bool
    /// tf_crop_and_resize: per axis the start of the region, then per axis its end, as
    /// fractions of (extent − 1); and the value of outputs outside the input.
    public let roi: [Double]?
    public let extrapolationValue: Float

    public init(_ a: Attributes, rank: Int) throws {
        let op = Op.interpolate.rawValue
        guard let mode = Mode(rawValue: a.string("mode") ?? "nearest") else {
            throw IRError.invalidAttribute(op: op, name: "mode", "expected nearest, linear or cubic, found \(a.string("mode") ?? "")")
        }
        let coordinatesName = a.string("coordinate_transformation_mode") ?? "half_pixel"
        guard let coordinates = Coordinates(rawValue: coordinatesName) else {
            throw IRError.invalidAttribute(op: op, name: "coordinate_transformation_mode",
                "expected one of \(Coordinates.allCases.map(\.rawValue).joined(separator: ", ")), found \(coordinatesName)")
        }
        let roundingName = a.string("nearest_mode") ?? "round_prefer_floor"
        guard let rounding = Rounding(rawValue: roundingName) else {
            throw IRError.invalidAttribute(op: op, name: "nearest_mode",
                "expected one of \(Rounding.allCases.map(\.rawValue).joined(separator: ", ")), found \(roundingName)")
        }
        self.mode = mode
        self.coordinates = coordinates
        self.rounding = rounding
        cubicCoefficient = Double(a.float("cubic_coeff_a") ?? -0.75)
        excludeOutside = a.int("exclude_outside", default: 0) != 0
        antialias = a.int("antialias", default: 0) != 0
        roi = a.floats("roi").map { $0.map(Double.init) }
        extrapolationValue = a.float("extrapolation_value") ?? 0
        if antialias, mode == .nearest {
            throw IRError.invalidAttribute(op: op, name: "antialias", "applies to linear and cubic interpolation, not nearest")
        }
        if coordinates == .tfCropAndResize {
            guard let roi, roi.count == 2 * rank, roi.allSatisfy(\.isFinite) else {
                throw IRError.invalidAttribute(op: op, name: "roi", "tf_crop_and_resize needs \(2 * rank) finite roi values (starts, then ends), found \(a.floats("roi") ?? [])")
            }
        }
        // Both may be given: sizes fix the output, scales the coordinate transform (ONNX's
        // keep_aspect_ratio_policy resizes with one scale but rounds the sizes itself).
        sizes = a.ints("sizes")
        scales = a.floats("scales").map { $0.map(Double.init) }
        if let sizes, sizes.count != rank || sizes.contains(where: { $0 < 0 }) {
            throw IRError.invalidAttribute(op: op, name: "sizes", "expected \(rank) sizes ≥ 0, found \(sizes)")
        }
        if let scales, scales.count != rank || !scales.allSatisfy({ $0 > 0 && $0.isFinite }) {
            throw IRError.invalidAttribute(op: op, name: "scales", "expected \(rank) positive scales, found \(scales)")
        }
        if sizes == nil && scales == nil {
            throw IRError.invalidAttribute(op: op, name: "scales", "interpolate needs scales or sizes")
        }
    }

    /// floor(input · scale) (ONNX computes it in double from the f32 scale), or the given size.
    public func outputSize(axis: Int, input: Int) -> Int {
        if let sizes { return sizes[axis] }
        return max(0, Int((Double(input) * scales![axis]).rounded(.down)))
    }

    /// The scale the coordinate transform divides by.
    public func scale(axis: Int, input: Int, output: Int) -> Double {
        if let scales { return scales[axis] }
        return Double(output) / Double(input)
    }

    /// Source coordinate (in input elements) of output index `x` on an axis. With scales, the
    /// modes that use the output length use input · scale unrounded, as ONNX defines them.
    public func sourceCoordinate(_ x: Int, axis: Int, input: Int, output outputSize: Int) -> Double {
        let scale = scale(axis: axis, input: input, output: outputSize)
        let output = scales != nil ? scale * Double(input) : Double(outputSize)
        let x = Double(x)
        switch coordinates {
        case .halfPixel:
            return (x + 0.5) / scale - 0.5
        case .halfPixelSymmetric:
            let adjustment = Double(outputSize) / output
            let center = Double(input) / 2
            return center * (1 - adjustment) + (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel:
            return output > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners:
            return output == 1 ? 0 : x * Double(input - 1) / (output - 1)
        case .asymmetric:
            return x / scale
        case .tfHalfPixelForNearest:
            return (x + 0.5) / scale
        case .tfCropAndResize:
            // Operation order as ONNX's reference, since the outside test compares with the edges.
            let (start, end) = (roi![axis], roi![roi!.count / 2 + axis])
            let span = output == 1 ? (end - start) * Double(input - 1) / 2 : x * (end - start) * Double(input - 1) / (output - 1)
            return span + start * Double(input - 1)
        }
    }

    /// tf_crop_and_resize: whether output index `x` reads from off the input (its output is
    /// `extrapolationValue`). Always false in the other modes, which clamp to the edge.
    public func isExtrapolated(_ x: Int, axis: Int, input: Int, output: Int) -> Bool {
        guard coordinates == .tfCropAndResize else { return false }
        let c = sourceCoordinate(x, axis: axis, input: input, output: output)
        return c < 0 || c > Double(input - 1)
    }

    /// Whether an axis is left as it is: same extent, unit scale, and (cropping) the whole axis.
    public func isIdentity(axis: Int, input: Int, output: Int) -> Bool {
        guard input == output, scale(axis: axis, input: input, output: output) == 1 else { return false }
        guard coordinates == .tfCropAndResize, let roi else { return true }
        return roi[axis] == 0 && roi[roi.count / 2 + axis] == 1
    }

    /// Nearest source index of output index `x`, clamped into the axis.
    public func nearestIndex(_ x: Int, axis: Int, input: Int, output: Int) -> Int {
        let c = sourceCoordinate(x, axis: axis, input: input, output: output)
        let r: Double = switch rounding {
        case .floor: c.rounded(.down)
        case .ceil: c.rounded(.up)
        case .roundPreferFloor: c == c.rounded(.down) + 0.5 ? c.rounded(.down) : c.rounded()
        case .roundPreferCeil: c == c.rounded(.down) + 0.5 ? c.rounded(.up) : c.rounded()
        }
        return Int(min(max(r, 0), Double(input - 1)))
    }

    /// The source indices (edge-clamped) and weights that interpolate output index `x` in
    /// linear or cubic mode, as ONNX's reference takes them: the taps around its coordinate c
    /// counted from the left neighbour (so the fraction t is in (0, 1]) — 2 for linear, 4 for
    /// cubic (Keys' kernel with `cubicCoefficient`); with `antialias` and a scale s < 1 the
    /// distances are multiplied by s, so the kernel spans 1/s times as many taps, and the
    /// weights are normalized to sum to 1. With `excludeOutside`, taps outside the axis weigh
    /// 0 and the rest are renormalized. `outside`: tf_crop_and_resize's source is off the
    /// input (the output is `extrapolationValue`).
    public func taps(_ x: Int, axis: Int, input: Int, output: Int) -> (indices: [Int], weights: [Float], outside: Bool) {
        if isExtrapolated(x, axis: axis, input: input, output: output) { return ([], [], true) }
        let c = sourceCoordinate(x, axis: axis, input: input, output: output)
        let base = c == c.rounded(.down) ? Int(c) - 1 : Int(c.rounded(.down))
        let t = c - Double(base)
        let stretch = antialias ? min(scale(axis: axis, input: input, output: output), 1) : 1
        let reach: Double = mode == .cubic ? 2 : 1
        // The first tap's offset from `base`: 0 for linear, -1 for cubic, further out when stretched.
        let first = Int((-reach / stretch).rounded(.down)) + 1
        let a = cubicCoefficient
        var weights = (first..<(2 - first)).map { k -> Double in
            let d = abs((Double(k) - t) * stretch)
            if mode == .linear { return max(0, 1 - d) }
            if d <= 1 { return ((a + 2) * d - (a + 3)) * d * d + 1 }
            return d < 2 ? ((a * d - 5 * a) * d + 8 * a) * d - 4 * a : 0
        }
        let indices = (first..<(2 - first)).map { base + $0 }
        if antialias { weights = normalized(weights) }
        if excludeOutside {
            for (i, index) in indices.enumerated() where index < 0 || index >= input { weights[i] = 0 }
            weights = normalized(weights)
        }
        return (indices.map { min(max($0, 0), input - 1) }, weights.map(Float.init), false)
    }

    /// Weights divided by their sum (left as they are when it is 0).
    private func normalized(_ weights: [Double]) -> [Double] {
        let sum = weights.reduce(0, +)
        return sum == 0 ? weights : weights.map { $0 / sum }
    }

    /// Linear taps of output index `x`: two source indices (edge-clamped) and the weight of the second.
    public func linearTaps(_ x: Int, axis: Int, input: Int, output: Int) -> (Int, Int, Float) {
        var c = sourceCoordinate(x, axis: axis, input: input, output: output)
        c = min(max(c, 0), Double(input - 1))
        let lower = Int(c.rounded(.down))
        let upper = min(lower + 1, input - 1)
        return (lower, upper, Float(c - Double(lower)))
    }
}
