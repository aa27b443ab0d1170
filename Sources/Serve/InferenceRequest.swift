import Foundation

/// A failed request as the Open Inference Protocol reports it: an HTTP status (gRPC maps it)
/// and the message sent back as `{"error": "…"}`.
public struct InferenceError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// 400: the request is malformed or does not fit the model.
        case badRequest
        /// 404: no such model.
        case notFound
        /// 503: the model cannot take it now (not ready, queue full).
        case unavailable
        /// 500: the model failed on a well-formed request.
        case internalError
    }

    public var kind: Kind
    public var message: String
    public var description: String { message }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

/// One input tensor of an inference request, its elements decoded from JSON or from the
/// binary tensor data extension.
struct RequestInput {
    var name: String
    var datatype: String
    var shape: [Int]
    /// BYTES elements, each the bytes of one string or encoded image.
    var elements: [[UInt8]]

    /// An input as REST and gRPC requests alike give it, checked: no negative dim, and as
    /// many elements as the shape holds (a shape whose size overflows is too large).
    init(name: String, datatype: String, shape: [Int], elements: [[UInt8]]) throws(InferenceError) {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw InferenceError(.badRequest, "input '\(name)': shape \(shape) has a negative dim")
        }
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw InferenceError(.badRequest, "input '\(name)': shape \(shape) is too large") }
            count = product
        }
        guard elements.count == count else {
            throw InferenceError(.badRequest, "input '\(name)' has shape \(shape) but \(elements.count) elements")
        }
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.elements = elements
    }
}

/// What the client asked to get back.
struct RequestedOutput {
    var name: String
    /// The output's own `binary_data` parameter, when given.
    var binary: Bool?
}

/// `POST /v2/models/{m}/infer` decoded (KServe v2 REST with Triton's binary tensor data
/// extension). The body is a JSON header, optionally followed by binary tensor data whose
/// split point the `Inference-Header-Content-Length` header gives; each input with a
/// `binary_data_size` parameter takes that many bytes of it, in input order. A header length
/// of 0 makes the whole body the raw data of the model's single input.
struct InferenceRequest {
    var id: String?
    var inputs: [RequestInput]
    var outputs: [RequestedOutput]?
    /// The request's `binary_data_output` parameter: outputs are binary unless they say otherwise.
    var binaryOutputs: Bool
    /// The request's `priority` and `timeout` parameters.
    var scheduling = SchedulingRequest()

