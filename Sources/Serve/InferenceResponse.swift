import Driver
import Foundation
import IR

/// The body of a successful infer response: a JSON header and, for outputs sent binary,
/// their bytes after it (`headerLength` is then the `Inference-Header-Content-Length`).
struct InferenceResponse {
    var body: [UInt8]
    /// The JSON header's length when binary data follows, else nil.
    var headerLength: Int?

    /// - Parameters:
    ///   - requested: the outputs asked for (nil: all, in the model's order).
    ///   - binaryByDefault: the request's `binary_data_output`.
    static func encode(
        _ result: PipelineResult, model: ServedModel, id: String?, requested: [RequestedOutput]?, binaryByDefault: Bool
    ) throws(InferenceError) -> InferenceResponse {
        let tensors = try ResponseTensor.select(result, model: model, names: requested?.map(\.name))
        var header = Header(modelName: model.name, id: id, outputs: [])
        var binary: [UInt8] = []
        for (index, tensor) in tensors.enumerated() {
            var entry = Header.Output(name: tensor.name, datatype: tensor.datatype, shape: tensor.shape)
            if requested?[index].binary ?? binaryByDefault {
                let bytes = tensor.data.littleEndianBytes
                entry.parameters = ["binary_data_size": bytes.count]
                binary += bytes
            } else {
                entry.data = tensor.data
            }
            header.outputs.append(entry)
        }
        let json: Data
        do {
            json = try JSONEncoder().encode(header)
        } catch {
            throw InferenceError(.internalError, "cannot encode the response: \(error)")
        }
        return InferenceResponse(body: [UInt8](json) + binary, headerLength: binary.isEmpty ? nil : json.count)
    }

    /// The response's JSON header, encoded by `JSONEncoder` (about 4× faster than
    /// `JSONSerialization` on Linux for a thousand logits, 10× for the small parts).
    struct Header: Encodable {
        var modelName: String
        var modelVersion = "1"
        var id: String?
        var outputs: [Output]

        struct Output: Encodable {
            var name: String
            var datatype: String
            var shape: [Int]
            var parameters: [String: Int]?
            var data: OutputData?
        }

        enum CodingKeys: String, CodingKey {
            case modelName = "model_name", modelVersion = "model_version", id, outputs
        }
    }
}

/// One output of a successful inference, as both the REST and the gRPC responses carry it.
struct ResponseTensor {
    var name: String
    var datatype: String
    var shape: [Int]
    var data: OutputData

    /// The outputs asked for by name (nil: all, in the model's order), with `result` (the
    /// ranked classes or the read lines as JSON) for a graph that ranks or reads text.
    static func select(_ result: PipelineResult, model: ServedModel, names: [String]?) throws(InferenceError) -> [ResponseTensor] {
        var tensors: [String: ResponseTensor] = [:]
        for (meta, tensor) in zip(model.outputs, result.outputs) {
            tensors[meta.name] = ResponseTensor(name: meta.name, datatype: meta.datatype, shape: tensor.shape, data: OutputData(tensor.data))
        }
        if model.outputs.contains(where: { $0.name == ServedModel.resultOutput }) {
            tensors[ServedModel.resultOutput] = ResponseTensor(
                name: ServedModel.resultOutput, datatype: "BYTES", shape: [1], data: .bytes([[UInt8](result.resultJSON)]))
        }
        return try (names ?? model.outputs.map(\.name)).map { name throws(InferenceError) -> ResponseTensor in
            guard let tensor = tensors[name] else {
                let known = model.outputs.map(\.name).joined(separator: ", ")
                throw InferenceError(.badRequest, "model '\(model.name)' has no output '\(name)' (its outputs: \(known))")
            }
            return tensor
        }
    }
}

/// An output's elements, as JSON values (a flat list, as KServe v2 allows) or as the binary
/// extension's bytes.
enum OutputData: Encodable {
    case numbers(TensorData)
    case bytes([[UInt8]])

    init(_ data: TensorData) { self = .numbers(data) }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .numbers(.f32(let v)): try container.encode(v)  // the shortest text that reads back as the same Float
        case .numbers(.i64(let v)): try container.encode(v)
        case .numbers(.i32(let v)): try container.encode(v)
        case .numbers(.u8(let v)): try container.encode(v)
        case .numbers(.bool(let v)): try container.encode(v)
        case .numbers(.f16(let v)): try container.encode(v.map(Float.init))
        case .numbers(.f64(let v)): try container.encode(v)
        case .numbers(.u64(let v)): try container.encode(v)
        case .numbers(let other): try container.encode(other.int64s)
        case .bytes(let elements): try container.encode(elements.map { String(decoding: $0, as: UTF8.self) })
        }
    }

    /// Little-endian element bytes; BYTES elements each with a 4-byte length prefix.
    var littleEndianBytes: [UInt8] {
        // x86-64 and arm64: little-endian.
        switch self {
        case .numbers(let data): return data.withUnsafeBytes { [UInt8]($0) }
        case .bytes(let elements):
            return elements.flatMap { element -> [UInt8] in
                let n = UInt32(element.count)
                return [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)] + element
            }
        }
    }
}
