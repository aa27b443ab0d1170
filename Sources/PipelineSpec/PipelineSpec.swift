import Foundation
import Yams

/// A pipeline graph as written in YAML, validated and annotated with source positions.
///
/// The schema:
/// ```yaml
/// pipeline: classify                 # required, name
/// description: ...                   # optional
/// inputs:                            # required, at least one; map name -> kind
///   image: jpeg                      # kinds: jpeg (encoded bytes), image (u8 HWC), tensor
/// nodes:                             # required, ordered list
///   - name: preprocess               # required, unique, [A-Za-z_][A-Za-z0-9_]*
///     input: image                   # optional; default = previous node (or the only graph
///                                    # input for the first node). `inputs: [a, b]` for several.
///                                    # Refers to a graph input, an earlier node, or an earlier
///                                    # node's named output `node.output`
///     ops:                           # an op list, OR `model:`; exactly one of the two
///       - decode: {color: rgb}
///       - resize: {shorter: 256, interpolation: bilinear}
///       - center_crop: {size: 224}
///       - normalize: {scale: 0.00392156862745098, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
///       - layout: NCHW
///   - name: classifier
///     model: ../assets/models/light_resnet50.onnx   # relative to the YAML file's folder
///     model_input: gpu_0/data_0      # optional: the ONNX graph input that receives this
///                                    # node's input (default: the only non-initializer input)
///   - name: postprocess
///     ops:
///       - softmax: {axis: -1}        # an op without arguments may be a bare string: `- softmax`
///       - topk: {k: 5, labels: ../assets/imagenet_labels.txt}
/// outputs: [postprocess]             # optional; default: the last node
/// ```
///
/// Any node may add `queue: {max_batch: 8, max_delay_us: 2000, capacity: 64, workers: 1,
/// threads: 2}`: the edge into it becomes a batching queue, and it and every node after it
/// that depends on it run as a separate stage on batches of requests (Triton's dynamic
/// batcher). Keys: `max_batch` (1…4096, default 1), `max_delay_us` (how long the oldest
/// request waits for the batch to fill, 0…10000000, default 0: take what is queued),
/// `capacity` (queued requests before producers wait, max_batch…1000000, default 64),
/// `workers` (1…64, default 1), `threads` per worker (1…256; default: the runner's) and
/// `timeout_us` (a request that waited longer in the queue is dropped and fails, 503 when
/// served, as Triton's queue policy with `timeout_action: REJECT`; 0…600000000, default 0: none).
/// `broker: redis://host:port/stream` makes the edge a Redis stream instead of an in-process
/// queue: the node and everything after it run in `visionc worker` processes (`workers` and
/// `threads` are then each worker process's), `capacity` caps the stream's backlog (a front
/// end answers 503 beyond it), `timeout_us` bounds the wait for a result (default 60 s),
/// `claim_after_ms` (100…3600000, default 10000) is how long an entry may sit unacknowledged
/// with a worker before another takes it over, and `max_deliveries` (1…100, default 3) how
/// often it is delivered before it is dead-lettered. A broker edge carries any value with
/// `max_batch: 1`; batching across it needs a leading dim of 1, as in-process.
///
/// Ops and their arguments (each op item is a single-key mapping or a bare op name):
/// - `decode`: `color` (rgb | bgr | gray, default rgb), `orientation` (apply | ignore,
///   default apply), `max_pixels` (integer > 0, default 100000000), `on_corrupt`
///   (error | warn, default error)
/// - `resize`: exactly one of `size: [h, w]` (or `size: N` for N×N), `shorter: N`,
///   `longer: N`; `max_size: N` (> shorter) only with `shorter`; `interpolation`
///   (bilinear | nearest | area | lanczos, default bilinear)
/// - `center_crop`: `size: N` or `size: [h, w]`
/// - `crop`: `box: [y, x, h, w]`
/// - `convert_color`: `to` (rgb | bgr | gray), `from` (default rgb)
/// - `cast`: `to` (f32 | u8 | i32 | i64)
/// - `normalize`: `scale` (number ≠ 0, default 1), `mean` (number or list, default 0),
///   `std` (number or list, each > 0, default 1); two lists must have the same length
/// - `layout`: NCHW | NHWC | CHW | HWC
/// - `softmax`: `axis` (integer, default -1)
/// - `topk`: `k` (integer > 0), `axis` (integer, default -1), `labels` (optional path,
///   relative to the YAML file's folder)
///
/// Image sides (sizes, crop boxes) are at most 65535. Nodes may only read graph inputs
/// and earlier nodes, so the graph is acyclic by construction. Paths are resolved and
/// normalized but not checked to exist: the lowering to IR does that.
public struct PipelineSpec: Hashable, Sendable {
    public let name: String
    public let description: String?
    /// In the order written.
    public let inputs: [InputSpec]
    /// In the order written, which is a topological order.
    public let nodes: [NodeSpec]
    /// Values the pipeline returns, each produced by a node.
    public let outputs: [ValueReference]
    /// The YAML file's path, absolute and normalized.
    public let sourcePath: String

