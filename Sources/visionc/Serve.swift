import ArgumentParser
import Driver
import Foundation
import Serve

/// `visionc serve GRAPH…`: each graph compiled once and served as a model over the Open
/// Inference Protocol (KServe v2 REST, as Triton speaks it), until SIGTERM or SIGINT.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve pipeline graphs over the Open Inference Protocol (KServe v2 / Triton REST and gRPC).",
        discussion: """
            Each graph is a model named by its `pipeline:` field, taking one BYTES input (an
            encoded image) and giving the graph's outputs, plus `result` (the ranked classes as
            JSON) for graphs that rank. Clients: tritonclient, KServe's, curl (a body posted with
            `Inference-Header-Content-Length: 0` is the image itself). Prints
            `visionc serve: http://HOST:PORT` once it listens. SIGTERM or SIGINT drains:
            readiness turns 503, requests are served for --drain-seconds, then the listeners
            close, in-flight requests finish and it exits 0.
            """)

    @Argument(help: "Pipeline graphs (YAML).") var graphs: [String]
    @OptionGroup var flags: CompileFlags
    @OptionGroup var brokers: BrokerFlags
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "HTTP port (0: any free port, printed at start).") var httpPort = 8000
    @Option(help: "gRPC port (inference.GRPCInferenceService; 0: any free port).") var grpcPort = 8001
    @Flag(help: "Serve no gRPC.") var noGrpc = false
    @Option(help: "Port of the Prometheus metrics (GET /metrics; 0: any free port).") var metricsPort = 8002
    @Flag(help: "Serve no Prometheus metrics.") var noMetrics = false
    @Option(help: "Worker threads per model (default: one per core).") var workers: Int?
    @Option(help: "Kernel threads per worker (default: cores / workers).") var threads: Int?
    @Option(help: "Requests that may wait for a worker, per model, before new ones get 503.") var maxQueueSize = 64
    @Option(help: "Priority levels of each model's queue (a request's `priority` parameter; 1 is served first).") var priorityLevels = 1
    @Option(help: "Level of a request that names no priority (default: the lowest).") var defaultPriority: Int?
    @Option(help: "Microseconds a request may wait for a worker before it is answered 503 (0: no limit; a request's `timeout` parameter overrides it).")
    var queueTimeoutUs = 0
    @Option(help: "Largest request body accepted, in MiB (larger: 400).") var maxBodyMb = 64
    @Option(help: "On SIGTERM/SIGINT: seconds readiness answers 503 while requests are still served, before the listeners close and in-flight requests finish.")
    var drainSeconds = 2.0

    func validate() throws {
        guard !graphs.isEmpty else { throw ValidationError("give at least one pipeline graph") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be in 0...65535") }
        guard (0...65535).contains(grpcPort) else { throw ValidationError("--grpc-port must be in 0...65535") }
        guard (0...65535).contains(metricsPort) else { throw ValidationError("--metrics-port must be in 0...65535") }
        guard maxQueueSize >= 0 else { throw ValidationError("--max-queue-size must be at least 0") }
        guard (1...16).contains(priorityLevels) else { throw ValidationError("--priority-levels must be in 1...16") }
        if let defaultPriority, !(1...priorityLevels).contains(defaultPriority) {
            throw ValidationError("--default-priority must be a level in 1...\(priorityLevels)")
        }
        guard queueTimeoutUs >= 0 else { throw ValidationError("--queue-timeout-us must be at least 0") }
        guard (1...4096).contains(maxBodyMb) else { throw ValidationError("--max-body-mb must be in 1...4096") }
        guard drainSeconds >= 0, drainSeconds <= 3600 else { throw ValidationError("--drain-seconds must be in 0...3600") }
    }

    func run() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let workerCount = workers ?? cores
        let serving = ServingOptions(
            workers: workerCount, threadsPerWorker: threads ?? max(1, cores / workerCount), maxQueueSize: maxQueueSize,
            priorityLevels: priorityLevels, defaultPriority: defaultPriority, queueTimeoutMicroseconds: queueTimeoutUs,
            brokers: brokers.edges)
        let server: InferenceServer
        do {
            let registry = MetricsRegistry()
            let models = try graphs.map {
                try ServedModel(try Compiler.compile(path: $0, options: flags.options), options: serving, registry: registry)
            }
            server = try InferenceServer(models: models, maxBodyBytes: maxBodyMb << 20, registry: registry)
        } catch {
            throw fail(error)
        }
        let (host, port, metricsPort, drainSeconds) = (host, httpPort, noMetrics ? nil : metricsPort, drainSeconds)
        let grpcPort = noGrpc ? nil : grpcPort
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Task {
            do {
                try await server.run(host: host, port: port, grpcPort: grpcPort, metricsPort: metricsPort, drainSeconds: drainSeconds) { listener, bound in
                    // Written straight to the descriptor, so a script reading the pipe sees it at once.
                    let line = switch listener {
                    case .http: "visionc serve: http://\(host):\(bound) · models \(server.models.map(\.name).joined(separator: ", "))\n"
                    case .grpc: "visionc serve: grpc://\(host):\(bound)\n"
                    case .metrics: "visionc serve: metrics at http://\(host):\(bound)/metrics\n"
                    }
                    FileHandle.standardOutput.write(Data(line.utf8))
                }
            } catch {
                failure.error = error
            }
            done.signal()
        }
        done.wait()
        if let error = failure.error { throw fail(error) }
    }
}

/// The server task's error, read after it ends.
private final class FailureBox: @unchecked Sendable {
    var error: Error?
}
