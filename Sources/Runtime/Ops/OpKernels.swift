import IR
import Kernels

/// Builds the step of a node for one plan: the one place that maps an op to its implementation.
enum OpKernels {
    static func makeStep(_ n: NodeContext) throws -> StepBody {
        if n.node.backend == .dnnl { return try DNNLKernels.make(n) }
        return switch n.op {
        case .conv: try DepthwiseConvKernel.applies(n) ? DepthwiseConvKernel.make(n) : ConvKernel.make(n)
        case .convTranspose: try ConvTransposeKernel.make(n)
        case .hardSigmoid, .hardSwish, .sqrt, .round: try MathUnaryKernel.make(n)
        case .equal, .less, .greater, .lessOrEqual, .greaterOrEqual, .and, .or, .xor, .not: try LogicalKernel.make(n)
        case .select: try SelectKernel.make(n)
        case .prelu, .pow: try MathBinaryKernel.make(n)
        case .reduceMean: try ReduceMeanKernel.make(n)
        case .slice: try SliceKernel.make(n)
        case .gather: try GatherKernel.make(n)
        case .interpolate: try InterpolateKernel.make(n)
        case .gemm: try GemmKernel.make(n)
        case .matmul: try MatMulKernel.make(n)
        case .batchNorm: try BatchNormKernel.make(n)
        case .lrn: try LocalResponseNormKernel.make(n)
        case .relu, .clip, .sigmoid: try UnaryKernel.make(n)
        case .add, .sub, .mul, .div, .sum, .min, .max: try BinaryKernel.make(n)
        case .maxPool, .averagePool, .globalAveragePool: try PoolKernel.make(n)
        case .transpose: try TransposeKernel.make(n)
        case .concat: ConcatKernel.make(n)
        case .resize, .resizeLike: try ResizeKernel.make(n)
        case .divideByMax: try DivideByMaxKernel.make(n)
        case .minMaxNormalize: try MinMaxNormalizeKernel.make(n)
        case .cutout: try CutoutKernel.make(n)
        case .crop: try CropKernel.make(n)
        case .tileBoxes: try TileBoxesKernel.make(n)
        case .cropBox: try CropBoxKernel.make(n)
        case .cropResize: try CropResizeKernel.make(n)
        case .convertColor: try ConvertColorKernel.make(n)
        case .cast: CastKernel.make(n)
        case .normalize: try NormalizeKernel.make(n)
        case .preprocess: try PreprocessKernel.make(n)
        case .letterbox: try LetterboxKernel.make(n)
        case .padSpatial: try PadSpatialKernel.make(n)
        case .softmax: try SoftmaxKernel.make(n)
        case .topk: try TopKKernel.make(n)
        case .rotate180If: try Rotate180IfKernel.make(n)
        case .ctcDecode: try CTCDecodeKernel.make(n)
        case .mapBoxes: try MapBoxesKernel.make(n)
        case .dflBoxes: try DFLBoxesKernel.make(n)
        case .gridDecode: try GridDecodeKernel.make(n)
        case .topCells: try TopCellsKernel.make(n)
        case .pyramidScales: try PyramidScalesKernel.make(n)
        case .mtcnnCrop: try MTCNNCropKernel.make(n)
        case .const, .decodeJPEG, .reshape, .flatten, .squeeze, .unsqueeze, .identity, .shape, .constantOfShape:
            // The planner handles these itself (constants, decoding, views, plan-time folding).
            throw n.unsupported("has no run-time step (its operands must be known when the plan is built)")
        case .queue, .forEach, .collect, .nms, .dbBoxes, .perspectiveCrop, .textLines, .resizeByScale, .mtcnnPNetBoxes, .mtcnnMerge,
             .mtcnnRefine, .mtcnnFaces, .detections:
            throw n.unsupported("a stage boundary or a data-dependent op: StagedExecutable runs it between plans")
        }
    }

    /// Elements per parallel chunk below which splitting costs more than it saves.
    static let minElementsPerTask = 16_384
}

/// The `activation` attribute of conv, gemm, add and sum (`clip` reads `clip_min`/`clip_max`).
extension Activation {
    init(attributes a: Attributes) {
        switch a.string("activation") {
        case "relu": self = .relu
        case "clip": self = .clip(lo: a.float("clip_min", default: -.infinity), hi: a.float("clip_max", default: .infinity))
        default: self = .none
        }
    }
}

extension Array where Element == Int {
    /// Product of the elements (1 for an empty array).
    var product: Int { reduce(1, *) }
}