    /// - Parameters:
    ///   - headerLength: `Inference-Header-Content-Length`, nil when absent (all JSON).
    ///   - singleInput: the model's input, for a raw (header length 0) body.
    static func decode(body: [UInt8], headerLength: Int?, singleInput: String) throws(InferenceError) -> InferenceRequest {
        if headerLength == 0 {
            return InferenceRequest(
                id: nil, inputs: [try RequestInput(name: singleInput, datatype: "BYTES", shape: [1], elements: [rawElement(body)])],
                outputs: nil, binaryOutputs: false)
        }
        let jsonLength = headerLength ?? body.count
        guard jsonLength >= 0, jsonLength <= body.count else {
            throw InferenceError(.badRequest, "Inference-Header-Content-Length \(jsonLength) is larger than the \(body.count)-byte body")
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(body[..<jsonLength])) as? [String: Any] else {
                throw InferenceError(.badRequest, "the request is not a JSON object")
            }
            object = parsed
        } catch let error as InferenceError {
            throw error
        } catch {
            throw InferenceError(.badRequest, "the request's JSON does not parse (\(jsonLength) bytes; a binary request needs the Inference-Header-Content-Length header)")
        }
        guard let inputList = object["inputs"] as? [[String: Any]], !inputList.isEmpty else {
            throw InferenceError(.badRequest, "the request has no 'inputs' list")
        }
        var binary = body[jsonLength...]
        var inputs: [RequestInput] = []
        for (position, input) in inputList.enumerated() {
            guard let name = input["name"] as? String else { throw InferenceError(.badRequest, "input \(position) has no 'name'") }
            guard let datatype = input["datatype"] as? String else { throw InferenceError(.badRequest, "input '\(name)' has no 'datatype'") }
            guard let shape = input["shape"] as? [Int], shape.allSatisfy({ $0 >= 0 }) else {
                throw InferenceError(.badRequest, "input '\(name)' has no 'shape' list of non-negative integers")
            }
            let parameters = input["parameters"] as? [String: Any] ?? [:]
            var elements: [[UInt8]] = []
            if let size = parameters["binary_data_size"] as? Int {
                guard size >= 0, size <= binary.count else {
                    throw InferenceError(.badRequest, "input '\(name)': binary_data_size \(size) is more than the \(binary.count) bytes of binary data left")
                }
                let data = binary.prefix(size)
                binary = binary.dropFirst(size)
                guard datatype == "BYTES" else {
                    throw InferenceError(.badRequest, "input '\(name)' is \(datatype); this server's models take BYTES (encoded images)")
                }
                elements = try serializedBytes(Array(data), input: name)
            } else if let data = input["data"] {
                guard datatype == "BYTES" else {
                    throw InferenceError(.badRequest, "input '\(name)' is \(datatype); this server's models take BYTES (encoded images)")
                }
                guard let strings = flattened(data) as? [String] else {
                    throw InferenceError(.badRequest, "input '\(name)': BYTES data must be a list of strings")
                }
                elements = strings.map { Array($0.utf8) }
            } else {
                throw InferenceError(.badRequest, "input '\(name)' has neither 'data' nor a binary_data_size parameter")
            }
            inputs.append(try RequestInput(name: name, datatype: datatype, shape: shape, elements: elements))
        }
        guard binary.isEmpty else {
            throw InferenceError(.badRequest, "\(binary.count) bytes of binary data are not claimed by any input's binary_data_size")
        }
        var outputs: [RequestedOutput]?
        if let list = object["outputs"] as? [[String: Any]] {
            outputs = try list.enumerated().map { position, output throws(InferenceError) in
                guard let name = output["name"] as? String else { throw InferenceError(.badRequest, "output \(position) has no 'name'") }
                return RequestedOutput(name: name, binary: (output["parameters"] as? [String: Any])?["binary_data"] as? Bool)
            }
        }
        let parameters = object["parameters"] as? [String: Any] ?? [:]
        return InferenceRequest(
            id: object["id"] as? String, inputs: inputs, outputs: outputs,
            binaryOutputs: parameters["binary_data_output"] as? Bool ?? false,
            scheduling: SchedulingRequest(
                priority: try scheduling(parameters["priority"], "priority"), timeoutMicroseconds: try scheduling(parameters["timeout"], "timeout")))
    }

    /// A `priority` or `timeout` request parameter: absent, or a non-negative integer.
    static func scheduling(_ value: Any?, _ name: String) throws(InferenceError) -> Int? {
        guard let value else { return nil }
        guard let number = value as? Int, number >= 0 else {
            throw InferenceError(.badRequest, "the request parameter '\(name)' must be a non-negative integer (got \(value))")
        }
        return number
    }

    /// BYTES in the binary extension: each element a 4-byte little-endian length and its bytes.
    static func serializedBytes(_ data: [UInt8], input: String) throws(InferenceError) -> [[UInt8]] {
        var elements: [[UInt8]] = []
        var offset = 0
        while offset < data.count {
            guard offset + 4 <= data.count else {
                throw InferenceError(.badRequest, "input '\(input)': BYTES element \(elements.count) is cut off in its length prefix")
            }
            let length = Int(data[offset]) | Int(data[offset + 1]) << 8 | Int(data[offset + 2]) << 16 | Int(data[offset + 3]) << 24
            offset += 4
            guard length <= data.count - offset else {
                throw InferenceError(.badRequest, "input '\(input)': BYTES element \(elements.count) claims \(length) bytes, \(data.count - offset) are left")
            }
            elements.append(Array(data[offset..<(offset + length)]))
            offset += length
        }
        return elements
    }

    /// A raw body: the serialized BYTES form when its length prefix accounts for it exactly,
    /// else the body itself (an image posted as is: `curl --data-binary @photo.jpg`).
    private static func rawElement(_ body: [UInt8]) -> [UInt8] {
        if body.count >= 4 {
            let length = Int(body[0]) | Int(body[1]) << 8 | Int(body[2]) << 16 | Int(body[3]) << 24
            if length == body.count - 4 { return Array(body[4...]) }
        }
        return body
    }

    /// JSON tensor data may be nested by shape or flat; the elements in row-major order.
    private static func flattened(_ value: Any) -> [Any] {
        guard let list = value as? [Any] else { return [value] }
        return list.flatMap(flattened)
    }
}
