import Foundation
import IR
import SwiftProtobuf

/// An ONNX model file, decoded and checked enough to describe its interface. Importing it
/// into IR (`inline(into:binding:)`, `standaloneGraph(inputShapes:)`) converts its nodes.
public struct ONNXModel: Sendable {
    /// Protobuf's own limit on a message; a larger file cannot be a valid model.
    static let maxFileSize = 2 << 30

    /// The file the model was loaded from (used in every error message).
    public let path: String
    /// Opset version of the default ONNX domain: the op semantics the nodes follow.
    public let opsetVersion: Int
    public let producerName: String
    /// The model's `metadata_props`.
    public let metadata: [String: String]
    /// Graph inputs that are not initializers: what a caller must provide.
    public let inputs: [(name: String, type: TensorType)]
    /// Graph outputs with their declared types (nil where the model leaves the type open
    /// or uses an element type the IR lacks).
    public let outputs: [(name: String, type: TensorType?)]
    /// Things the import changes silently, e.g. DOUBLE weights narrowed to f32.
    public let notes: [String]

    let graph: Onnx_GraphProto

    /// Reads and decodes a model file.
    public static func load(path: String) throws -> ONNXModel {
        do {
            return try ONNXModel(proto: decode(try read(path)), path: path)
        } catch let e as ONNXImportError {
            throw e.inFile(path)
        }
    }

    /// ONNX op types the importer converts, sorted (for `visionc ops`).
    public static var supportedOps: [String] { OpConverters.table.keys.sorted() }

