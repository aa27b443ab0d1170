/// One item of a node's `ops:` list: which operation, with its arguments checked and
/// defaults applied, and where the op's name was written.
///
/// To add an op: add a case to `Operation` and its name to `Operation.name`, an
/// arguments type below, and a row in `OpSpec.parsers` (OpSpec+Parsing.swift).
public struct OpSpec: Hashable, Sendable {
    public let operation: Operation
    public let location: SourceLocation

    public init(_ operation: Operation, at location: SourceLocation) {
        self.operation = operation
        self.location = location
    }

    public enum Operation: Hashable, Sendable {
        case decode(DecodeSpec)
        case resize(ResizeSpec)
        case centerCrop(CenterCropSpec)
        case crop(CropSpec)
        case convertColor(ConvertColorSpec)
        case cast(CastSpec)
        case normalize(NormalizeSpec)
        case layout(Layout)
        case pad(PadSpec)
        case toTensor(ToTensorSpec)
        case softmax(SoftmaxSpec)
        case topk(TopKSpec)
        /// Fan-out: what follows runs once per row of the input (no arguments).
        case forEach
        /// Fan-in: the rows the input had in every child of the innermost fan-out (no arguments).
        case collect
        case nms(NMSSpec)
        case tileBoxes(TileBoxesSpec)
        /// The window of `size` at a run-time box's top-left corner: reads the image and the box.
        case cropBox(CenterCropSpec)
        /// Mean over one axis, keeping it as 1 (averages the rows a fan-in collected).
        case mean(axis: Int)
        /// Text boxes from a DB text detector's probability map: reads the map and the image
        /// the boxes are to be in (`inputs: [map, image]`).
        case dbBoxes(DBBoxesSpec)
        /// The upright crop of an image under a 4-corner box: reads the image and the box.
        case perspectiveCrop
        /// The image turned 180° when a classifier says so: reads the image and the
        /// classifier's probabilities.
        case rotate180If(Rotate180IfSpec)
        /// CTC greedy decoding of a recognizer's per-step class probabilities.
        case ctcDecode(CTCDecodeSpec)
        /// Boxes from the coordinates of one image to another's (reads boxes, from, to).
        case mapBoxes
        /// Recognized lines kept by score: reads boxes, token ids and scores.
        case textLines(minScore: Double)
        /// An image pyramid's scales for the image's size, one row each.
        case pyramidScales(minSize: Double, factor: Double, window: Int)
        /// A run-time box's region of an image resized to a fixed size: reads the image and the box.
        case cropResize(height: Int, width: Int, interpolation: OpSpec.Interpolation)
        /// The image resized by a run-time scale: reads the image and the scale.
        case resizeByScale(OpSpec.Interpolation)
        /// Each item divided by its own maximum (no arguments).
        case divideByMax
        /// Each item stretched to [0, 1] by its minimum and maximum (no arguments).
        case minMaxNormalize
        /// An image resized to another image's height and width: reads the image and the other.
        case resizeLike(OpSpec.Interpolation)
        /// RGBA from an image and a mask of its size (no arguments): reads the image and the mask.
        case cutout
        /// Height and width swapped (MTCNN's networks take transposed images).
        case transposeImage
        /// MTCNN: P-Net's boxes at one scale (reads regression, probability, scale).
        case mtcnnPNetBoxes(threshold: Double, iouThreshold: Double)
        /// MTCNN: the pyramid's candidates merged into boxes.
        case mtcnnMerge(iouThreshold: Double)
        /// MTCNN: the network input cut for one box (reads the image and the box).
        case mtcnnCrop(size: Int)
        /// MTCNN: boxes after R-Net (reads boxes, regression, probability).
        case mtcnnRefine(threshold: Double, iouThreshold: Double)
        /// MTCNN: the faces after O-Net (reads boxes, regression, landmarks, probability).
        case mtcnnFaces(threshold: Double, iouThreshold: Double)
        /// Boxes from a detector head's box-distribution maps (reads one map per level, or one
        /// for all levels).
        case dflBoxes(DetectionGridSpec)
        /// Boxes and scores from a YOLOX-style head's rows (reads one map per level, or one for all).
        case gridDecode(DetectionGridSpec, objectness: Bool)
        /// Per level, only the `k` best cells keep their scores (reads one score map per level).
        case topCells(k: Int)
        /// The boxes, scores and classes an `nms` kept (reads boxes, scores, kept).
        case detections(DetectionsSpec)