    public init(
        name: String, description: String?, inputs: [InputSpec], nodes: [NodeSpec], outputs: [ValueReference],
        sourcePath: String
    ) {
        self.name = name
        self.description = description
        self.inputs = inputs
        self.nodes = nodes
        self.outputs = outputs
        self.sourcePath = sourcePath
    }

    /// Reads and validates the pipeline YAML file at `path`.
    public static func load(path: String) throws(SpecError) -> PipelineSpec {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SpecError(
                at: SourceLocation(file: path, line: 1, column: 1),
                found: "the file cannot be read (\(error.localizedDescription))",
                expected: "a readable UTF-8 YAML file")
        }
        return try parse(yaml: text, path: path)
    }

    /// Validates pipeline YAML text.
    /// - Parameters:
    ///   - yaml: the file's contents.
    ///   - path: the file's path: it names the file in error messages, and relative
    ///     model and label paths are resolved against its folder.
    public static func parse(yaml: String, path: String) throws(SpecError) -> PipelineSpec {
        let reader = SpecReader(file: path)
        let root: Node?
        do {
            // libyaml rejects a byte-order mark that some editors write at the start.
            root = try Yams.compose(yaml: yaml.hasPrefix("\u{FEFF}") ? String(yaml.dropFirst()) : yaml)
        } catch let error as YamlError {
            throw SpecError(yamlError: error, file: path)
        } catch {
            throw SpecError(
                at: SourceLocation(file: path, line: 1, column: 1), found: "unreadable YAML (\(error))",
                expected: "valid YAML")
        }
        guard let root else {
            throw SpecError(
                at: SourceLocation(file: path, line: 1, column: 1), found: "the file has no YAML document",
                expected: "a mapping with keys pipeline, inputs, nodes")
        }
        let sourcePath = normalizedPath(path, relativeTo: FileManager.default.currentDirectoryPath)
        let parser = SpecParser(reader: reader, baseDirectory: parentDirectory(of: sourcePath))
        return try parser.pipeline(from: root, sourcePath: sourcePath)
    }
}

/// `path` made absolute against `base` (when relative) with `.`, `..` and repeated `/`
/// removed lexically, as Python's `os.path.normpath` does: symbolic links are not followed,
/// so the result does not depend on the file system.
func normalizedPath(_ path: String, relativeTo base: String) -> String {
    let absolute = path.hasPrefix("/") ? path : base + "/" + path
    var components: [Substring] = []
    for component in absolute.split(separator: "/") {
        switch component {
        case ".": continue
        case "..": _ = components.popLast()
        default: components.append(component)
        }
    }
    return "/" + components.joined(separator: "/")
}

/// The folder holding the file at the absolute, normalized `path`.
func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
    return String(path[..<slash])
}

/// A graph input: a name other nodes refer to, and what the caller passes in.
public struct InputSpec: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// Encoded JPEG bytes.
        case jpeg
        /// Decoded u8 pixels, HWC.
        case image
        /// Any tensor; its type comes from the node that reads it.
        case tensor
    }

    public let name: String
    public let kind: Kind
    public let location: SourceLocation

    public init(name: String, kind: Kind, location: SourceLocation) {
        self.name = name
        self.kind = kind
        self.location = location
    }
}

/// One node of the pipeline: a chain of ops, or an ONNX model.
public struct NodeSpec: Hashable, Sendable {
    public enum Body: Hashable, Sendable {
        /// Applied in order, each to the previous op's result (the first to the inputs).
        case ops([OpSpec])
        case model(ModelSpec)
    }

    public let name: String
    /// At least one; a model node has exactly one.
    public let inputs: [ValueReference]
    public let body: Body
    /// The batching queue on the edge into this node, if the YAML asks for one.
    public let queue: QueueSpec?
    /// Where the node's mapping starts.
    public let location: SourceLocation

    public init(name: String, inputs: [ValueReference], body: Body, queue: QueueSpec? = nil, location: SourceLocation) {
        self.name = name
        self.inputs = inputs
        self.body = body
        self.queue = queue
        self.location = location
    }
}

