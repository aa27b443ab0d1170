import Foundation
import IR
@testable import ONNXImport

/// Builds small ONNX models in memory with the generated protobuf types and writes them to
/// temporary files, so every converter and error path can be tested without fixtures.
struct ONNXModelBuilder {
    var opset: Int64 = 13
    var inputs: [Onnx_ValueInfoProto] = []
    var outputs: [String] = []
    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []
    var metadata: [String: String] = [:]

    init(opset: Int64 = 13) { self.opset = opset }

    /// Declares a graph input; nil dims are symbolic (`dim_param`).
    mutating func input(_ name: String, _ elemType: Onnx_TensorProto.DataType = .float, _ dims: [Int64?]) {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(elemType.rawValue)
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.enumerated().map { i, d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = d } else { dim.dimParam = "d\(i)" }
            return dim
        }
        tensor.shape = shape
        info.type.tensorType = tensor
        inputs.append(info)
    }

    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", _ attributes: [Onnx_AttributeProto] = []) {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = outputs
        n.name = name
        n.attribute = attributes
        nodes.append(n)
    }

    mutating func initializer(_ tensor: Onnx_TensorProto) { initializers.append(tensor) }

    var proto: Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "visionc-tests"
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = opset
        model.opsetImport = [opsetID]
        model.metadataProps = metadata.sorted(by: { $0.key < $1.key }).map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        var graph = Onnx_GraphProto()
        graph.name = "test"
        graph.input = inputs
        graph.output = outputs.map { name in
            var info = Onnx_ValueInfoProto()
            info.name = name
            return info
        }
        graph.node = nodes
        graph.initializer = initializers
        model.graph = graph
        return model
    }

    /// Serializes the model into a fresh temporary file and returns its path.
    func write(named name: String = "model") throws -> String {
        try Self.write(proto.serializedData(), named: name)
    }

    static func write(_ bytes: Data, named name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-import-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name + ".onnx")
        try bytes.write(to: url)
        return url.path
    }

    func load() throws -> ONNXModel { try ONNXModel.load(path: write()) }
}

// MARK: - Attribute and tensor literals

func attr(_ name: String, int: Int64) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .int
    a.i = int
    return a
}

func attr(_ name: String, ints: [Int64]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .ints
    a.ints = ints
    return a
}

func attr(_ name: String, float: Float) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .float
    a.f = float
    return a
}

func attr(_ name: String, string: String) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .string
    a.s = Data(string.utf8)
    return a
}

func attr(_ name: String, tensor: Onnx_TensorProto) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .tensor
    a.t = tensor
    return a
}

func floatTensor(_ name: String, _ dims: [Int64], _ values: [Float], raw: Bool = false) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = dims
    t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    if raw {
        var bytes = Data()
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        t.rawData = bytes
    } else {
        t.floatData = values
    }
    return t
}

func int64Tensor(_ name: String, _ dims: [Int64], _ values: [Int64], raw: Bool = false) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = dims
    t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    if raw {
        var bytes = Data()
        for v in values { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        t.rawData = bytes
    } else {
        t.int64Data = values
    }
    return t
}

/// A float tensor counting 0, 0.5, 1, … (distinct values, so decoding mistakes show).
func rampTensor(_ name: String, _ dims: [Int64]) -> Onnx_TensorProto {
    let count = dims.reduce(1, *)
    return floatTensor(name, dims, (0..<count).map { Float($0) * 0.5 })
}