        /// The op's name as written in YAML.
        public var name: String {
            switch self {
            case .decode: "decode"
            case .resize: "resize"
            case .centerCrop: "center_crop"
            case .crop: "crop"
            case .convertColor: "convert_color"
            case .cast: "cast"
            case .normalize: "normalize"
            case .layout: "layout"
            case .pad: "pad"
            case .toTensor: "to_tensor"
            case .softmax: "softmax"
            case .topk: "topk"
            case .forEach: "for_each"
            case .collect: "collect"
            case .nms: "nms"
            case .tileBoxes: "tile_boxes"
            case .cropBox: "crop_box"
            case .mean: "mean"
            case .dbBoxes: "db_boxes"
            case .perspectiveCrop: "perspective_crop"
            case .rotate180If: "rotate_180_if"
            case .ctcDecode: "ctc_decode"
            case .mapBoxes: "map_boxes"
            case .textLines: "text_lines"
            case .cropResize: "crop_resize"
            case .pyramidScales: "pyramid_scales"
            case .resizeByScale: "resize_by_scale"
            case .divideByMax: "divide_by_max"
            case .minMaxNormalize: "min_max_normalize"
            case .resizeLike: "resize_like"
            case .cutout: "cutout"
            case .transposeImage: "transpose_image"
            case .mtcnnPNetBoxes: "mtcnn_pnet_boxes"
            case .mtcnnMerge: "mtcnn_merge"
            case .mtcnnCrop: "mtcnn_crop"
            case .mtcnnRefine: "mtcnn_refine"
            case .mtcnnFaces: "mtcnn_faces"
            case .dflBoxes: "dfl_boxes"
            case .gridDecode: "grid_decode"
            case .topCells: "top_cells"
            case .detections: "detections"
            }
        }

        /// How many values the op reads when it is the first of a node's list (later ops read
        /// the one value before them).
        public var operandCount: Int {
            switch self {
            case .nms, .cropBox, .dbBoxes, .perspectiveCrop, .rotate180If, .resizeByScale, .mtcnnCrop, .cropResize, .resizeLike, .cutout: 2
            case .mapBoxes, .textLines, .mtcnnPNetBoxes, .mtcnnRefine, .detections: 3
            case .mtcnnFaces: 4
            default: 1
            }
        }

        /// Whether the op, first in its node, reads any number (≥ 1) of values: the levels of a
        /// detector head, concatenated in the order `inputs:` lists them.
        public var readsLevels: Bool {
            switch self {
            case .dflBoxes, .gridDecode, .topCells: true
            default: false
            }
        }
    }

    public enum ColorSpace: String, Hashable, Sendable, CaseIterable {
        case rgb, bgr, gray
    }

    public enum Interpolation: String, Hashable, Sendable, CaseIterable {
        case bilinear, nearest
        /// OpenCV INTER_AREA: the box filter when downscaling.
        case area
        /// Pillow's LANCZOS (lanczos3, antialiased when downscaling).
        case lanczos
    }

    public enum ElementType: String, Hashable, Sendable, CaseIterable {
        case f32, u8, i32, i64
    }

    /// Axis order of an image or tensor: N batch, C channel, H height, W width.
    public enum Layout: String, Hashable, Sendable, CaseIterable {
        case nchw = "NCHW"
        case nhwc = "NHWC"
        case chw = "CHW"
        case hwc = "HWC"
    }

    /// Largest image side accepted anywhere in a spec: the largest a JPEG can have. It
    /// bounds what a size in the YAML can make the runtime allocate.
    public static let maxImageSide = 65_535
}

/// `decode`: JPEG bytes to u8 HWC pixels.
public struct DecodeSpec: Hashable, Sendable {
    public enum Orientation: String, Hashable, Sendable, CaseIterable {
        /// Rotate/flip by the EXIF orientation tag.
        case apply
        case ignore
    }

