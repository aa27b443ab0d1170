import Driver
import Runtime
import Foundation
import Kernels
import PipelineSpec
import Yams

/// What a record value between stages holds. Each stage op declares the kinds it reads and
/// the kind it writes, so a stage graph that wires an image where text crops are expected
/// is rejected when the YAML is loaded, with the stage and input named, not at run time.
public indirect enum ValueKind: Sendable, Equatable, CustomStringConvertible {
    /// Encoded JPEG bytes: the request's input.
    case jpeg
    /// A decoded 8-bit image, interleaved channels.
    case image
    /// A face candidate cut to an R-Net or O-Net input.
    case faceCandidate
    /// A candidate with R-Net's or O-Net's probability, regression and landmarks.
    case faceScore
    /// The final faces of an image.
    case faces
    /// What a gather collects: one value per fan-out child, in child order.
    case list(ValueKind)

    public var description: String {
        switch self {
        case .jpeg: "jpeg"
        case .image: "image"
        case .faceCandidate: "face_candidate"
        case .faceScore: "face_score"
        case .faces: "faces"
        case .list(let element): "[\(element)]"
        }
    }
}

/// What one stage worker is made from: for a model stage, the model's path, the worker's
/// intra-op thread count and how the model is compiled (the command's `-O`, `--fidelity`,
/// `--backends`).
public struct StageWorkerContext: Sendable {
    public var modelPath: String?
    public var threads: Int
    public var options: CompileOptions

    /// The stage's model compiled with the context's options (an error when the stage names none).
    func modelRunner(op: String) throws -> ModelRunner {
        try ModelRunner(path: requireModel(modelPath, op: op), threads: threads, options: options)
    }
}

/// Makes one stage worker.
public typealias StageWorkerFactory = @Sendable (_ context: StageWorkerContext) throws -> any StageWorker

/// A kind of stage a pipeline file can use (`op:` in its `stages` list): its role in the
/// graph, the value kinds it reads and writes, whether it runs a model, its parameters, and
/// how to make its workers.
public struct StageOp: Sendable {
    public let name: String
    /// One line for `visionc ops` and the stage dump.
    public let summary: String
    public let role: Stage.Role
    /// The kinds of the values named by the stage's `inputs`, in order. A gather reads one
    /// value of any kind.
    public let inputs: [ValueKind]
    /// What the stage writes under its name: per record (map), per child (expand). Unused for
    /// the gather, whose value is the list of what it collects (`[kind of its input]`).
    public let output: ValueKind
    public let usesModel: Bool
    /// Parameter names with their meaning and default, for validation and help.
    public let parameters: [(name: String, help: String)]
    /// Reads the stage's parameters (errors name the file and line) and returns the factory
    /// of its workers; nil for a gather, which has no worker.
    let configure: (@Sendable (StageParameters) throws -> StageWorkerFactory)?

    init(
        _ name: String, _ summary: String, role: Stage.Role, inputs: [ValueKind], output: ValueKind, usesModel: Bool = false,
        parameters: [(name: String, help: String)] = [], configure: (@Sendable (StageParameters) throws -> StageWorkerFactory)?
    ) {
        self.name = name
        self.summary = summary
        self.role = role
        self.inputs = inputs
        self.output = output
        self.usesModel = usesModel
        self.parameters = parameters
        self.configure = configure
    }

    /// Every op a pipeline file can name.
    public static let catalog: [StageOp] = [decodeJPEG, gather] + FacePipeline.ops

    public static func named(_ name: String) -> StageOp? { catalog.first { $0.name == name } }

    static let gather = StageOp(
        "gather", "fan-in: the input of every child of the enclosing fan-out, in child order (empty when it had none)",
        role: .gather, inputs: [], output: .image, configure: nil)

