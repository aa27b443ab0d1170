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

    // MARK: Model: linear and normalization
    case conv
    case gemm
    case matmul
    case batchNorm = "batch_norm"

    // MARK: Model: elementwise
    case relu
    case clip
    case sigmoid
    case add
    case sub
    case mul
    case div
    /// n-ary sum (ONNX Sum).
    case sum

    // MARK: Model: pooling
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

    // MARK: Postprocess
    case softmax
    case topk

    public var group: OpGroup {
        switch self {
        case .const: .constant
        case .decodeJPEG: .decode
        case .resize, .crop, .convertColor, .cast, .normalize, .preprocess: .image
        case .conv, .gemm, .matmul: .linear
        case .batchNorm: .normalization
        case .relu, .clip, .sigmoid: .unaryElementwise
        case .add, .sub, .mul, .div, .sum: .binaryElementwise
        case .maxPool, .averagePool, .globalAveragePool: .pooling
        case .transpose, .reshape, .flatten, .unsqueeze, .squeeze, .concat, .identity: .movement
        case .shape, .constantOfShape: .shapeArithmetic
        case .softmax: .reduction
        case .topk: .selection
        }
    }

    /// Profile category of the op, as the paper's breakdown counts it.
    public var category: StageCategory {
        switch group {
        case .decode: .decode
        case .image: .preprocess
        case .selection: .postprocess
        default: self == .softmax ? .postprocess : .inference
        }
    }

    /// Whether this op can carry a fused activation in its epilogue (`activation` attribute).
    public var acceptsFusedActivation: Bool {
        switch self {
        case .conv, .gemm, .add, .sum: true
        default: false
        }
    }
}

/// Bands of ops, so a rewrite can match a family (tinygrad's GroupOp).
public enum OpGroup: String, Sendable, Hashable {
    case constant, decode, image, linear, normalization, unaryElementwise, binaryElementwise
    case pooling, movement, shapeArithmetic, reduction, selection
}

/// Where a node's time is counted in a profile.
public enum StageCategory: String, Sendable, Hashable, CaseIterable, Comparable {
    case decode, preprocess, transfer, inference, postprocess, queue, other

    public static func < (a: StageCategory, b: StageCategory) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