    public enum CorruptDataPolicy: String, Hashable, Sendable, CaseIterable {
        /// Fail the request.
        case error
        /// Keep the partially decoded image and report a warning.
        case warn
    }

    public static let defaultMaxPixels = 100_000_000

    public let color: OpSpec.ColorSpace
    public let orientation: Orientation
    /// Images whose header claims more pixels are refused before any allocation.
    public let maxPixels: Int
    public let onCorrupt: CorruptDataPolicy

    public init(
        color: OpSpec.ColorSpace = .rgb, orientation: Orientation = .apply,
        maxPixels: Int = DecodeSpec.defaultMaxPixels, onCorrupt: CorruptDataPolicy = .error
    ) {
        self.color = color
        self.orientation = orientation
        self.maxPixels = maxPixels
        self.onCorrupt = onCorrupt
    }
}

/// `resize`: to a fixed size, or scaling so one side gets a given length.
public struct ResizeSpec: Hashable, Sendable {
    public enum Target: Hashable, Sendable {
        /// Exactly `height` × `width`, aspect ratio not kept.
        case size(height: Int, width: Int)
        /// Shorter side becomes `length`, aspect ratio kept; when the longer side would
        /// then exceed `maxSize`, it becomes `maxSize` instead (torchvision semantics).
        case shorter(Int, maxSize: Int?)
        /// Longer side becomes `length`, aspect ratio kept.
        case longer(Int)
        /// Scaled down (never up) so the longer side is at most `length`, each side then
        /// truncated and rounded to a multiple of `multipleOf` (half to even, as PaddleOCR's
        /// `round`); unchanged when it already fits.
        case longerAtMost(Int, multipleOf: Int)
        /// Scaled up (never down) so the shorter side is at least `length`; as `longerAtMost`.
        case shorterAtLeast(Int, multipleOf: Int)
        /// Each side rounded to the nearest multiple (half to even; at least one multiple).
        case multipleOf(Int)
        /// Scaled to `height` rows keeping the aspect (PaddleOCR's `resize_norm_img`): on a
        /// canvas W = clamp(⌊height·w/h⌋, minWidth, maxWidth) wide, the image takes
        /// min(⌈height·w/h⌉, W) columns; a following `pad: {min_width: W}` fills the canvas.
        case height(Int, minWidth: Int, maxWidth: Int)
        /// Scaled to fit inside `height` × `width` with the aspect ratio kept, then padded to
        /// exactly that size (YOLO-style letterbox).
        case letterbox(height: Int, width: Int)
    }

    /// Whose bilinear resize to reproduce.
    public enum Match: String, Hashable, Sendable, CaseIterable {
        /// cv2.resize INTER_LINEAR: half-pixel centres, 2 taps, no antialiasing.
        case opencv
        /// PIL Image.resize BILINEAR: the triangle filter widened by the scale when downscaling.
        case pillow
    }

    /// Where a letterboxed image sits inside the padded frame.
    public enum Alignment: String, Hashable, Sendable, CaseIterable {
        case center
        case topLeft = "top_left"
    }

    public let target: Target
    public let interpolation: OpSpec.Interpolation
    /// Antialiased (Pillow) bilinear; only with `interpolation: bilinear`.
    public let antialias: Bool
    /// Letterbox only: the value of the padding, and where the image sits.
    public let padValue: Double
    public let alignment: Alignment

    public init(
        target: Target, interpolation: OpSpec.Interpolation = .bilinear, antialias: Bool = false,
        padValue: Double = 0, alignment: Alignment = .center
    ) {
        self.target = target
        self.interpolation = interpolation
        self.antialias = antialias
        self.padValue = padValue
        self.alignment = alignment
    }
}

/// `pad`: grows an HWC image at its bottom and right edge to a multiple of `multipleOf` or to
/// at least a size, or by explicit `[top, left, bottom, right]` amounts, with a constant per
/// channel (u8 pixels, or f32 values after `normalize`).
public struct PadSpec: Hashable, Sendable {
    public enum Amount: Hashable, Sendable {
        case multipleOf(Int)
        case pads(top: Int, left: Int, bottom: Int, right: Int)
        /// Bottom and right grow to at least this size (0: that axis is left alone).
        case atLeast(height: Int, width: Int)
    }

