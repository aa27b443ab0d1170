import Driver
import Foundation

/// The servers `visionc bench` measures its remote variants against: a `LoopbackServer` it
/// starts for `O2@grpc` and the like, a `RunningServer` for `--url`.
public enum BenchServers {
    /// The factory for `Benchmark.serve`, its loopback servers' broker edges run as `brokers` says.
    public static func factory(brokers: BrokerEdges) -> BenchServerFactory {
        { variant, compiled, load in
            if let endpoint = variant.endpoint {
                return try RunningServer(url: endpoint, compiled: compiled, connections: load.concurrency)
            }
            return try LoopbackServer(compiled, load: load, brokers: brokers)
        }
    }
}

/// One compiled graph served on loopback (HTTP and gRPC on ports the system picks) with a
/// client for it: what `visionc bench` measures its `@http-json`, `@http-binary` and `@grpc`
/// variants against. The server is the one `visionc serve` runs, with the load shape's
/// workers and threads per worker, so that the only difference from the in-process variant is
/// the protocol; its queue holds every client, so no request is refused.
public final class LoopbackServer: BenchServer {
    private let model: ServedModel
    private let running: BackgroundServer
    private let client: InferenceClient

    public init(_ compiled: CompiledPipeline, load: LoadShape, brokers: BrokerEdges = .redis(server: nil)) throws {
        let registry = MetricsRegistry()
        let options = ServingOptions(
            workers: load.workers, threadsPerWorker: load.threadsPerWorker, maxQueueSize: load.concurrency, brokers: brokers)
        model = try ServedModel(compiled, options: options, registry: registry)
        running = try InferenceServer(models: [model], maxBodyBytes: 256 << 20, registry: registry).startInBackground()
        client = try InferenceClient(
            host: running.host, httpPort: running.httpPort, grpcPort: running.grpcPort, model: model.name, input: model.input.name,
            connections: load.concurrency)
    }

    public func send(_ image: [UInt8], over transport: BenchTransport) throws {
        try client.infer(image, over: transport)
    }

    public func totals() -> ServerTotals { model.stageTotals() }

    /// Closes the client, then drains and stops the server.
    public func close() {
        client.close()
        running.stop()
    }
}

/// A server that runs elsewhere (`http://HOST:PORT` or `grpc://HOST:PORT`; visionc, Triton
/// or any Open Inference Protocol server) serving the graph's model under its `pipeline:`
/// name. Over REST the server's own split of a request comes from its statistics endpoint
/// (Triton's shape); over gRPC there is none, and the whole latency shows as `other`.
public final class RunningServer: BenchServer {
    private let client: InferenceClient

    public init(url: String, compiled: CompiledPipeline, connections: Int) throws {
        let isGRPC = url.hasPrefix("grpc://")
        let address = url.dropFirst(isGRPC ? "grpc://".count : "http://".count).prefix { $0 != "/" }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65535).contains(port), colon > address.startIndex
        else {
            throw DriverError("--url '\(url)': expected http://HOST:PORT or grpc://HOST:PORT")
        }
        let graph = compiled.optimized
        client = try InferenceClient(
            host: String(address[..<colon]), httpPort: isGRPC ? nil : port, grpcPort: isGRPC ? port : nil,
            model: compiled.spec.name, input: graph[graph.inputs[0]].name, connections: connections)
    }

    public func send(_ image: [UInt8], over transport: BenchTransport) throws {
        try client.infer(image, over: transport)
    }

    public func totals() -> ServerTotals {
        // A server without the statistics endpoint still gets measured, its time all `other`.
        (try? client.statistics()).flatMap { $0 } ?? ServerTotals(requests: 0, seconds: [:])
    }

    public func close() { client.close() }
}
