import Driver
import Foundation

/// One compiled graph served on loopback (HTTP and gRPC on ports the system picks) with a
/// client for it: what `visionc bench` measures its `@http-json`, `@http-binary` and `@grpc`
/// variants against. The server is the one `visionc serve` runs, with the load shape's
/// workers and threads per worker, so that the only difference from the in-process variant is
/// the protocol; its queue holds every client, so no request is refused.
public final class LoopbackServer: BenchServer {
    private let model: ServedModel
    private let server: InferenceServer
    private let client: InferenceClient
    private let stopped = DispatchSemaphore(value: 0)

    public init(_ compiled: CompiledPipeline, load: LoadShape) throws {
        let registry = MetricsRegistry()
        let options = ServingOptions(workers: load.workers, threadsPerWorker: load.threadsPerWorker, maxQueueSize: load.concurrency)
        model = try ServedModel(compiled, options: options, registry: registry)
        let server = try InferenceServer(models: [model], maxBodyBytes: 256 << 20, registry: registry)
        self.server = server
        let ports = BoundPorts()
        Task { [stopped] in
            do {
                try await server.run(host: "127.0.0.1", port: 0, grpcPort: 0, metricsPort: nil, handleSignals: false, quiet: true) {
                    ports.set($0, $1)
                }
            } catch {
                ports.fail(error)
            }
            stopped.signal()
        }
        let (http, grpc) = try ports.wait(seconds: 30)
        client = try InferenceClient(
            host: "127.0.0.1", httpPort: http, grpcPort: grpc, model: model.name, input: model.input.name, connections: load.concurrency)
    }

    public func send(_ image: [UInt8], over transport: BenchTransport) throws {
        try client.infer(image, over: transport)
    }

    public func totals() -> ServerTotals { model.stageTotals() }

    /// Closes the client, then drains the server and waits (up to 10 s) for it to stop.
    public func close() {
        client.close()
        Task { [server] in await server.shutdown() }
        _ = stopped.wait(timeout: .now() + 10)
    }
}

/// The ports the server's listeners came up on, waited for by the thread that started it.
private final class BoundPorts: @unchecked Sendable {
    private let condition = NSCondition()
    private var http: Int?
    private var grpc: Int?
    private var error: Error?

    func set(_ listener: InferenceServer.Listener, _ port: Int) {
        condition.lock()
        switch listener {
        case .http: http = port
        case .grpc: grpc = port
        case .metrics: break
        }
        condition.broadcast()
        condition.unlock()
    }

    func fail(_ error: Error) {
        condition.lock()
        self.error = error
        condition.broadcast()
        condition.unlock()
    }

    func wait(seconds: Double) throws -> (http: Int, grpc: Int) {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while (http == nil || grpc == nil) && error == nil {
            guard condition.wait(until: deadline) else { break }
        }
        if let error { throw DriverError("the benchmark's server did not start: \(error)") }
        guard let http, let grpc else { throw DriverError("the benchmark's server did not start within \(Int(seconds)) s") }
        return (http, grpc)
    }
}