    public let amount: Amount
    /// One value, or one per channel.
    public let value: [Double]

    public init(amount: Amount, value: [Double] = [0]) {
        self.amount = amount
        self.value = value
    }
}

/// `to_tensor`: torchvision's ToTensor, u8 HWC to f32 in [0, 1] in `layout` (CHW by default).
public struct ToTensorSpec: Hashable, Sendable {
    public let layout: OpSpec.Layout

    public init(layout: OpSpec.Layout = .chw) {
        self.layout = layout
    }
}

/// `center_crop`: the centred `height` × `width` window.
public struct CenterCropSpec: Hashable, Sendable {
    public let height: Int
    public let width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }
}

/// `crop`: the window with top-left corner (`y`, `x`) and size `height` × `width`.
public struct CropSpec: Hashable, Sendable {
    public let y: Int
    public let x: Int
    public let height: Int
    public let width: Int

    public init(y: Int, x: Int, height: Int, width: Int) {
        self.y = y
        self.x = x
        self.height = height
        self.width = width
    }
}

/// `convert_color`: between colour spaces of u8 HWC images.
public struct ConvertColorSpec: Hashable, Sendable {
    public let from: OpSpec.ColorSpace
    public let to: OpSpec.ColorSpace

    public init(from: OpSpec.ColorSpace = .rgb, to: OpSpec.ColorSpace) {
        self.from = from
        self.to = to
    }
}

/// `cast`: element type conversion.
public struct CastSpec: Hashable, Sendable {
    public let to: OpSpec.ElementType

    public init(to: OpSpec.ElementType) {
        self.to = to
    }
}

/// `normalize`: `(x * scale - mean[c]) / std[c]` per channel `c`, in f32.
public struct NormalizeSpec: Hashable, Sendable {
    public let scale: Double
    /// One value per channel, or a single value for all channels.
    public let mean: [Double]
    /// One value per channel, or a single value for all channels; each > 0.
    public let std: [Double]

    public init(scale: Double = 1, mean: [Double] = [0], std: [Double] = [1]) {
        self.scale = scale
        self.mean = mean
        self.std = std
    }
}

/// `softmax` along `axis` (negative counts from the last axis).
public struct SoftmaxSpec: Hashable, Sendable {
    public let axis: Int

    public init(axis: Int = -1) {
        self.axis = axis
    }
}

/// `topk`: the `k` largest values along `axis` and their indices, optionally named by
/// the lines of a labels file.
public struct TopKSpec: Hashable, Sendable {
    public let k: Int
    public let axis: Int
    /// Absolute path, resolved against the YAML file's folder; not checked to exist.
    public let labels: Located<String>?

    public init(k: Int, axis: Int = -1, labels: Located<String>? = nil) {
        self.k = k
        self.axis = axis
        self.labels = labels
    }
}

/// `nms`: greedy non-maximum suppression of boxes `[n, 4]` (x1, y1, x2, y2) by scores `[n]`;
/// reads two values (`inputs: [boxes, scores]`), gives the kept indices, best first.
public struct NMSSpec: Hashable, Sendable {
    public enum Overlap: String, Hashable, Sendable, CaseIterable {
        case union, minimum
    }

    public let iouThreshold: Double
    public let overlap: Overlap
    /// Drop boxes scoring below it first (nil keeps all).
    public let scoreThreshold: Double?
    /// Keep at most this many (nil: no limit).
    public let maxOutput: Int?
    /// Boxes cover pixels x1…x2 inclusive (width x2 − x1 + 1), as MTCNN counts.
    public let pixelInclusive: Bool
    /// With scores `[n, classes]`: each class suppressed on its own, or all together.
    public let classes: Classes
    /// Only this many of the best boxes (per class when separate) take part (nil: all).
    public let candidates: Int?

    public enum Classes: String, Hashable, Sendable, CaseIterable {
        case separate, agnostic
    }

