import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import ServiceLifecycle

/// `inference.GRPCInferenceService` (the Open Inference Protocol over gRPC, as Triton's and
/// KServe's clients call it): the same models, readiness and error contract as the REST
/// front end, on the messages of Proto/open_inference.proto.
///
/// ModelInfer takes the image as the model's one BYTES input, either in
/// `raw_input_contents` (a 4-byte little-endian length and the bytes, as tritonclient sends
/// it) or in the input's `contents.bytes_contents`, and answers every requested output in
/// `raw_output_contents` (numbers little-endian; the `result` JSON as a BYTES element).
/// Errors map to gRPC codes as Triton's: a bad request is INVALID_ARGUMENT, an unknown
/// model NOT_FOUND, a full queue or a draining server UNAVAILABLE, the server's own fault
/// INTERNAL.
struct GRPCInferenceService: Inference_GRPCInferenceService.SimpleServiceProtocol {
    let server: InferenceServer

    func serverLive(request: Inference_ServerLiveRequest, context: ServerContext) async throws -> Inference_ServerLiveResponse {
        .with { $0.live = true }
    }

    func serverReady(request: Inference_ServerReadyRequest, context: ServerContext) async throws -> Inference_ServerReadyResponse {
        .with { $0.ready = server.readiness.isReady }
    }

    func modelReady(request: Inference_ModelReadyRequest, context: ServerContext) async throws -> Inference_ModelReadyResponse {
        _ = try model(request.name)
        return .with { $0.ready = server.readiness.isReady }
    }

    func serverMetadata(request: Inference_ServerMetadataRequest, context: ServerContext) async throws -> Inference_ServerMetadataResponse {
        .with {
            $0.name = "visionc"
            $0.version = InferenceServer.version
            $0.extensions = ["binary_tensor_data", "statistics"]
        }
    }

    func modelMetadata(request: Inference_ModelMetadataRequest, context: ServerContext) async throws -> Inference_ModelMetadataResponse {
        let model = try model(request.name)
        func metadata(_ tensor: TensorMetadata) -> Inference_ModelMetadataResponse.TensorMetadata {
            .with {
                $0.name = tensor.name
                $0.datatype = tensor.datatype
                $0.shape = tensor.shape.map(Int64.init)
            }
        }
        return .with {
            $0.name = model.name
            $0.versions = ["1"]
            $0.platform = "visionc"
            $0.inputs = [metadata(model.input)]
            $0.outputs = model.outputs.map(metadata)
        }
    }

    func modelInfer(request: Inference_ModelInferRequest, context: ServerContext) async throws -> Inference_ModelInferResponse {
        let model = try model(request.modelName)
        do {
            let inputs = try Self.inputs(of: request)
            let result = try await model.infer(image: try model.image(from: inputs), scheduling: try Self.scheduling(of: request), id: request.id)
            let tensors = try ResponseTensor.select(result, model: model, names: request.outputs.isEmpty ? nil : request.outputs.map(\.name))
            return .with {
                $0.modelName = model.name
                $0.modelVersion = "1"
                $0.id = request.id
                $0.outputs = tensors.map { tensor in
                    .with {
                        $0.name = tensor.name
                        $0.datatype = tensor.datatype
                        $0.shape = tensor.shape.map(Int64.init)
                    }
                }
                $0.rawOutputContents = tensors.map { Data($0.data.littleEndianBytes) }
            }
        } catch {
            throw Self.rpcError(error)
        }
    }

    /// The request's `priority` and `timeout` parameters (int64 or uint64, as Triton's clients send them).
    static func scheduling(of request: Inference_ModelInferRequest) throws(InferenceError) -> SchedulingRequest {
        func integer(_ name: String) throws(InferenceError) -> Int? {
            guard let parameter = request.parameters[name] else { return nil }
            switch parameter.parameterChoice {
            case .int64Param(let value)? where value >= 0: return Int(value)
            case .uint64Param(let value)? where value <= UInt64(Int.max): return Int(value)
            default: throw InferenceError(.badRequest, "the request parameter '\(name)' must be a non-negative integer")
            }
        }
        return SchedulingRequest(priority: try integer("priority"), timeoutMicroseconds: try integer("timeout"))
    }

    /// The request's inputs with their BYTES elements, from raw contents (one entry per input,
    /// in order) or from typed contents.
    static func inputs(of request: Inference_ModelInferRequest) throws(InferenceError) -> [RequestInput] {
        if !request.rawInputContents.isEmpty && request.rawInputContents.count != request.inputs.count {
            throw InferenceError(.badRequest, "raw_input_contents has \(request.rawInputContents.count) entries for \(request.inputs.count) inputs")
        }
        var inputs: [RequestInput] = []
        for (index, input) in request.inputs.enumerated() {
            let elements: [[UInt8]]
            if request.rawInputContents.isEmpty {
                elements = input.contents.bytesContents.map { [UInt8]($0) }
            } else {
                elements = try InferenceRequest.serializedBytes([UInt8](request.rawInputContents[index]), input: input.name)
            }
            inputs.append(try RequestInput(name: input.name, datatype: input.datatype, shape: input.shape.map { Int($0) }, elements: elements))
        }
        return inputs
    }

    private func model(_ name: String) throws -> ServedModel {
        do {
            return try server.model(named: name)
        } catch {
            throw Self.rpcError(error)
        }
    }

    static func rpcError(_ error: any Error) -> RPCError {
        guard let error = error as? InferenceError else { return RPCError(code: .internalError, message: "\(error)") }
        let code: RPCError.Code = switch error.kind {
        case .badRequest: .invalidArgument
        case .notFound: .notFound
        case .unavailable: .unavailable
        case .internalError: .internalError
        }
        return RPCError(code: code, message: error.message)
    }
}

/// The gRPC listener as a service of the server's group: on graceful shutdown it stops
/// taking new RPCs and lets the running ones finish.
struct GRPCListener: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let onRunning: @Sendable (Int) -> Void

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                let address = try await server.listeningAddress
                if let port = address?.ipv4?.port ?? address?.ipv6?.port { onRunning(port) }
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}