    static let decodeJPEG = StageOp(
        "decode_jpeg", "TurboJPEG decode to 8-bit RGB or BGR", role: .map, inputs: [.jpeg], output: .image,
        parameters: [
            ("color", "rgb (default) or bgr: the channel order the models expect"),
            ("max_pixels", "refuse larger images, checked from the header before any allocation (100000000)"),
            ("orientation", "apply (default: EXIF orientation) or ignore"),
        ],
        configure: { parameters in
            let options = JPEGDecodeOptions(
                color: try parameters.choice("color", among: ["rgb", "bgr"], default: "rgb") == "bgr" ? .bgr : .rgb,
                pixelLimit: try parameters.integer("max_pixels", default: JPEGDecodeOptions.defaultPixelLimit, in: 1...1_000_000_000),
                applyOrientation: try parameters.choice("orientation", among: ["apply", "ignore"], default: "apply") == "apply")
            return { _ in try JPEGDecodeWorker(options: options) }
        })
}

/// Decodes JPEG bytes (`[UInt8]`) into an `Image`; one TurboJPEG handle per worker.
final class JPEGDecodeWorker: StageWorker {
    private let decoder: JPEGDecoder
    private let options: JPEGDecodeOptions

    init(options: JPEGDecodeOptions) throws {
        decoder = try JPEGDecoder()
        self.options = options
    }

    func process(_ batch: [[any Sendable]]) throws -> [any Sendable] {
        try batch.map { values in
            guard let bytes = values[0] as? [UInt8] else { throw VisionError("the image input must be encoded JPEG bytes") }
            let (pixels, result) = try bytes.withUnsafeBytes { try decoder.decode($0, options: options) }
            return try Image(width: result.width, height: result.height, channels: result.channels, pixels: pixels)
        }
    }
}

/// One stage's `params:` mapping with typed, located readers. Keys are checked against the
/// op's declared parameters before `configure` runs.
public struct StageParameters {
    let file: String
    let stage: String
    let values: [String: Node]
    let owner: Node

    private func location(_ node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    private func error(_ key: String, _ node: Node, expected: String) -> SpecError {
        SpecError(at: location(node), found: "stage '\(stage)' parameter '\(key)' is '\(node.string ?? "\(node)")'", expected: expected)
    }

    /// A number in `range`, or `value` when the key is absent.
    func number(_ key: String, default value: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let node = values[key] else { return value }
        guard let parsed = node.float, range.contains(parsed) else {
            throw error(key, node, expected: "a number in \(range.lowerBound)…\(range.upperBound)")
        }
        return parsed
    }

    /// An integer in `range`, or `value` when the key is absent.
    func integer(_ key: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let node = values[key] else { return value }
        guard let parsed = node.int, range.contains(parsed) else {
            throw error(key, node, expected: "an integer in \(range.lowerBound)…\(range.upperBound)")
        }
        return parsed
    }

    /// One of `choices`, or `value` when the key is absent.
    func choice(_ key: String, among choices: [String], default value: String) throws -> String {
        guard let node = values[key] else { return value }
        guard let parsed = node.string, choices.contains(parsed) else {
            throw error(key, node, expected: "one of \(choices.joined(separator: ", "))")
        }
        return parsed
    }

    /// A failure of a parameter combination the op checks itself.
    func invalid(_ found: String, expected: String) -> SpecError {
        SpecError(at: location(owner), found: "stage '\(stage)': \(found)", expected: expected)
    }
}

/// A stage's input as the type the op before it produces (a wrong record value, e.g. from a
/// caller feeding stages directly, is an error, not a crash).
func typed<T>(_ value: any Sendable, _ op: String) throws -> T {
    guard let typed = value as? T else { throw VisionError("op '\(op)' expected a \(T.self), got a \(type(of: value))") }
    return typed
}

/// The model path a model op's factory was given (the loader guarantees one; a direct caller
/// may not).
func requireModel(_ path: String?, op: String) throws -> String {
    guard let path else { throw VisionError("op '\(op)' runs a model, and its stage names none") }
    return path
}
