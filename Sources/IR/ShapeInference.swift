/// Result types of every op from its operand types and attributes. The same rules run
/// symbolically at compile time (unknown image sizes stay `?`) and concretely when the
/// runtime plans a request, so there is one definition of each op's shape.
public enum ShapeInference {
    /// - Parameters:
    ///   - constants: the tensor behind each operand when it is a constant (shape operands of
    ///     `reshape` and `constant_of_shape` need their values), else nil.
    public static func resultTypes(
        op: Op, inputs: [TensorType], attributes a: Attributes, constants: [Tensor?] = []
    ) throws -> [TensorType] {
        func constant(_ i: Int) -> Tensor? { i < constants.count ? constants[i] : nil }
        func arity(_ range: ClosedRange<Int>) throws {
            guard range.contains(inputs.count) else {
                let expected = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)...\(range.upperBound)"
                throw IRError.arity(op: op.rawValue, expected: expected, found: inputs.count)
            }
        }
        switch op {
        case .const:
            throw IRError.typeMismatch(op: op.rawValue, "a constant's type comes from its weight")

        case .decodeJPEG:
            try arity(1...1)
            guard inputs[0].dtype == .u8, inputs[0].rank == 1 else {
                throw IRError.typeMismatch(op: op.rawValue, "expected encoded bytes u8[n], found \(inputs[0])")
            }
            let color = a.string("color") ?? "rgb"
            guard let c = ImageGeometry.channels(of: color) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "color", "expected rgb, bgr or gray, found \(color)")
            }
            return [TensorType(.u8, [.symbol("h"), .symbol("w"), .known(c)], layout: .hwc)]

        case .letterbox, .padSpatial:
            return try imageResultTypes(op: op, inputs: inputs, attributes: a)

        case .divideByMax, .minMaxNormalize, .resizeLike, .cutout:
            return try maskResultTypes(op: op, inputs: inputs)

        case .resize:
            try arity(1...1)
            let x = try image(inputs[0], op)
            let (h, w) = try resizedDims(x, a)
            return [x.with(shape: [h, w, x.shape[2]])]

        case .crop:
            try arity(1...1)
            let x = try image(inputs[0], op)
            if let hk = x.shape[0].value, let wk = x.shape[1].value {
                let box = try ImageGeometry.cropBox(height: hk, width: wk, attributes: a)
                return [x.with(shape: [.known(box.h), .known(box.w), x.shape[2]])]
            }
            guard let size = ImageGeometry.cropSize(a) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "size", "expected box=[y,x,h,w] or size=[h,w]")
            }
            return [x.with(shape: [.known(size.h), .known(size.w), x.shape[2]])]

        case .convertColor:
            try arity(1...1)
            let x = try image(inputs[0], op)
            let from = a.string("from") ?? "rgb", to = a.string("to") ?? "rgb"
            guard let inC = ImageGeometry.channels(of: from), let outC = ImageGeometry.channels(of: to) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "to", "colors are rgb, bgr or gray; found \(from) → \(to)")
            }
            if let c = x.shape[2].value, c != inC {
                throw IRError.typeMismatch(op: op.rawValue, "\(from) has \(inC) channels but the input has \(c)")
            }
            return [x.with(shape: [x.shape[0], x.shape[1], .known(outC)])]

        case .cast:
            try arity(1...1)
            guard let name = a.string("to"), let dt = DType(rawValue: name) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "to", "expected a dtype (\(DType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            var t = inputs[0]
            t.dtype = dt
            return [t]

        case .normalize:
            try arity(1...1)
            let x = inputs[0]
            guard x.dtype == .f32 else {
                throw IRError.typeMismatch(op: op.rawValue, "expected f32 input (cast first), found \(x)")
            }
            guard let axis = x.layout.channelAxis, let channels = x.shape[axis].value else {
                throw IRError.typeMismatch(op: op.rawValue, "needs a layout with a known channel count, found \(x)")
            }
            for key in ["mean", "std"] {
                let n = a.floats(key)?.count ?? channels
                guard n == channels || n == 1 else {
                    throw IRError.invalidAttribute(op: op.rawValue, name: key, "has \(n) values for \(channels) channels")
                }
            }
            return [x]

        case .preprocess:
            try arity(1...1)
            let x = try image(inputs[0], op)
            guard x.dtype == .u8 else { throw IRError.typeMismatch(op: op.rawValue, "expected u8 input, found \(x)") }
            var h = x.shape[0], w = x.shape[1]
            if ImageGeometry.resizes(a) {
                (h, w) = try resizedDims(x, a)
            }
            let crop = Attributes(["size": a["crop_size"], "box": a["crop_box"]].compactMapValues { $0 })
            if !crop.isEmpty {
                if let hk = h.value, let wk = w.value {
                    let box = try ImageGeometry.cropBox(height: hk, width: wk, attributes: crop)
                    (h, w) = (.known(box.h), .known(box.w))
                } else if let size = ImageGeometry.cropSize(crop) {
                    (h, w) = (.known(size.h), .known(size.w))
                }
            }
            guard let map = a.ints("channels"), !map.isEmpty else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "channels", "expected the source channel of each output channel")
            }
            let c = Dim.known(map.count)
            guard let layoutName = a.string("layout"), let layout = Layout(rawValue: layoutName), layout != .none else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "layout", "expected NCHW, NHWC, CHW or HWC")
            }
            let shape: [Dim] = switch layout {
            case .nchw: [.known(1), c, h, w]
            case .nhwc: [.known(1), h, w, c]
            case .chw: [c, h, w]
            case .hwc, .none: [h, w, c]
            }
            return [TensorType(.f32, shape, layout: layout, placement: x.placement)]

        case .conv:
            // Operands: x, w, then optionally bias and (with `residual`) the tensor added after it.
            try arity(2...4)
            let x = inputs[0], wt = inputs[1]
            let channels = channelsLast(a) ? 3 : 1
            guard x.rank == 4, wt.rank == 4 else {
                throw IRError.typeMismatch(op: op.rawValue, "expected 2-D convolution on NCHW or NHWC, found \(x) and weight \(wt)")
            }
            let group = a.int("group", default: 1)
            if let c = x.shape[channels].value, let wc = wt.shape[1].value, c != wc * group {
                throw IRError.typeMismatch(op: op.rawValue, "input has \(c) channels, weight expects \(wc) × group \(group)")
            }
            let kernel = [wt.shape[2], wt.shape[3]]
            let spatial = try windowOutput(x: x, kernel: kernel.map { $0.value ?? 1 }, a: a, op: op)
            var t = x
            t.shape = channelsLast(a) ? [x.shape[0]] + spatial + [wt.shape[0]] : [x.shape[0], wt.shape[0]] + spatial
            // f32 unless `lower-precision` has the conv store bf16 for a bf16 consumer.
            t.dtype = a.string("result_dtype").flatMap(DType.init(rawValue:)) ?? wt.dtype
            if a.int("residual", default: 0) != 0 {
                // The residual is f32 even where the result is stored in bf16.
                guard inputs.count == 4, inputs[3].dtype == .f32, inputs[3].shape == t.shape else {
                    throw IRError.typeMismatch(
                        op: op.rawValue, "residual conv expects x, w, bias and an f32 residual of shape \(t.shape); found \(inputs.map(\.description).joined(separator: ", "))")
                }
            }
            return [t]

        case .maxPool, .averagePool:
            try arity(1...1)
            let x = inputs[0]
            guard x.rank == 4, let k = a.ints("kernel_shape"), k.count == 2 else {
                throw IRError.typeMismatch(op: op.rawValue, "expected 2-D pooling with kernel_shape [kh,kw] on NCHW or NHWC, found \(x)")
            }
            var t = x
            let spatial = try windowOutput(x: x, kernel: k, a: a, op: op)
            t.shape = channelsLast(a) ? [x.shape[0]] + spatial + [x.shape[3]] : [x.shape[0], x.shape[1]] + spatial
            // ONNX MaxPool's optional second result: where each maximum was (see Op.maxPool).
            if op == .maxPool, a.int("indices", default: 0) != 0 {
                guard !channelsLast(a) else {
                    throw IRError.invalidAttribute(op: op.rawValue, name: "indices", "max_pool's indices are defined on NCHW only")
                }
                return [t, TensorType(.i64, t.shape)]
            }
            return [t]

        case .globalAveragePool:
            try arity(1...1)
            let x = inputs[0]
            guard x.rank >= 3 else { throw IRError.typeMismatch(op: op.rawValue, "expected N,C,spatial… found \(x)") }
            let ones = Array(repeating: Dim.known(1), count: x.rank - 2)
            return [x.with(shape: channelsLast(a) ? [x.shape[0]] + ones + [x.shape[x.rank - 1]] : [x.shape[0], x.shape[1]] + ones)]

        case .batchNorm:
            try arity(5...5)
            return [inputs[0]]

        case .lrn:
            try arity(1...1)
            guard inputs[0].rank >= 3 else { throw IRError.typeMismatch(op: op.rawValue, "expected N,C,spatial… found \(inputs[0])") }
            guard let size = a.int("size"), size >= 1 else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "size", "expected a window of at least 1 channel")
            }
            return [inputs[0]]

        case .gemm:
            try arity(2...3)
            let A = inputs[0], B = inputs[1]
            guard A.rank == 2, B.rank == 2 else {
                throw IRError.typeMismatch(op: op.rawValue, "expected 2-D operands, found \(A) and \(B)")
            }
            let m = a.int("transA", default: 0) != 0 ? A.shape[1] : A.shape[0]
            let kA = a.int("transA", default: 0) != 0 ? A.shape[0] : A.shape[1]
            let kB = a.int("transB", default: 0) != 0 ? B.shape[1] : B.shape[0]
            let n = a.int("transB", default: 0) != 0 ? B.shape[0] : B.shape[1]
            if let ka = kA.value, let kb = kB.value, ka != kb {
                throw IRError.typeMismatch(op: op.rawValue, "inner dimensions differ: \(ka) vs \(kb)")
            }
            return [TensorType(A.dtype, [m, n])]

        case .matmul:
            try arity(2...2)
            let A = inputs[0], B = inputs[1]
            guard A.rank >= 2, B.rank >= 2 else {
                throw IRError.typeMismatch(op: op.rawValue, "expected operands of rank ≥ 2, found \(A) and \(B)")
            }
            if let ka = A.shape[A.rank - 1].value, let kb = B.shape[B.rank - 2].value, ka != kb {
                throw IRError.typeMismatch(op: op.rawValue, "inner dimensions differ: \(ka) vs \(kb)")
            }
            let batch = try broadcast(Array(A.shape.dropLast(2)), Array(B.shape.dropLast(2)), op)
            return [TensorType(A.dtype, batch + [A.shape[A.rank - 2], B.shape[B.rank - 1]])]

        case .relu, .clip, .sigmoid, .identity:
            try arity(op == .clip ? 1...3 : 1...1)
            return [inputs[0]]

        case .add, .sub, .mul, .div:
            try arity(2...2)
            var t = inputs[0].rank >= inputs[1].rank ? inputs[0] : inputs[1]
            t.shape = try broadcast(inputs[0].shape, inputs[1].shape, op)
            return [t]

        case .equal, .less, .greater, .lessOrEqual, .greaterOrEqual, .and, .or, .xor, .not, .select:
            return try logicalResultTypes(op: op, inputs: inputs)

        case .sum, .min, .max:
            guard !inputs.isEmpty else { throw IRError.arity(op: op.rawValue, expected: "≥ 1", found: 0) }
            var t = inputs[0]
            for other in inputs.dropFirst() { t.shape = try broadcast(t.shape, other.shape, op) }
            return [t]

        case .transpose:
            try arity(1...1)
            let x = inputs[0]
            let perm = a.ints("perm") ?? Array((0..<x.rank).reversed())
            guard perm.sorted() == Array(0..<x.rank) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "perm", "\(perm) is not a permutation of 0..<\(x.rank)")
            }
            var t = x
            t.shape = perm.map { x.shape[$0] }
            t.layout = permutedLayout(x.layout, perm)
            return [t]

        case .reshape:
            try arity(1...2)
            let x = inputs[0]
            guard let target = a.ints("shape") ?? constant(1)?.integers else {
                return [TensorType(x.dtype, (0..<(inputs[1].shape.first?.value ?? 0)).map { _ in .symbol("") })]
            }
            return [TensorType(x.dtype, try reshapeDims(x.shape, target, allowZero: a.int("allowzero", default: 0) != 0))]

        case .flatten:
            try arity(1...1)
            let x = inputs[0]
            var axis = a.int("axis", default: 1)
            if axis < 0 { axis += x.rank }
            guard (0...x.rank).contains(axis) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "axis", "\(axis) out of range for rank \(x.rank)")
            }
            return [TensorType(x.dtype, [try product(x.shape[..<axis]), try product(x.shape[axis...])])]

        case .unsqueeze:
            try arity(1...2)
            let x = inputs[0]
            guard let axesRaw = a.ints("axes") ?? constant(1)?.integers else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "axes", "must be known at compile time")
            }
            let outRank = x.rank + axesRaw.count
            let axes = axesRaw.map { $0 < 0 ? $0 + outRank : $0 }.sorted()
            guard Set(axes).count == axes.count, axes.allSatisfy({ (0..<outRank).contains($0) }) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "axes", "\(axesRaw) invalid for output rank \(outRank)")
            }
            var shape = x.shape
            for axis in axes { shape.insert(.known(1), at: axis) }
            var t = x
            t.shape = shape
            t.layout = (x.layout == .chw && axes == [0]) ? .nchw : (x.layout == .hwc && axes == [0]) ? .nhwc : .none
            return [t]

        case .squeeze:
            try arity(1...2)
            let x = inputs[0]
            let axesRaw = a.ints("axes") ?? constant(1)?.integers
                ?? x.shape.indices.filter { x.shape[$0] == .known(1) }
            let axes = Set(axesRaw.map { $0 < 0 ? $0 + x.rank : $0 })
            // A symbolic dim is checked when the runtime binds it (the PP-OCRv4 recognizer
            // squeezes the output of a Reshape whose target is computed from Shape).
            for axis in axes where !(x.shape.indices.contains(axis) && (x.shape[axis] == .known(1) || x.shape[axis].value == nil)) {
                throw IRError.invalidAttribute(op: op.rawValue, name: "axes", "axis \(axis) of \(x) is not 1")
            }
            // Dropping the batch axis of NCHW or NHWC leaves CHW or HWC (unsqueeze's rule reversed).
            let layout: Layout = axes != [0] ? .none : x.layout == .nchw ? .chw : x.layout == .nhwc ? .hwc : .none
            return [TensorType(x.dtype, x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] }, layout: layout)]

        case .concat:
            guard let first = inputs.first else { throw IRError.arity(op: op.rawValue, expected: "≥ 1", found: 0) }
            var axis = a.int("axis", default: 0)
            if axis < 0 { axis += first.rank }
            guard (0..<first.rank).contains(axis) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "axis", "\(axis) out of range for rank \(first.rank)")
            }
            for other in inputs.dropFirst() {
                guard other.rank == first.rank, other.dtype == first.dtype else {
                    throw IRError.typeMismatch(op: op.rawValue, "operands \(first) and \(other) differ in rank or dtype")
                }
                for i in 0..<first.rank where i != axis {
                    if let x = first.shape[i].value, let y = other.shape[i].value, x != y {
                        throw IRError.typeMismatch(op: op.rawValue, "operands \(first) and \(other) differ on axis \(i)")
                    }
                }
            }
            var t = first
            t.shape[axis] = inputs.map { $0.shape[axis] }.reduce(.known(0)) { acc, d in
                if let x = acc.value, let y = d.value { return .known(x + y) }
                return .symbol("")
            }
            return [t]

        case .shape:
            try arity(1...1)
            return [TensorType(.i64, [inputs[0].rank])]

        case .constantOfShape:
            try arity(1...1)
            let dtype = a.string("dtype").flatMap(DType.init(rawValue:)) ?? .f32
            guard let dims = constant(0)?.integers else {
                let rank = inputs[0].shape.first?.value ?? 0
                return [TensorType(dtype, Array(repeating: Dim.symbol(""), count: rank))]
            }
            guard dims.allSatisfy({ $0 >= 0 }) else { throw IRError.invalidShape("constant_of_shape with negative dims \(dims)") }
            return [TensorType(dtype, dims)]

        case .convTranspose, .hardSigmoid, .hardSwish, .sqrt, .round, .prelu, .pow, .slice, .gather, .interpolate, .reduceMean:
            return try modelOpResultTypes(op: op, inputs: inputs, attributes: a, constants: constants)

        case .softmax:
            try arity(1...1)
            return [inputs[0]]

        case .topk:
            try arity(1...1)
            let x = inputs[0]
            var axis = a.int("axis", default: -1)
            if axis < 0 { axis += x.rank }
            guard let k = a.int("k"), k > 0, (0..<x.rank).contains(axis) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "k", "expected k > 0 and a valid axis")
            }
            if let n = x.shape[axis].value, k > n {
                throw IRError.invalidAttribute(op: op.rawValue, name: "k", "k = \(k) exceeds the \(n) elements on axis \(axis)")
            }
            var shape = x.shape
            shape[axis] = .known(k)
            return [TensorType(x.dtype, shape), TensorType(.i64, shape)]

        case .queue:
            try arity(1...1)
            let x = inputs[0]
            let maxBatch = a.int("max_batch", default: 1)
            // A broker edge that does not batch carries any value (JPEG bytes to a worker).
            if a.string("broker") != nil && maxBatch == 1 && x.shape.first != .known(1) { return [x] }
            guard x.rank >= 1, x.shape[0] == .known(1) else {
                throw IRError.typeMismatch(op: op.rawValue, "a batching queue stacks requests on axis 0, so its operand needs a leading dim of 1, found \(x)")
            }
            let delay = a.int("max_delay_us", default: 0)
            let capacity = a.int("capacity", default: 64)
            guard maxBatch >= 1, delay >= 0, capacity >= maxBatch, a.int("workers", default: 1) >= 1, a.int("threads", default: 0) >= 0,
                  a.int("timeout_us", default: 0) >= 0 else {
                throw IRError.invalidAttribute(
                    op: op.rawValue, name: "max_batch",
                    "expected max_batch ≥ 1, max_delay_us ≥ 0, capacity ≥ max_batch, workers ≥ 1, threads ≥ 0, timeout_us ≥ 0")
            }
            var shape = x.shape
            shape[0] = .symbol(Self.queueBatchSymbol)
            return [x.with(shape: shape)]

        case .forEach:
            try arity(1...1)
            guard inputs[0].rank >= 1 else {
                throw IRError.typeMismatch(op: op.rawValue, "a fan-out runs once per row of axis 0, so its operand needs one, found \(inputs[0])")
            }
            return [inputs[0].with(shape: [.known(1)] + inputs[0].shape.dropFirst())]

        case .collect:
            try arity(1...64)
            return try inputs.map { input in
                guard input.rank >= 1 else {
                    throw IRError.typeMismatch(op: op.rawValue, "a fan-in concatenates the children's rows on axis 0, so each operand needs one, found \(input)")
                }
                return input.with(shape: [.symbol(Self.collectedRowsSymbol)] + input.shape.dropFirst())
            }

        case .tileBoxes:
            try arity(1...1)
            let x = try image(inputs[0], op)
            guard let size = a.ints("size"), size.count == 2, size.allSatisfy({ $0 > 0 }),
                  let rows = a.int("rows"), let cols = a.int("cols"), rows >= 1, cols >= 1, rows * cols <= 4096 else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "size", "expected size=[h,w] > 0 and 1 ≤ rows·cols ≤ 4096")
            }
            if let h = x.shape[0].value, let w = x.shape[1].value, h < size[0] || w < size[1] {
                throw IRError.invalidShape("tile_boxes: a \(size[0])×\(size[1]) window does not fit a \(h)×\(w) image")
            }
            return [TensorType(.f32, [.known(rows * cols), .known(4)])]

        case .cropBox:
            try arity(2...2)
            let x = try image(inputs[0], op)
            guard inputs[1].dtype == .f32, inputs[1].shape == [.known(1), .known(4)] else {
                throw IRError.typeMismatch(op: op.rawValue, "expected one box f32[1,4], found \(inputs[1])")
            }
            guard let size = a.ints("size"), size.count == 2, size.allSatisfy({ $0 > 0 && $0 <= 65_535 }) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "size", "expected size=[h,w], each 1…65535")
            }
            return [x.with(shape: [.known(size[0]), .known(size[1]), x.shape[2]])]

        case .cropResize:
            try arity(2...2)
            let x = try image(inputs[0], op)
            guard x.dtype == .u8, inputs[1].dtype == .f32, inputs[1].rank == 2, inputs[1].shape[0].value ?? 1 == 1,
                  inputs[1].shape[1].value.map({ $0 >= 4 }) ?? true else {
                throw IRError.typeMismatch(op: op.rawValue, "expected a u8 image and one box f32[1,≥4], found \(x) and \(inputs[1])")
            }
            guard let size = a.ints("size"), size.count == 2, size.allSatisfy({ $0 > 0 && $0 <= 65_535 }) else {
                throw IRError.invalidAttribute(op: op.rawValue, name: "size", "expected size=[h,w], each 1…65535")
            }
            return [x.with(shape: [.known(size[0]), .known(size[1]), x.shape[2]])]

        case .nms, .dflBoxes, .gridDecode, .topCells, .detections:
            return try detectionResultTypes(op: op, inputs: inputs, attributes: a)

        case .dbBoxes, .perspectiveCrop, .rotate180If, .ctcDecode, .mapBoxes, .textLines:
            return try textResultTypes(op: op, inputs: inputs, attributes: a)
        case .pyramidScales, .resizeByScale, .mtcnnPNetBoxes, .mtcnnMerge, .mtcnnCrop, .mtcnnRefine, .mtcnnFaces:
            return try faceResultTypes(op: op, inputs: inputs, attributes: a)
        }
    }

    /// The dim a batching queue's result has on axis 0: the size of the batch it formed.
    public static let queueBatchSymbol = "batch"
    /// The dim of a `collect` result's axis 0: how many rows the children gave.
    public static let collectedRowsSymbol = "rows"

    // MARK: - Helpers

    /// `t` when it is an HWC image (of `dtype`, when given); else an error saying `what` was expected.
    @discardableResult
    static func image(_ t: TensorType, _ op: Op, _ what: String = "an HWC image", dtype: DType? = nil) throws -> TensorType {
        guard t.rank == 3, t.layout == .hwc, dtype.map({ t.dtype == $0 }) ?? true else {
            throw IRError.typeMismatch(op: op.rawValue, "expected \(what), found \(t)")
        }
        return t
    }

    private static func resizedDims(_ x: TensorType, _ a: Attributes) throws -> (Dim, Dim) {
        if let h = x.shape[0].value, let w = x.shape[1].value {
            let s = try ImageGeometry.resizedSize(height: h, width: w, attributes: a)
            return (.known(s.h), .known(s.w))
        }
        if ImageGeometry.resizeIsFixed(a) {
            let s = try ImageGeometry.resizedSize(height: 1, width: 1, attributes: a)
            return (.known(s.h), .known(s.w))
        }
        return (.symbol(""), .symbol(""))
    }

    /// Spatial output dims of a sliding window (conv, pools): ONNX pads are [top, left, bottom, right].
    /// Whether a conv or pooling runs on channels-last data (`layout="NHWC"`, chosen by the
    /// `assign-layouts` pass); weights stay [M, C/group, KH, KW] either way.
    public static func channelsLast(_ a: Attributes) -> Bool { a.string("layout") == Layout.nhwc.rawValue }

    /// ONNX SAME padding: the output has ceil(input / stride) elements; the padding this
    /// needs is split evenly, the odd element going at the end (SAME_UPPER) or the start.
    /// Any number of spatial axes: begins, then ends.
    public static func samePads(input: [Int], kernel: [Int], strides: [Int], dilations: [Int], upper: Bool) -> [Int] {
        var begin: [Int] = [], end: [Int] = []
        for i in input.indices {
            let output = (input[i] + strides[i] - 1) / strides[i]
            let extent = (kernel[i] - 1) * dilations[i] + 1
            let total = max(0, (output - 1) * strides[i] + extent - input[i])
            begin.append(upper ? total / 2 : total - total / 2)
            end.append(upper ? total - total / 2 : total / 2)
        }
        return begin + end
    }

    /// The attributes of a conv or pooling with `auto_pad` (kept by the import when the
    /// input's size was unknown) replaced by the explicit `pads` it gives for `spatial`; the
    /// attributes unchanged without `auto_pad`. Plans call this, so kernels only see `pads`.
    public static func resolvingAutoPad(_ a: Attributes, spatial: [Int], kernel: [Int]) -> Attributes {
        guard let mode = a.string("auto_pad"), spatial.count == 2, kernel.count == 2 else { return a }
        var resolved = a
        resolved["auto_pad"] = nil
        let pads = samePads(
            input: spatial, kernel: kernel, strides: a.ints("strides") ?? [1, 1], dilations: a.ints("dilations") ?? [1, 1],
            upper: mode == "SAME_UPPER")
        if pads != [0, 0, 0, 0] { resolved["pads"] = .ints(pads) }
        return resolved
    }

    private static func windowOutput(x: TensorType, kernel: [Int], a: Attributes, op: Op) throws -> [Dim] {
        let firstSpatial = channelsLast(a) ? 1 : 2
        if a.string("auto_pad") != nil {
            guard let spatial = x.shape.dropFirst(firstSpatial).prefix(2).map(\.value) as [Int?] as? [Int] else {
                return [.symbol(""), .symbol("")]
            }
            return try windowOutput(x: x, kernel: kernel, a: resolvingAutoPad(a, spatial: spatial, kernel: kernel), op: op)
        }
        let strides = a.ints("strides") ?? [1, 1]
        let dilations = a.ints("dilations") ?? [1, 1]
        let pads = a.ints("pads") ?? [0, 0, 0, 0]
        let ceilMode = a.int("ceil_mode", default: 0) != 0
        guard strides.count == 2, dilations.count == 2, pads.count == 4, strides.allSatisfy({ $0 > 0 }) else {
            throw IRError.invalidAttribute(op: op.rawValue, name: "strides", "expected 2 strides, 2 dilations and 4 pads")
        }
        return try (0..<2).map { i -> Dim in
            guard let n = x.shape[firstSpatial + i].value else { return .symbol("") }
            let extent = (kernel[i] - 1) * dilations[i] + 1
            let padded = n + pads[i] + pads[i + 2] - extent
            guard padded >= 0 else {
                throw IRError.invalidShape("\(op.rawValue): window \(extent) larger than padded input \(n + pads[i] + pads[i + 2])")
            }
            var out = ceilMode ? (padded + strides[i] - 1) / strides[i] + 1 : padded / strides[i] + 1
            // ONNX drops a ceil-mode window that would start inside the end padding.
            if ceilMode, (out - 1) * strides[i] >= n + pads[i] { out -= 1 }
            return .known(out)
        }
    }

    /// NumPy broadcasting of two shapes.
    static func broadcast(_ a: [Dim], _ b: [Dim], _ op: Op) throws -> [Dim] {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: Dim.known(1), count: rank - a.count) + a
        let pb = Array(repeating: Dim.known(1), count: rank - b.count) + b
        return try zip(pa, pb).map { x, y in
            if x == y { return x }
            if x == .known(1) { return y }
            if y == .known(1) { return x }
            if x.value == nil || y.value == nil { return x.value == nil ? y : x }
            throw IRError.typeMismatch(op: op.rawValue, "shapes \(a) and \(b) do not broadcast")
        }
    }

    private static func product(_ dims: ArraySlice<Dim>) throws -> Dim {
        try knownProduct(dims).map(Dim.known) ?? .symbol("")
    }

    /// Product of the dims when all are known (nil otherwise); a product past `Int` is an
    /// error, not a trap, since dims can come from a model file.
    static func knownProduct<S: Sequence>(_ dims: S) throws -> Int? where S.Element == Dim {
        var p = 1
        for d in dims {
            guard let v = d.value else { return nil }
            let (r, overflow) = p.multipliedReportingOverflow(by: v)
            guard !overflow else { throw IRError.invalidShape("element count of \(Array(dims)) overflows") }
            p = r
        }
        return p
    }

    /// ONNX Reshape: 0 copies the input dim (unless allowzero), one -1 is inferred.
    static func reshapeDims(_ input: [Dim], _ target: [Int], allowZero: Bool) throws -> [Dim] {
        var out: [Dim] = []
        var inferAt: Int?
        for (i, t) in target.enumerated() {
            switch t {
            case -1:
                guard inferAt == nil else { throw IRError.invalidShape("reshape target \(target) has two -1") }
                inferAt = i
                out.append(.symbol(""))
            case 0 where !allowZero:
                guard i < input.count else { throw IRError.invalidShape("reshape target \(target): 0 at \(i) beyond input rank") }
                out.append(input[i])
            case let v where v >= 0:
                out.append(.known(v))
            default:
                throw IRError.invalidShape("reshape target \(target) has invalid dim \(t)")
            }
        }
        let total = try knownProduct(input)
        if let at = inferAt, let total {
            let rest = try knownProduct(out.enumerated().filter { $0.offset != at }.map(\.element))
            if let rest, rest > 0, total % rest == 0 { out[at] = .known(total / rest) } else if let rest {
                throw IRError.invalidShape("cannot reshape \(total) elements into \(target) (\(rest) per inferred unit)")
            }
        } else if let total, let want = try knownProduct(out), want != total {
            throw IRError.invalidShape("cannot reshape \(input) (\(total) elements) into \(target)")
        }
        return out
    }

    private static func permutedLayout(_ layout: Layout, _ perm: [Int]) -> Layout {
        guard layout != .none, layout.rawValue.count == perm.count else { return .none }
        let letters = Array(layout.rawValue)
        let permuted = String(perm.map { letters[$0] })
        // Height and width swapped: still an image in this layout, of the transposed picture.
        if permuted == String(letters.map { $0 == "H" ? "W" : $0 == "W" ? "H" : $0 }) { return layout }
        return Layout(rawValue: permuted) ?? .none
    }
}