    private static func read(_ path: String) throws -> Data {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw ONNXImportError(.unreadableFile(FileManager.default.fileExists(atPath: path) ? "\(error.localizedDescription)" : "no such file"))
        }
        guard attributes[.type] as? FileAttributeType != .typeDirectory else {
            throw ONNXImportError(.unreadableFile("is a directory"))
        }
        if let size = (attributes[.size] as? NSNumber)?.intValue, size > maxFileSize {
            throw ONNXImportError(.unreadableFile("\(size) bytes exceeds the 2 GiB protobuf limit; models that large keep weights as external data, which is not supported"))
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ONNXImportError(.unreadableFile(error.localizedDescription))
        }
    }

    private static func decode(_ data: Data) throws -> Onnx_ModelProto {
        do {
            return try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ONNXImportError(.invalidModel("the file is not an ONNX protobuf (\(error))"))
        }
    }

    init(proto: Onnx_ModelProto, path: String) throws {
        guard proto.hasGraph else {
            throw ONNXImportError(.invalidModel("it has no graph (ir_version \(proto.irVersion))"))
        }
        guard let opset = proto.opsetImport.last(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw ONNXImportError(.invalidModel("it imports no opset of the default ONNX domain"))
        }
        self.path = path
        opsetVersion = Int(opset.version)
        producerName = proto.producerName
        metadata = Dictionary(proto.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        graph = proto.graph

        let initializerNames = Set(graph.initializer.map(\.name))
        inputs = try graph.input.filter { !initializerNames.contains($0.name) }.map { info in
            (info.name, try Self.tensorType(info))
        }
        outputs = graph.output.map { info in (info.name, try? Self.tensorType(info)) }

        var notes: [String] = []
        for tensor in graph.initializer where tensor.dataType == Int32(Onnx_TensorProto.DataType.double.rawValue) {
            notes.append("initializer '\(tensor.name)' is DOUBLE; computed in f32")
        }
        self.notes = notes
    }

    /// The IR type of a declared graph input or output.
    private static func tensorType(_ info: Onnx_ValueInfoProto) throws -> TensorType {
        guard case .tensorType(let tensor)? = info.type.value else {
            throw ONNXImportError(.invalidModel("graph value '\(info.name)' is not declared as a tensor"))
        }
        let dtype: DType
        do {
            dtype = try TensorDecoding.dtype(tensor.elemType)
        } catch {
            throw ONNXImportError(.unsupportedDType("\(TensorDecoding.name(tensor.elemType)) for graph value '\(info.name)'"))
        }
        guard tensor.hasShape else {
            throw ONNXImportError(.invalidModel("graph value '\(info.name)' has no declared shape (rank)"))
        }
        let shape = tensor.shape.dim.map { dim -> Dim in
            switch dim.value {
            case .dimValue(let n)? where n < 0:
                // Paddle2ONNX declares a dynamic dim as -1 (the PP-OCR classifier's batch);
                // ONNX Runtime reads it as unknown, and so does the importer.
                return .symbol("")
            case .dimValue(let n)?:
                return .known(Int(n))
            case .dimParam(let symbol)?:
                // "?" is Paddle2ONNX's "unknown", not a name: the PP-OCR classifier declares
                // H and W both as "?" and ONNX Runtime lets them differ (48×192).
                return .symbol(symbol.isEmpty || symbol == "?" ? "" : Graph.legalName(symbol))
            case nil:
                return .symbol("")
            }
        }
        // Shape inference multiplies dims; an absurd declared size must not overflow it.
        _ = try TensorDecoding.elementCount(shape.compactMap { $0.value.map(Int64.init) }, tensor: info.name)
        return TensorType(dtype, shape)
    }

    // MARK: - Import

    /// Inlines the model into `graph`: each model input becomes the value bound to it, the
    /// initializers become `const` weights, the nodes become IR nodes.
    /// - Parameters:
    ///   - binding: a value of `graph` for every model input (by ONNX name). Its type must
    ///     have the input's dtype and rank and agree on every dim both sides know.
    /// - Returns: the model outputs' ONNX names and their IR values. On error `graph` is unchanged.
    public func inline(into graph: inout Graph, binding: [String: ValueID]) throws -> [(name: String, value: ValueID)] {
        do {
            let inputNames = inputs.map(\.name)
            if let unknown = binding.keys.sorted().first(where: { !inputNames.contains($0) }) {
                throw ONNXImportError(.unknownInput(unknown, available: inputNames))
            }
            var importer = ModelImporter(graph: graph, opset: opsetVersion, initializers: self.graph.initializer)
            for (name, expected) in inputs {
                guard let id = binding[name] else { throw ONNXImportError(.unboundInput(name)) }
                guard id.index >= 0, id.index < graph.values.count else {
                    throw ONNXImportError(.invalidModel("the value bound to input '\(name)' (\(id)) is not in the graph"))
                }
                let given = graph.type(of: id)
                guard Self.compatible(expected: expected, given: given) else {
                    throw ONNXImportError(.bindingMismatch(input: name, expected: expected, given: given))
                }
                try importer.bind(name, to: id)
            }
            try importer.importNodes(self.graph.node, graphOutputs: self.graph.output.map(\.name))
            let results = try self.graph.output.map { (name: $0.name, value: try importer.output(named: $0.name)) }
            graph = importer.graph
            return results
        } catch let e as ONNXImportError {
            throw e.inFile(path)
        }
    }

    /// The model alone as a graph whose inputs are the model's inputs, for benchmarking the
    /// network by itself.
    /// - Parameters:
    ///   - inputShapes: dims for inputs (by ONNX name) that replace the declared ones, e.g. to
    ///     fix a dynamic H×W. They must agree with every dim the model declares as known.
    public func standaloneGraph(inputShapes: [String: [Int]] = [:]) throws -> Graph {
        do {
            let inputNames = inputs.map(\.name)
            if let unknown = inputShapes.keys.sorted().first(where: { !inputNames.contains($0) }) {
                throw ONNXImportError(.unknownInput(unknown, available: inputNames))
            }
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            var g = Graph(name: Graph.legalName(stem))
            var binding: [String: ValueID] = [:]
            for (name, declared) in inputs {
                var type = declared
                if let dims = inputShapes[name] {
                    type.shape = dims.map(Dim.known)
                    guard Self.compatible(expected: declared, given: type) else {
                        throw ONNXImportError(.bindingMismatch(input: name, expected: declared, given: type))
                    }
                    _ = try TensorDecoding.elementCount(dims.map(Int64.init), tensor: name)
                }
                binding[name] = g.addInput(name: name, type: type)
            }
            g.outputs = try inline(into: &g, binding: binding).map(\.value)
            return g
        } catch let e as ONNXImportError {
            throw e.inFile(path)
        }
    }

    /// Same dtype and rank; dims equal wherever both sides know them.
    static func compatible(expected: TensorType, given: TensorType) -> Bool {
        guard expected.dtype == given.dtype, expected.rank == given.rank else { return false }
        return zip(expected.shape, given.shape).allSatisfy { e, g in
            guard let ev = e.value, let gv = g.value else { return true }
            return ev == gv
        }
    }
}