/// A batching queue in front of a node: how requests wait and batch, and who runs the batches.
public struct QueueSpec: Hashable, Sendable {
    public var maxBatch: Int
    public var maxDelayMicroseconds: Int
    public var capacity: Int
    public var workers: Int
    /// Intra-op threads per worker; nil keeps the runner's.
    public var threads: Int?
    /// How long a request may wait in the queue before it fails; 0: no limit.
    public var timeoutMicroseconds: Int
    /// Images of different sizes batch together, zero-padded at the bottom and right to the
    /// batch's largest (text lines of different widths); otherwise rows must agree in shape.
    public var padToLargest: Bool
    /// When set, the edge is a Redis stream: the node and everything after it run in
    /// `visionc worker` processes that consume it (see `BrokerSpec`).
    public var broker: BrokerSpec?
    public let location: SourceLocation

    public init(
        maxBatch: Int, maxDelayMicroseconds: Int, capacity: Int, workers: Int, threads: Int?, timeoutMicroseconds: Int = 0,
        padToLargest: Bool = false, broker: BrokerSpec? = nil, location: SourceLocation
    ) {
        self.broker = broker
        self.timeoutMicroseconds = timeoutMicroseconds
        self.padToLargest = padToLargest
        self.maxBatch = maxBatch
        self.maxDelayMicroseconds = maxDelayMicroseconds
        self.capacity = capacity
        self.workers = workers
        self.threads = threads
        self.location = location
    }
}

/// A queue edge carried by a Redis stream: where, and how the workers behind it recover.
public struct BrokerSpec: Hashable, Sendable {
    public var address: BrokerAddress
    /// A pending entry idle this long (its worker presumed dead) is taken over by another worker.
    public var claimAfterMilliseconds: Int
    /// Deliveries after which an entry is dead-lettered instead of run again.
    public var maxDeliveries: Int

    public init(address: BrokerAddress, claimAfterMilliseconds: Int = 10_000, maxDeliveries: Int = 3) {
        self.address = address
        self.claimAfterMilliseconds = claimAfterMilliseconds
        self.maxDeliveries = maxDeliveries
    }
}

/// An ONNX model inlined into the pipeline.
public struct ModelSpec: Hashable, Sendable {
    /// Absolute path, resolved against the YAML file's folder; not checked to exist.
    public let path: Located<String>
    /// The ONNX graph input fed by the node's input; nil means the model's only
    /// non-initializer input.
    public let input: Located<String>?

    public init(path: Located<String>, input: Located<String>?) {
        self.path = path
        self.input = input
    }
}

/// A value read by a node or returned by the pipeline: `name` or `node.output`.
public struct ValueReference: Hashable, Sendable, CustomStringConvertible {
    public enum Producer: Hashable, Sendable {
        case graphInput(String)
        /// `output` names one of several results (an ONNX output name, or a named
        /// result of the node's last op); nil means the node's only or first result.
        /// Whether the name exists is checked by the lowering, which knows the results.
        case node(String, output: String?)
    }

    public let producer: Producer
    /// Where the reference was written, or the reading node when it was implied.
    public let location: SourceLocation

    public init(_ producer: Producer, at location: SourceLocation) {
        self.producer = producer
        self.location = location
    }

    /// As written in YAML.
    public var description: String {
        switch producer {
        case .graphInput(let name), .node(let name, output: nil): name
        case .node(let name, output: let output?): "\(name).\(output)"
        }
    }
}

extension SpecError {
    /// A YAML syntax error at the position libyaml reports, with its message.
    init(yamlError: YamlError, file: String) {
        func location(_ mark: Mark) -> SourceLocation {
            SourceLocation(file: file, line: mark.line, column: mark.column)
        }
        func problem(_ context: YamlError.Context?, _ problem: String) -> String {
            let contextText = context.map { "\($0.text) at line \($0.mark.line), column \($0.mark.column): " } ?? ""
            return "invalid YAML: \(contextText)\(problem)"
        }
        let fileStart = SourceLocation(file: file, line: 1, column: 1)
        switch yamlError {
        case .scanner(let context, let text, let mark, _), .parser(let context, let text, let mark, _),
            .composer(let context, let text, let mark, _):
            self.init(at: location(mark), found: problem(context, text), expected: "valid YAML")
        case .reader(let text, let offset, _, let yaml):
            self.init(
                at: Self.location(ofCharacterOffset: offset, in: yaml, file: file) ?? fileStart,
                found: "unreadable text: \(text)", expected: "UTF-8 text")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            let found = duplicates.count == 1 ? "the key \(keys) appears" : "the keys \(keys) appear"
            self.init(
                at: location(context.mark), found: "\(found) more than once in this mapping",
                expected: "each key once")
        default:
            self.init(at: fileStart, found: "unreadable YAML (\(yamlError))", expected: "valid YAML")
        }
    }

    private static func location(ofCharacterOffset offset: Int?, in text: String, file: String) -> SourceLocation? {
        guard let offset, offset >= 0 else { return nil }
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return SourceLocation(file: file, line: line, column: column)
    }
}
