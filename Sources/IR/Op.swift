/// Every operation the IR knows, pipeline and model ops in one enum so passes can cross
/// the boundary between preprocessing and the network. The raw value is the text-form name.
public enum Op: String, Sendable, Hashable, CaseIterable {
    // MARK: Constants
    /// A weight or folded constant: `%w : f32[64,3,7,7] = const @name`.
    case const

    // MARK: Image pipeline
    case decodeJPEG = "decode_jpeg"
    case resize
    case crop
    case convertColor = "convert_color"
    case cast
    case normalize
    /// Fused resize + crop + color + cast + normalize + layout: reads u8 HWC once, writes f32 once.
    case preprocess
    /// Aspect-keeping resize into a padded frame; second result: f32[4] scale and offset.
    case letterbox
    /// Constant padding of an image's two spatial axes (one value per channel).
    case padSpatial = "pad_spatial"
    /// x / max(x) over each item (an HWC or CHW image is one item, a batched value `[N, …]` has
    /// N), in f32; an item whose maximum is 0 (or not finite) is left as it is. rembg's U²-Net
    /// input scaling.
    case divideByMax = "divide_by_max"
    /// An HWC u8 image resized to the height and width of a second HWC image (`interpolation`):
    /// a mask brought back to the size of the photo it was computed from.
    case resizeLike = "resize_like"
    /// An RGB u8 image and a one-channel u8 mask of its size → RGBA: the mask as alpha, the
    /// colours scaled by it (rembg's cut-out, Pillow's composite over transparent black).
    case cutout

    // MARK: Model: linear and normalization
    case conv
    case gemm
    case matmul
    case batchNorm = "batch_norm"
    /// Transposed 2-D convolution (ONNX ConvTranspose), weight [C, M/group, KH, KW].
    case convTranspose = "conv_transpose"

    // MARK: Model: elementwise
    case relu
    case clip
    case sigmoid
    /// max(0, min(1, alpha·x + beta)).
    case hardSigmoid = "hard_sigmoid"
    /// x · max(0, min(1, x/6 + 1/2)).
    case hardSwish = "hard_swish"
    case sqrt
    case add
    case sub
    case mul
    case div
    /// n-ary sum (ONNX Sum).
    case sum
    /// n-ary elementwise minimum and maximum with broadcasting (ONNX Min, Max); NaN wins.
    case min
    case max
    /// x where x ≥ 0, else slope·x; the slope broadcasts onto x.
    case prelu
    case pow
    /// Round to the nearest integer, ties to even (ONNX Round; QuantizeLinear's rounding).
    case round

    // MARK: Model: comparison and logic
    /// Elementwise comparisons with NumPy broadcasting: `bool` results. Operands share a dtype.
    case equal
    case less
    case greater
    case lessOrEqual = "less_or_equal"
    case greaterOrEqual = "greater_or_equal"
    /// Elementwise logic on `bool` operands with broadcasting; `not` has one operand.
    case and
    case or
    case xor
    case not
    /// ONNX Where: the second operand where the `bool` condition (first) holds, else the
    /// third; the three broadcast.
    case select = "where"

    // MARK: Model: pooling
    /// With `indices=1` a second result i64 holds each maximum's index into the whole input,
    /// flattened row-major (N, C, H, W), or (N, C, W, H) with `storage_order=1` (ONNX MaxPool).
    case maxPool = "max_pool"
    case averagePool = "average_pool"
    case globalAveragePool = "global_average_pool"

    // MARK: Movement and shape
    case transpose
    case reshape
    case flatten
    case unsqueeze
    case squeeze
    case concat
    case shape
    case constantOfShape = "constant_of_shape"
    case identity
    /// Strided window along some axes (ONNX Slice with constant starts/ends/axes/steps).
    case slice
    /// Elements of the data at run-time indices along one axis (ONNX Gather).
    case gather
    /// ONNX Resize of an N-D f32 tensor (nearest, linear, cubic; antialias; tf_crop_and_resize
    /// with `roi` and `extrapolation_value`, see `Interpolation`); `resize` is the u8 image op.
    case interpolate

    // MARK: Postprocess
    case softmax
    case topk
    /// Mean over `axes` (all when absent), keeping them as 1 when `keepdims`.
    case reduceMean = "reduce_mean"
    /// (x − min) / (max − min) over each item (as `divide_by_max` counts them), in f32: a
    /// predicted mask stretched to [0, 1]; an item with one value throughout becomes 0.
    case minMaxNormalize = "min_max_normalize"
    /// Local response normalization across channels (ONNX LRN, AlexNet/GoogLeNet): on
    /// `[N, C, …]`, x / (bias + alpha/size · Σ x² over the `size` channels around c)^beta.
    case lrn