    public init(
        iouThreshold: Double = 0.5, overlap: Overlap = .union, scoreThreshold: Double? = nil, maxOutput: Int? = nil, pixelInclusive: Bool = false,
        classes: Classes = .separate, candidates: Int? = nil
    ) {
        self.iouThreshold = iouThreshold
        self.overlap = overlap
        self.scoreThreshold = scoreThreshold
        self.maxOutput = maxOutput
        self.pixelInclusive = pixelInclusive
        self.classes = classes
        self.candidates = candidates
    }
}

/// `tile_boxes`: `rows × cols` windows of `height × width` spread evenly over the image,
/// corners included (one centred window on an axis with one), as boxes `[rows·cols, 4]`.
public struct TileBoxesSpec: Hashable, Sendable {
    public let height: Int
    public let width: Int
    public let rows: Int
    public let cols: Int

    public init(height: Int, width: Int, rows: Int, cols: Int) {
        self.height = height
        self.width = width
        self.rows = rows
        self.cols = cols
    }
}

/// `db_boxes`: the DB (Differentiable Binarization) postprocess of PaddleOCR / RapidOCR:
/// pixels above `threshold` form regions; each region's minimum-area rectangle, kept when its
/// mean probability is at least `boxThreshold`, is grown by `unclipRatio` (area/perimeter
/// offset) and scaled to the image: boxes `[n, 8]` (4 corners clockwise from the top-left),
/// in reading order.
public struct DBBoxesSpec: Hashable, Sendable {
    public let threshold: Double
    public let boxThreshold: Double
    public let unclipRatio: Double
    public let maxCandidates: Int

    public init(threshold: Double = 0.3, boxThreshold: Double = 0.5, unclipRatio: Double = 1.6, maxCandidates: Int = 1000) {
        self.threshold = threshold
        self.boxThreshold = boxThreshold
        self.unclipRatio = unclipRatio
        self.maxCandidates = maxCandidates
    }
}

/// `rotate_180_if`: turns the image 180° when class `classIndex` is the classifier's best and
/// its probability is above `threshold` (PaddleOCR's text direction classifier: class 1 = 180).
public struct Rotate180IfSpec: Hashable, Sendable {
    public let classIndex: Int
    public let threshold: Double

    public init(classIndex: Int = 1, threshold: Double = 0.9) {
        self.classIndex = classIndex
        self.threshold = threshold
    }
}

/// `ctc_decode`: per step the best class; repeats merged, the blank (class 0) dropped; the
/// kept steps' classes (as 1-based indices into `labels`) and their mean probability.
public struct CTCDecodeSpec: Hashable, Sendable {
    public enum Labels: Hashable, Sendable {
        /// A metadata entry of the model whose output is decoded (PaddleOCR's `character`).
        case modelMetadata(key: String)
        /// One label per line of a file.
        case file(Located<String>)
    }

    public let labels: Labels
    /// Longest text kept per line (its token tensor's width).
    public let maxLength: Int

    public init(labels: Labels, maxLength: Int = 256) {
        self.labels = labels
        self.maxLength = maxLength
    }
}

/// The grids of a detector head's levels: one stride per level over a network input of
/// `inputHeight × inputWidth`, each cell's centre at (col, row) + `cellOffset` cells.
public struct DetectionGridSpec: Hashable, Sendable {
    public let strides: [Int]
    public let inputHeight: Int
    public let inputWidth: Int
    public let cellOffset: Double

    public init(strides: [Int], inputHeight: Int, inputWidth: Int, cellOffset: Double) {
        self.strides = strides
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.cellOffset = cellOffset
    }
}

/// `detections`: the kept boxes with their scores and classes, the classes named by `labels`.
public struct DetectionsSpec: Hashable, Sendable {
    public enum Labels: Hashable, Sendable {
        /// Class indices only.
        case none
        /// A metadata entry (one name per line) of the model of node `node`.
        case modelMetadata(node: Located<String>, key: String)
        /// One name per line of a file.
        case file(Located<String>)
    }

    public let labels: Labels

    public init(labels: Labels = .none) {
        self.labels = labels
    }
}
