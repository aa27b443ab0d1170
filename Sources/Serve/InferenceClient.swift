import AsyncHTTPClient
import Driver
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import NIOHTTP1

/// A client of one model on an Open Inference Protocol server, as `visionc bench` drives it:
/// REST on AsyncHTTPClient (a pool of keep-alive connections, one per concurrent client) and
/// gRPC on grpc-swift 2 (one HTTP/2 connection, requests multiplexed), each sending the image
/// as the model's one BYTES input and parsing the answer as a client would. Its calls block
/// the calling thread, which is what the closed-loop benchmark's client threads want; never
/// call them on an event loop or from a Swift concurrency task.
public final class InferenceClient: Sendable {
    public let model: String
    public let input: String
    private let http: HTTPClient
    /// `http://host:port/v2/models/{model}`, when the server's REST port is known.
    private let modelURL: String?
    private let grpc: GRPCClient<HTTP2ClientTransport.Posix>?
    private let grpcAddress: String
    private let grpcRunner: Task<Void, Never>?

    /// - Parameters:
    ///   - httpPort, grpcPort: the server's listeners on `host` (either may be unknown).
    ///   - connections: HTTP keep-alive connections to keep (the benchmark's concurrency).
    public init(host: String, httpPort: Int?, grpcPort: Int?, model: String, input: String, connections: Int) throws {
        self.model = model
        self.input = input
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections))
        configuration.decompression = .disabled
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        modelURL = httpPort.map { "http://\(host):\($0)/v2/models/\(model)" }
        grpcAddress = "grpc://\(host):\(grpcPort ?? 0)"
        if let grpcPort {
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: host, port: grpcPort), transportSecurity: .plaintext,
                config: .defaults { $0.http2.maxFrameSize = 1 << 20 })
            let client = GRPCClient(transport: transport)
            grpc = client
            grpcRunner = Task { try? await client.runConnections() }
        } else {
            grpc = nil
            grpcRunner = nil
        }
    }

    /// Closes the connections.
    public func close() {
        grpc?.beginGracefulShutdown()
        try? http.syncShutdown()
    }

    /// Sends `image` over `transport` and parses the answer; throws when the server answers
    /// anything but success or the answer does not parse.
    public func infer(_ image: [UInt8], over transport: BenchTransport) throws {
        switch transport {
        case .httpJSON, .httpBinary:
            try inferHTTP(image, binaryOutputs: transport == .httpBinary)
        case .grpc:
            try inferGRPC(image)
        case .inProcess:
            throw DriverError("the in-process transport does not go through a client")
        }
    }

    /// REST: a JSON header whose one input takes the image as binary tensor data (a 4-byte
    /// little-endian length, then the bytes), outputs binary or JSON as asked.
    private func inferHTTP(_ image: [UInt8], binaryOutputs: Bool) throws {
        guard let modelURL else { throw DriverError("this client has no HTTP port") }
        let inferURL = modelURL + "/infer"
        let header = Array("""
            {"inputs":[{"name":"\(input)","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":\(image.count + 4)}}],\
            "parameters":{"binary_data_output":\(binaryOutputs)}}
            """.utf8)
        var body = ByteBufferAllocator().buffer(capacity: header.count + 4 + image.count)
        body.writeBytes(header)
        body.writeInteger(UInt32(image.count), endianness: .little)
        body.writeBytes(image)
        var request = try HTTPClient.Request(url: inferURL, method: .POST, body: .byteBuffer(body))
        request.headers.add(name: "Inference-Header-Content-Length", value: String(header.count))
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        let response: HTTPClient.Response
        do {
            response = try http.execute(request: request).wait()
        } catch {
            throw DriverError("\(inferURL): \(error)")
        }
        let bytes = response.body.map { Array(buffer: $0) } ?? []
        guard response.status == .ok else {
            throw DriverError("\(inferURL): HTTP \(response.status.code): \(String(decoding: bytes.prefix(500), as: UTF8.self))")
        }
        let jsonLength = response.headers.first(name: "Inference-Header-Content-Length").flatMap(Int.init) ?? bytes.count
        guard jsonLength <= bytes.count,
              let answer = try? JSONDecoder().decode(AnswerHeader.self, from: Data(bytes[..<jsonLength])), !answer.outputs.isEmpty
        else {
            throw DriverError("\(inferURL): the answer has no outputs")
        }
    }

    /// The model's statistics endpoint (Triton's shape) as server totals: `queue`, then
    /// `compute_input` (decode and preprocess, shown as preprocess), `compute_infer` and
    /// `compute_output`, over the successful requests; nil without a REST port.
    public func statistics() throws -> ServerTotals? {
        guard let modelURL else { return nil }
        let response = try http.execute(request: try HTTPClient.Request(url: modelURL + "/stats")).wait()
        let bytes = response.body.map { Array(buffer: $0) } ?? []
        guard response.status == .ok, let stats = try? JSONDecoder().decode(Statistics.self, from: Data(bytes)),
              let model = stats.modelStats.first
        else {
            throw DriverError("\(modelURL)/stats: no statistics in Triton's shape (HTTP \(response.status.code))")
        }
        let phases = model.inferenceStats
        func seconds(_ duration: Statistics.Duration) -> Double { Double(duration.ns) * 1e-9 }
        return ServerTotals(requests: phases.success.count, seconds: [
            .queue: seconds(phases.queue), .preprocess: seconds(phases.computeInput),
            .inference: seconds(phases.computeInfer), .postprocess: seconds(phases.computeOutput),
        ])
    }

    /// Triton's `/v2/models/{m}/stats`, the parts read.
    private struct Statistics: Decodable {
        struct Duration: Decodable {
            var count: Int
            var ns: UInt64
        }
        struct Phases: Decodable {
            var success, queue, computeInput, computeInfer, computeOutput: Duration
            enum CodingKeys: String, CodingKey {
                case success, queue
                case computeInput = "compute_input", computeInfer = "compute_infer", computeOutput = "compute_output"
            }
        }
        struct Model: Decodable {
            var inferenceStats: Phases
            enum CodingKeys: String, CodingKey { case inferenceStats = "inference_stats" }
        }
        var modelStats: [Model]
        enum CodingKeys: String, CodingKey { case modelStats = "model_stats" }
    }

    /// What the client reads of a REST answer: its outputs' names, types and, when JSON, values.
    private struct AnswerHeader: Decodable {
        struct Output: Decodable {
            var name: String
            var datatype: String
            var shape: [Int]
            var data: [JSONValue]?
        }
        var outputs: [Output]
    }

    /// One element of a JSON output: a number or a string (BYTES).
    private enum JSONValue: Decodable {
        case number(Double)
        case string(String)

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                self = .number(number)
            } else {
                self = .string(try container.decode(String.self))
            }
        }
    }

    /// gRPC `ModelInfer` with the image in `raw_input_contents`.
    private func inferGRPC(_ image: [UInt8]) throws {
        guard let grpc else { throw DriverError("this client has no gRPC port") }
        var raw = Data(capacity: image.count + 4)
        withUnsafeBytes(of: UInt32(image.count).littleEndian) { raw.append(contentsOf: $0) }
        raw.append(contentsOf: image)
        let request = Inference_ModelInferRequest.with {
            $0.modelName = model
            $0.inputs = [.with {
                $0.name = input
                $0.datatype = "BYTES"
                $0.shape = [1]
            }]
            $0.rawInputContents = [raw]
        }
        let outcome = BlockingOutcome()
        let service = Inference_GRPCInferenceService.Client(wrapping: grpc)
        let address = grpcAddress
        Task {
            do {
                let response = try await service.modelInfer(request)
                outcome.finish(response.outputs.isEmpty ? DriverError("\(address) ModelInfer: the answer has no outputs") : nil)
            } catch {
                outcome.finish(DriverError("\(address) ModelInfer: \(error)"))
            }
        }
        if let error = outcome.wait() { throw error }
    }
}

/// An async call's end, waited for by a plain thread.
private final class BlockingOutcome: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var error: Error?

    func finish(_ error: Error?) {
        self.error = error
        done.signal()
    }

    func wait() -> Error? {
        done.wait()
        return error
    }
}