    // MARK: Scheduling
    /// A batching queue edge: each request's value waits here, and the nodes after it run on
    /// batches of up to `max_batch` requests stacked on axis 0 (`[1, …]` in, `[?batch, …]`
    /// out), on their own `workers` with `threads` each. Where the graph is cut into stages.
    case queue
    /// Fan-out: the nodes that depend on its result run once per row of its operand (a
    /// child), each seeing one row `[1, …]` of `[?n, …]`. Closed by a `collect`.
    case forEach = "for_each"
    /// Fan-in: closes the innermost `for_each`; for each operand, the rows it had in every child
    /// (one each after a `[1, …]` row, any number after a data-dependent op), concatenated
    /// on axis 0 in child order (`[?rows, …]`, 0 rows for no child).
    case collect

    // MARK: Regions
    /// `rows × cols` windows of `size` spread evenly over an HWC image, corners included
    /// (one centred window on an axis with one): `f32[rows·cols, 4]` as x1, y1, x2, y2.
    case tileBoxes = "tile_boxes"
    /// The `size` window of an HWC image whose top-left corner is a box's (x1, y1), the box
    /// `f32[1,4]` given at run time (one row of `tile_boxes`, or any box source).
    case cropBox = "crop_box"
    /// The region of an HWC u8 image under a run-time box `f32[1,≥4]` (x1, y1, x2, y2; clipped
    /// to the image, outward to whole pixels) resized to `size` (`interpolation`).
    case cropResize = "crop_resize"

    // MARK: Vision postprocess
    /// Non-maximum suppression of boxes `f32[?n,4]` (x1, y1, x2, y2) by `f32[?n]` scores:
    /// the indices `i64[?kept]` of the kept boxes, best first. Its result size depends on
    /// the data, so the runtime runs it between plans.
    case nms
    /// Distribution-focal box decode (GFL, PicoDet, YOLOv8 heads) over the grids of one or more
    /// levels: reads box-distribution maps `f32[1,N,4·B]` (operands concatenated on the cell
    /// axis, levels in `strides` order, cells row-major); per cell the four distances to its
    /// sides are the expectation of a softmax over `B` bins, times the level's stride, from
    /// the cell centre `(col + cell_offset, row + cell_offset)·stride`: `f32[N,4]` x1, y1, x2, y2
    /// in the network input's pixels (`input_size` [h, w]).
    case dflBoxes = "dfl_boxes"
    /// Anchor-free grid decode (YOLOX, YOLOv5-style heads without anchors): rows
    /// `f32[1,N,4+1+C]` (x, y, w, h, objectness, classes; or without the objectness column)
    /// over the levels' grids: centre `(p + cell + cell_offset)·stride`, size `exp(p)·stride` →
    /// boxes `f32[N,4]` x1, y1, x2, y2 and scores `f32[N,C]` (objectness × class).
    case gridDecode = "grid_decode"
    /// Per operand (one level's scores `f32[1,N,C]`), only the `k` cells with the best class
    /// score keep their scores, the rest become 0; operands concatenated: `f32[ΣN,C]`.
    case topCells = "top_cells"
    /// The rows an `nms` kept: reads boxes `f32[n,4]`, scores `f32[n,C]` (or `[n]`) and the
    /// kept `i64[k,2]` (box, class) or `i64[k]` → boxes `f32[k,4]`, scores `f32[k]`, classes
    /// `i64[k]`. Data-dependent.
    case detections

    // MARK: Text
    /// DB text-detector postprocess (PaddleOCR / RapidOCR): a probability map `f32[1,1,H,W]`
    /// and the HWC image the boxes belong to → boxes `f32[?n,8]` (4 corners clockwise from
    /// the top-left, in that image's pixels), in reading order. Data-dependent.
    case dbBoxes = "db_boxes"
    /// The upright crop under a 4-corner box `f32[1,8]` of an HWC u8 image (OpenCV's
    /// perspective warp, PaddleOCR's `get_rotate_crop_image`): `u8[?h,?w,C]`. Data-dependent.
    case perspectiveCrop = "perspective_crop"
    /// The HWC image turned 180° when `class` is the best of the probabilities `f32[1,C]` and
    /// above `threshold`; else unchanged.
    case rotate180If = "rotate_180_if"
    /// CTC greedy decode of `f32[N,T,C]` per-step probabilities: tokens `i32[N,max_length]`
    /// (class indices of the kept steps, −1 after the end) and scores `f32[N]` (their mean
    /// probability). The labels naming the classes live outside the IR, with the pipeline's
    /// outputs (as a `topk`'s do).
    case ctcDecode = "ctc_decode"
    /// Boxes `f32[n,2k]` (x, y pairs) scaled from the pixels of one HWC image to another's
    /// (by the ratio of their sizes) and clipped to the second: reads boxes, from, to.
    case mapBoxes = "map_boxes"
    /// The text lines whose score is at least `min_score`: reads boxes `f32[n,8]`, tokens
    /// `i32[n,L]`, scores `f32[n]`; the kept rows of each, in order. Data-dependent.
    case textLines = "text_lines"

