import Driver
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// `visionc serve`: every graph as a model over the Open Inference Protocol's REST binding
/// (KServe v2, as Triton speaks it), on Hummingbird.
///
/// Endpoints: `GET /v2/health/live`, `/v2/health/ready`, `/v2` (server metadata),
/// `/v2/models/{m}` (model metadata), `/v2/models/{m}/ready`, `/v2/models/{m}/stats` and
/// `/v2/models/stats` (Triton's statistics shape), `POST /v2/models/{m}/infer` with JSON
/// tensors or the binary tensor data extension. Errors are `{"error": "…"}` with 400 (bad
/// request, body over the limit), 404 (unknown model), 503 (queue full, shutting down) or 500.
public final class InferenceServer: Sendable {
    public static let version = "0.1.0"
    public let models: [ServedModel]
    private let byName: [String: ServedModel]
    private let maxBodyBytes: Int
    private let registry: PrometheusCollectorRegistry

    /// - Parameter registry: the one the models record their metrics in.
    public init(models: [ServedModel], maxBodyBytes: Int, registry: PrometheusCollectorRegistry) throws {
        var byName: [String: ServedModel] = [:]
        for model in models {
            guard byName[model.name] == nil else { throw DriverError("two graphs are both named '\(model.name)'; model names must differ") }
            byName[model.name] = model
        }
        self.models = models
        self.byName = byName
        self.maxBodyBytes = maxBodyBytes
        self.registry = registry
    }

    /// Whether readiness probes pass: true until a shutdown signal.
    let readiness = Readiness()

    /// Which listener came up, and on which port (useful with port 0).
    public enum Listener: Sendable { case http, grpc, metrics }