    // MARK: Faces (MTCNN)
    /// The scales of an image pyramid for an HWC image: `f32[k,1]`, m·factorᵏ with
    /// m = window / min_size, while the scaled shorter side holds `window`.
    case pyramidScales = "pyramid_scales"
    /// An HWC u8 image resized to ⌈h·s⌉ × ⌈w·s⌉ for a run-time scale `f32[1,1]`. Data-dependent.
    case resizeByScale = "resize_by_scale"
    /// P-Net's cells at or above `threshold` at one scale, NMS'd: `f32[?n,9]` (box, score,
    /// 4 regression offsets). Reads regression, probability, scale. Data-dependent.
    case mtcnnPNetBoxes = "mtcnn_pnet_boxes"
    /// The pyramid's candidates `[?n,9]` merged: NMS across scales, regressed, squared up,
    /// truncated: `f32[?m,5]` (x1, y1, x2, y2, score). Data-dependent.
    case mtcnnMerge = "mtcnn_merge"
    /// The `size`² network input cut for one box `f32[1,5]` (1-based inclusive, zero outside
    /// the image, area-resized in float): f32 HWC pixel values.
    case mtcnnCrop = "mtcnn_crop"
    /// After R-Net: boxes above `threshold`, NMS, regressed, squared up, truncated. Reads boxes,
    /// regression, probability. Data-dependent.
    case mtcnnRefine = "mtcnn_refine"
    /// After O-Net: boxes `f32[?f,4]`, scores `f32[?f]`, landmarks `f32[?f,10]`. Reads boxes,
    /// regression, landmarks, probability. Data-dependent.
    case mtcnnFaces = "mtcnn_faces"

    public var group: OpGroup {
        switch self {
        case .const: .constant
        case .decodeJPEG: .decode
        case .resize, .crop, .convertColor, .cast, .normalize, .preprocess, .letterbox, .padSpatial, .tileBoxes, .cropBox, .cropResize: .image
        case .divideByMax, .resizeLike, .cutout: .image
        case .conv, .convTranspose, .gemm, .matmul: .linear
        case .batchNorm, .lrn: .normalization
        case .relu, .clip, .sigmoid, .hardSigmoid, .hardSwish, .sqrt, .round: .unaryElementwise
        case .equal, .less, .greater, .lessOrEqual, .greaterOrEqual, .and, .or, .xor, .not, .select: .logical
        case .add, .sub, .mul, .div, .sum, .min, .max, .prelu, .pow: .binaryElementwise
        case .maxPool, .averagePool, .globalAveragePool: .pooling
        case .transpose, .reshape, .flatten, .unsqueeze, .squeeze, .concat, .identity, .slice, .gather, .interpolate: .movement
        case .shape, .constantOfShape: .shapeArithmetic
        case .softmax, .reduceMean, .minMaxNormalize: .reduction
        case .topk: .selection
        case .queue, .forEach, .collect: .scheduling
        case .nms, .dbBoxes, .ctcDecode, .mapBoxes, .textLines: .selection
        case .dflBoxes, .gridDecode, .topCells, .detections: .selection
        case .perspectiveCrop, .rotate180If, .resizeByScale, .mtcnnCrop: .image
        case .pyramidScales, .mtcnnPNetBoxes, .mtcnnMerge, .mtcnnRefine, .mtcnnFaces: .selection
        }
    }

    /// Profile category of the op, as the paper's breakdown counts it.
    public var category: StageCategory {
        // A mask's way back to the photo's size is postprocessing, though an image op.
        if [.softmax, .minMaxNormalize, .resizeLike, .cutout].contains(self) { return .postprocess }
        return switch group {
        case .decode: .decode
        case .image: .preprocess
        case .selection: .postprocess
        case .scheduling: .queue
        default: .inference
        }
    }

    /// Whether the op's result shape depends on its operands' values, not only their shapes:
    /// a plan cannot size it, so the runtime runs it between plans.
    public var hasDataDependentShape: Bool {
        [
            .nms, .dbBoxes, .perspectiveCrop, .textLines, .resizeByScale, .mtcnnPNetBoxes, .mtcnnMerge, .mtcnnRefine, .mtcnnFaces,
            .detections,
        ].contains(self)
    }

    /// Whether this op can carry a fused activation in its epilogue (`activation` attribute).
    public var acceptsFusedActivation: Bool {
        switch self {
        case .conv, .convTranspose, .gemm, .add, .sum: true
        default: false
        }
    }
}

/// Bands of ops, so a rewrite can match a family (tinygrad's GroupOp).
public enum OpGroup: String, Sendable, Hashable {
    case constant, decode, image, linear, normalization, unaryElementwise, binaryElementwise
    /// Comparisons, boolean logic and `where`: the ops that make and read `bool` values.
    case logical
    case pooling, movement, shapeArithmetic, reduction, selection, scheduling
}

/// Where a node's time is counted in a profile.
public enum StageCategory: String, Sendable, Hashable, CaseIterable, Comparable {
    case decode, preprocess, transfer, inference, postprocess, queue, other

    public static func < (a: StageCategory, b: StageCategory) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