    /// Serves until SIGTERM or SIGINT (`handleSignals`, as `visionc serve` does) or until the
    /// calling task is cancelled. With `metricsPort`, Prometheus metrics (`GET /metrics`) have
    /// their own listener, as Triton's do; `onRunning` hears each listener's bound port.
    ///
    /// On a signal the server drains: readiness (`/v2/health/ready`, `/v2/models/{m}/ready`)
    /// answers 503 at once, so load balancers stop sending; for `drainSeconds` it still serves
    /// what arrives; then the listeners stop accepting, the requests in flight finish, and
    /// `run` returns.
    ///
    /// `quiet` logs warnings and errors only (not each listener's start), for a server that is
    /// part of another command, as in `visionc bench`.
    public func run(
        host: String, port: Int, grpcPort: Int? = nil, metricsPort: Int?, handleSignals: Bool = true, drainSeconds: Double = 0,
        quiet: Bool = false, onRunning: @escaping @Sendable (Listener, Int) -> Void
    ) async throws {
        var logger = Logger(label: "visionc")
        if quiet { logger.logLevel = .warning }
        var apps = [Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "visionc"),
            onServerRunning: { channel in onRunning(.http, channel.localAddress?.port ?? port) }, logger: logger)]
        if let metricsPort {
            let metrics = Router()
            metrics.get("metrics") { _, _ in
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; version=0.0.4"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: self.registry.emitToBuffer())))
            }
            apps.append(Application(
                router: metrics,
                configuration: .init(address: .hostname(host, port: metricsPort), serverName: "visionc-metrics"),
                onServerRunning: { channel in onRunning(.metrics, channel.localAddress?.port ?? metricsPort) }, logger: logger))
        }
        var services: [any Service] = apps
        if let grpcPort {
            // The same body limit as REST: a 20 MB image is one message. HTTP/2's default
            // 64 KiB flow-control window made a client stop for a WINDOW_UPDATE every 64 KiB
            // of an upload (a 440 KB photo took 4.8 ms more over gRPC than over REST);
            // 8 MiB windows and 1 MiB frames, as grpc-swift's client uses, let it stream.
            let transport = HTTP2ServerTransport.Posix(
                address: .ipv4(host: host, port: grpcPort), transportSecurity: .plaintext,
                config: .defaults {
                    $0.rpc.maxRequestPayloadSize = self.maxBodyBytes
                    $0.http2.targetWindowSize = 8 << 20
                    $0.http2.maxFrameSize = 1 << 20
                })
            let server = GRPCServer(transport: transport, services: [GRPCInferenceService(server: self)])
            services.append(GRPCListener(server: server) { onRunning(.grpc, $0) })
        }
        defer { for model in models { model.shutdown() } }
        // One group for both listeners: a signal drains both, and one failing (a port in use)
        // ends the other instead of leaving it serving alone. The group shuts services down
        // in reverse order, so the drain (last) turns readiness off and waits before the
        // listeners stop.
        let drain = DrainService(seconds: drainSeconds) { self.readiness.set(false) }
        let group = ServiceGroup(
            services: services + [drain], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            cancellationSignals: [], logger: logger)
        running.set(group)
        try await group.run()
    }

    /// Drains and stops a running server as a shutdown signal would (`run` then returns);
    /// nothing when it is not running.
    public func shutdown() async {
        await running.group?.triggerGracefulShutdown()
    }

    /// The service group of `run`, for `shutdown`.
    private let running = RunningGroup()

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("v2/health/live") { _, _ in Response(status: .ok) }
        router.get("v2/health/ready") { _, _ in
            self.readiness.isReady ? Response(status: .ok) : Self.json(.serviceUnavailable, ["error": "the server is shutting down"])
        }
        router.get("v2") { _, _ in
            Self.json(.ok, ["name": "visionc", "version": Self.version, "extensions": ["binary_tensor_data", "statistics"]])
        }
        router.get("v2/models/stats") { _, _ in
            let stats = self.models.flatMap { ($0.statisticsObject()["model_stats"] as? [Any]) ?? [] }
            return Self.json(.ok, ["model_stats": stats])
        }
        router.get("v2/models/:model") { _, context in
            try self.respond { () throws(InferenceError) in
                let model = try self.model(context)
                return Self.json(.ok, [
                    "name": model.name, "versions": ["1"], "platform": "visionc",
                    "inputs": [Self.metadata(model.input)], "outputs": model.outputs.map(Self.metadata),
                ])
            }
        }
        router.get("v2/models/:model/ready") { _, context in
            try self.respond { () throws(InferenceError) in
                let model = try self.model(context)
                guard self.readiness.isReady else { throw InferenceError(.unavailable, "model '\(model.name)' is shutting down") }
                return Response(status: .ok)
            }
        }
        router.get("v2/models/:model/stats") { _, context in
            try self.respond { () throws(InferenceError) in Self.json(.ok, try self.model(context).statisticsObject()) }
        }
        router.post("v2/models/:model/infer") { request, context in
            await self.infer(request, context)
        }
        return router
    }

    private func infer(_ request: Request, _ context: BasicRequestContext) async -> Response {
        do {
            let model = try self.model(context)
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: maxBodyBytes)
            } catch {
                throw InferenceError(.badRequest, "the request body is larger than the server's limit of \(maxBodyBytes) bytes (--max-body-mb)")
            }
            let headerLength = try Self.headerLength(request.headers)
            let decoded = try InferenceRequest.decode(body: Array(buffer: body), headerLength: headerLength, singleInput: model.input.name)
            let result = try await model.infer(image: try model.image(from: decoded.inputs), scheduling: decoded.scheduling, id: decoded.id)
            let response = try InferenceResponse.encode(
                result, model: model, id: decoded.id, requested: decoded.outputs, binaryByDefault: decoded.binaryOutputs)
            var headers = HTTPFields()
            if let length = response.headerLength {
                headers[.contentType] = "application/octet-stream"
                headers[.init("Inference-Header-Content-Length")!] = String(length)
            } else {
                headers[.contentType] = "application/json"
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: response.body)))
        } catch let error as InferenceError {
            return Self.error(error)
        } catch {
            return Self.error(InferenceError(.internalError, "\(error)"))
        }
    }

    private func model(_ context: BasicRequestContext) throws(InferenceError) -> ServedModel {
        try model(named: context.parameters.get("model") ?? "")
    }

    /// The served model of that name; 404 (NOT_FOUND over gRPC) when there is none.
    func model(named name: String) throws(InferenceError) -> ServedModel {
        guard let model = byName[name] else {
            throw InferenceError(.notFound, "unknown model '\(name)' (served: \(models.map(\.name).joined(separator: ", ")))")
        }
        return model
    }

    private func respond(_ body: () throws(InferenceError) -> Response) throws -> Response {
        do {
            return try body()
        } catch {
            return Self.error(error)
        }
    }

    /// `Inference-Header-Content-Length`, nil when absent.
    static func headerLength(_ headers: HTTPFields) throws(InferenceError) -> Int? {
        guard let field = headers.first(where: { $0.name.canonicalName == "inference-header-content-length" }) else { return nil }
        guard let length = Int(field.value.trimmingCharacters(in: .whitespaces)), length >= 0 else {
            throw InferenceError(.badRequest, "Inference-Header-Content-Length '\(field.value)' is not a non-negative integer")
        }
        return length
    }

    static func metadata(_ tensor: TensorMetadata) -> [String: Any] {
        ["name": tensor.name, "datatype": tensor.datatype, "shape": tensor.shape]
    }

    static func error(_ error: InferenceError) -> Response {
        let status: HTTPResponse.Status = switch error.kind {
        case .badRequest: .badRequest
        case .notFound: .notFound
        case .unavailable: .serviceUnavailable
        case .internalError: .internalServerError
        }
        return json(status, ["error": error.message])
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The server's readiness, flipped once when it starts draining.
final class Readiness: @unchecked Sendable {
    private let lock = NSLock()
    private var ready = true

    var isReady: Bool {
        lock.lock()
        defer { lock.unlock() }
        return ready
    }

    func set(_ value: Bool) {
        lock.lock()
        ready = value
        lock.unlock()
    }
}

/// The first service the group shuts down: on graceful shutdown it marks the server not
/// ready and keeps it serving for `seconds`, so clients and load balancers see 503 on
/// readiness before the listeners close.
struct DrainService: Service {
    let seconds: Double
    let onDrain: @Sendable () -> Void

    func run() async throws {
        // Thrown on cancellation (the group ended another way): nothing to drain then.
        guard (try? await gracefulShutdown()) != nil else { return }
        onDrain()
        if seconds > 0 { try? await Task.sleep(for: .milliseconds(Int(seconds * 1000))) }
    }
}

/// A server `startInBackground` runs on loopback: the ports its listeners bound, and `stop`.
public final class BackgroundServer: Sendable {
    public let host: String
    public let httpPort: Int
    public let grpcPort: Int?
    public let metricsPort: Int?
    private let server: InferenceServer
    private let stopped: DispatchSemaphore

    fileprivate init(host: String, ports: [InferenceServer.Listener: Int], server: InferenceServer, stopped: DispatchSemaphore) {
        self.host = host
        httpPort = ports[.http] ?? 0
        grpcPort = ports[.grpc]
        metricsPort = ports[.metrics]
        self.server = server
        self.stopped = stopped
    }

    /// Drains and stops the server as a shutdown signal would, waiting up to 10 s for it.
    public func stop() {
        Task { [server] in await server.shutdown() }
        _ = stopped.wait(timeout: .now() + 10)
    }
}

extension InferenceServer {
    /// Runs the server on free ports of `host` in a background task, for the programs and
    /// tests that drive it from the same process (`visionc bench`'s remote variants); returns
    /// once every listener asked for is bound, or throws when the server fails or does not
    /// come up within `timeout` seconds. Logs warnings and errors only.
    public func startInBackground(host: String = "127.0.0.1", grpc: Bool = true, metrics: Bool = false, timeout: Double = 30) throws -> BackgroundServer {
        let ports = BoundPorts(expected: [.http] + (grpc ? [.grpc] : []) + (metrics ? [.metrics] : []))
        let stopped = DispatchSemaphore(value: 0)
        Task {
            do {
                try await run(host: host, port: 0, grpcPort: grpc ? 0 : nil, metricsPort: metrics ? 0 : nil, handleSignals: false, quiet: true) {
                    ports.set($0, $1)
                }
            } catch {
                ports.fail(error)
            }
            stopped.signal()
        }
        return BackgroundServer(host: host, ports: try ports.wait(seconds: timeout), server: self, stopped: stopped)
    }
}

/// The ports a background server's listeners came up on, waited for by the thread that started it.
private final class BoundPorts: @unchecked Sendable {
    private let expected: Set<InferenceServer.Listener>
    private let condition = NSCondition()
    private var ports: [InferenceServer.Listener: Int] = [:]
    private var error: Error?

    init(expected: [InferenceServer.Listener]) { self.expected = Set(expected) }

    func set(_ listener: InferenceServer.Listener, _ port: Int) {
        condition.lock()
        ports[listener] = port
        condition.broadcast()
        condition.unlock()
    }

    func fail(_ error: Error) {
        condition.lock()
        self.error = error
        condition.broadcast()
        condition.unlock()
    }

    func wait(seconds: Double) throws -> [InferenceServer.Listener: Int] {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !expected.isSubset(of: ports.keys) && error == nil {
            guard condition.wait(until: deadline) else { break }
        }
        if let error { throw DriverError("the server did not start: \(error)") }
        guard expected.isSubset(of: ports.keys) else { throw DriverError("the server did not start within \(Int(seconds)) s") }
        return ports
    }
}

/// The running server's service group, set once by `run`.
private final class RunningGroup: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: ServiceGroup?

    var group: ServiceGroup? { lock.withLock { stored } }
    func set(_ group: ServiceGroup) { lock.withLock { stored = group } }
}
