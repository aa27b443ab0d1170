import Broker
import Foundation
import PipelineSpec
import IR
import Kernels
import Passes
import Runtime

/// How a variant's requests reach the compiled graph: called in this process, or sent to a
/// server over one of the Open Inference Protocol's bindings on loopback, so that the
/// difference between them is the server's overhead (the paper's parse/serialize, copies and
/// queueing).
public enum BenchTransport: String, CaseIterable, Sendable, Codable {
    /// The runner called directly: no server.
    case inProcess = "in-process"
    /// REST: a JSON request header with the image as binary tensor data (an image cannot be
    /// a JSON string), every output answered as JSON.
    case httpJSON = "http-json"
    /// REST with Triton's binary tensor data extension both ways.
    case httpBinary = "http-binary"
    /// gRPC `ModelInfer` with `raw_input_contents`; outputs in `raw_output_contents`.
    case grpc
}

/// A named compile configuration measured by `visionc bench`: `O0`, `O2`, `O2-fast`, …,
/// and how its requests travel (`O2@grpc`).
public struct BenchVariant: Sendable {
    public var name: String
    public var options: CompileOptions
    public var transport: BenchTransport
    /// A server that is already running (`http://host:port`, `grpc://host:port`): the variant
    /// measures it instead of starting one; nil for the variants bench serves itself.
    public var endpoint: String?

    public init(name: String, options: CompileOptions, transport: BenchTransport = .inProcess) {
        self.name = name
        self.options = options
        self.transport = transport
    }

    /// A variant that sends to the server at `url`: `http://HOST:PORT` (REST, binary tensor
    /// data both ways) or `grpc://HOST:PORT`.
    public init(url: String) throws {
        let transport: BenchTransport
        if url.hasPrefix("http://") {
            transport = .httpBinary
        } else if url.hasPrefix("grpc://") {
            transport = .grpc
        } else {
            throw DriverError("--url '\(url)': expected http://HOST:PORT or grpc://HOST:PORT")
        }
        self.init(name: url, options: CompileOptions(), transport: transport)
        endpoint = url
    }

    /// Parses `LEVEL[-FIDELITY][-native][@TRANSPORT]`: `O0`, `O2`, `O2-exact`, `O2-fast`,
    /// `O2-native`, `O2-fast-native` (fidelity defaults to exact; `native` keeps every node on
    /// the native kernels, else the placement passes use every backend this machine has), and
    /// `O2@http-binary`, `O2@grpc`, … (a server on loopback; default in-process).
    public init(parsing text: String) throws {
        let transports = BenchTransport.allCases.map(\.rawValue).joined(separator: ", ")
        let halves = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        var transport = BenchTransport.inProcess
        if halves.count == 2 {
            guard let parsed = BenchTransport(rawValue: halves[1]) else {
                throw DriverError("variant '\(text)': unknown transport '\(halves[1])'; expected one of \(transports)")
            }
            transport = parsed
        }
        let parts = halves[0].split(separator: "-").map(String.init)
        let levels = OptimizationLevel.allCases.map(\.rawValue)
        let fidelities = Fidelity.allCases.map(\.rawValue)
        guard let levelName = parts.first, let level = OptimizationLevel(rawValue: levelName) else {
            throw DriverError("variant '\(text)': expected LEVEL[-FIDELITY][-native] with LEVEL one of \(levels.joined(separator: ", "))")
        }
        var options = CompileOptions(level: level)
        for part in parts.dropFirst() {
            if let fidelity = Fidelity(rawValue: part) {
                options.fidelity = fidelity
            } else if part == Backend.native.rawValue {
                options.target = .native
            } else {
                throw DriverError("variant '\(text)': unknown part '\(part)'; expected a fidelity (\(fidelities.joined(separator: ", "))) or native")
            }
        }
        self.init(name: text, options: options, transport: transport)
    }

    /// The name without its transport: variants with the same configuration share one
    /// compiled graph (and one server); a running server's is its URL.
    public var configuration: String { String(name.split(separator: "@", maxSplits: 1).first ?? "") }
}

/// How much each variant is measured per input and concurrency level.
public enum BenchBudget: Sendable, Equatable {
    /// Completed requests per variant (split over the rounds).
    case requests(Int)
    /// Seconds of closed-loop load per variant (split over the rounds).
    case seconds(Double)
}

/// A simulated server under closed-loop load: `concurrency` clients each send a request,
/// wait for its answer and send the next; `workers` runners (each an `Executable` with its
/// own arena and `threadsPerWorker` kernel threads) serve them. With more clients than
/// workers a request waits for a free worker: that wait is the `queue` category.
public struct LoadShape: Sendable, Equatable, Codable {
    public var concurrency: Int
    public var workers: Int
    public var threadsPerWorker: Int

    public init(concurrency: Int, workers: Int, threadsPerWorker: Int) {
        self.concurrency = max(1, concurrency)
        self.workers = min(max(1, workers), self.concurrency)
        self.threadsPerWorker = max(1, threadsPerWorker)
    }

    /// The default server for `concurrency` clients on `cores` cores: one worker per client
    /// up to the core count (more would only time-slice the same cores), and the cores
    /// shared out among the workers, so that the server never runs more kernel threads than
    /// cores: at concurrency 1 one worker uses every core; from `cores` clients on each
    /// worker is single-threaded and extra clients queue. `workers`/`threads` override.
    public static func closedLoop(concurrency: Int, cores: Int, workers: Int? = nil, threads: Int? = nil) -> LoadShape {
        let serving = min(workers ?? min(concurrency, cores), max(1, concurrency))
        return LoadShape(concurrency: concurrency, workers: serving, threadsPerWorker: threads ?? max(1, cores / max(1, serving)))
    }
}

/// One input of a benchmark: an image file, or a folder whose JPEGs are sent in turn.
/// Files are read before measuring, so disk time never counts.
public struct BenchInput: Sendable {
    public var name: String
    public var payloads: [Tensor]
    /// Width × height when every file has the same size (from the JPEG header).
    public var width: Int?
    public var height: Int?
    public var progressive: Bool?
    /// Mean megapixels of the files (nil when a header did not read).
    public var megapixels: Double?

    /// "5120×2880", or the file count of a folder of mixed sizes.
    public var sizeLabel: String {
        if let width, let height { return "\(width)×\(height)" }
        return "\(payloads.count) files"
    }

    /// Reads images and folders (their `.jpg`/`.jpeg` files, not recursive), in the order given.
    public static func load(_ paths: [String]) throws -> [BenchInput] {
        let decoder = try JPEGDecoder()
        return try paths.map { path in
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw DriverError("\(path): no such file or folder")
            }
            var files = [path]
            if isFolder.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
                files = names.filter { ["jpg", "jpeg", "png"].contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }
                    .map { URL(fileURLWithPath: path).appendingPathComponent($0).path }
                guard !files.isEmpty else { throw DriverError("\(path): folder holds no .jpg, .jpeg or .png file") }
            }
            let payloads = try files.map { try PipelineRunner.readInput(path: $0) }
            // Width, height and (JPEG only) progressiveness, from the header of either format.
            let headers = payloads.map { payload -> (width: Int, height: Int, progressive: Bool?)? in
                guard case .u8(let bytes) = payload.data else { return nil }
                return bytes.withUnsafeBytes { raw in
                    if PNGDecoder.isPNG(raw) { return (try? PNGDecoder.readHeader(raw)).map { ($0.width, $0.height, nil) } }
                    return (try? decoder.readHeader(raw)).map { ($0.width, $0.height, $0.isProgressive) }
                }
            }
            var input = BenchInput(name: path, payloads: payloads)
            let sizes = headers.compactMap { $0.map { Double($0.width * $0.height) / 1e6 } }
            if sizes.count == headers.count { input.megapixels = sizes.reduce(0, +) / Double(sizes.count) }
            if let first = headers.first ?? nil,
               headers.allSatisfy({ $0?.width == first.width && $0?.height == first.height }) {
                input.width = first.width
                input.height = first.height
                if headers.count == 1 { input.progressive = first.progressive }
            }
            return input
        }
    }
}

/// Time of one node, median over the measured requests.
public struct NodeTime: Sendable, Equatable {
    public var name: String
    public var op: Op
    public var category: StageCategory
    public var medianMs: Double
}

/// One variant under one load on one input.
public struct VariantLoadResult: Sendable {
    public var variant: String
    public var requests: Int
    /// Images served (`requests × batch`).
    public var images: Int
    /// Measured window time, summed over rounds.
    public var seconds: Double
    public var throughputRPS: Double { seconds > 0 ? Double(requests) / seconds : 0 }
    public var imagesPerSecond: Double { seconds > 0 ? Double(images) / seconds : 0 }
    /// Request latency as a client sees it: queue wait + service.
    public var latencyMs: Stats
    /// Mean ms per request in each category (every category present). Means, not medians,
    /// so that the categories add up to the mean latency, as in a stacked bar.
    public var breakdownMs: [StageCategory: Double]
    public var nodes: [NodeTime]
    /// Median over rounds of (this variant's throughput / the first variant's) in the same round.
    public var throughputRatioToFirst: Double
    public var latencyP50RatioFirstOverThis: Double
    /// For a graph with batching queues: what each queue did during the measured rounds.
    public var queues: [QueueFigures] = []
    /// For a graph with broker edges run through Redis: each edge's counters over the measured
    /// rounds, and its backlog and pending entries at their largest after a window.
    public var brokers: [EdgeFigures] = []

    /// Share of the mean request in each category (0…1).
    public var breakdownShare: [StageCategory: Double] {
        let total = breakdownMs.values.reduce(0, +)
        return breakdownMs.mapValues { total > 0 ? $0 / total : 0 }
    }
}

/// Every variant under one load shape on one input.
/// Reads a runner's broker edges in Redis before and after each measured window: counters as
/// differences from the start, backlog and pending at their largest. An edge Redis cannot be
/// asked about is left out (the bench's requests themselves fail then).
struct BrokerSampler {
    private let addresses: [BrokerAddress]
    private let connections: [RedisConnection]
    private var start: [EdgeFigures?] = []
    private(set) var figures: [EdgeFigures] = []

    init(_ addresses: [BrokerAddress]) {
        self.addresses = addresses
        connections = addresses.map { RedisConnection($0, timeoutSeconds: 2) }
        start = addresses.indices.map(read)
    }

    private func read(_ edge: Int) -> EdgeFigures? { try? EdgeFigures.read(addresses[edge], on: connections[edge]) }

    mutating func sample() {
        figures = addresses.indices.compactMap { edge -> EdgeFigures? in
            guard let first = start[edge], var now = read(edge) else { return nil }
            let peak = figures.first { $0.edge == now.edge }
            now.processed -= first.processed
            now.failed -= first.failed
            now.redelivered -= first.redelivered
            now.deadLetters -= first.deadLetters
            now.length = max(now.length, peak?.length ?? 0)
            now.pending = max(now.pending, peak?.pending ?? 0)
            return now
        }
    }
}

/// What one batching queue did between two snapshots of its pipeline.
public struct QueueFigures: Sendable, Equatable, Codable {
    /// The queue's IR value (`%classifier.queue`).
    public var name: String
    public var items: Int
    public var batches: Int
    public var meanBatch: Double
    /// Batch size → how many batches had it.
    public var batchSizes: [String: Int]
    public var meanWaitMs: Double
    /// The most items queued at once since the pipeline started (a maximum does not subtract).
    public var maxDepth: Int
    /// Requests dropped for waiting longer than the queue's `timeout_us`.
    public var timedOut: Int = 0

    enum CodingKeys: String, CodingKey {
        case name, items, batches
        case meanBatch = "mean_batch"
        case batchSizes = "batch_sizes"
        case meanWaitMs = "mean_wait_ms"
        case maxDepth = "max_depth"
        case timedOut = "timed_out"
    }

    /// Figures of every batched stage's queue from `before` to `after` (the input stage's
    /// queue, which only takes one request at a time, is left out).
    public static func between(_ before: PipelineStatistics, _ after: PipelineStatistics) -> [QueueFigures] {
        zip(before.stages, after.stages).dropFirst().compactMap { old, new -> QueueFigures? in
            guard let o = old.queue, let n = new.queue else { return nil }
            let items = n.items - o.items, batches = n.batches - o.batches
            var sizes: [String: Int] = [:]
            for size in n.batchSizes.indices.dropFirst() where n.batchSizes[size] > o.batchSizes[size] {
                sizes[String(size)] = n.batchSizes[size] - o.batchSizes[size]
            }
            return QueueFigures(
                name: new.name, items: items, batches: batches, meanBatch: batches > 0 ? Double(items) / Double(batches) : 0,
                batchSizes: sizes, meanWaitMs: items > 0 ? (n.totalWaitSeconds - o.totalWaitSeconds) / Double(items) * 1000 : 0,
                maxDepth: n.maxDepth, timedOut: n.timedOut - o.timedOut)
        }
    }
}

public struct LevelResult: Sendable {
    public var load: LoadShape
    public var variants: [VariantLoadResult]
}

public struct InputResult: Sendable {
    public var name: String
    public var sizeLabel: String
    public var progressive: Bool?
    public var files: Int
    /// Mean megapixels of the source images (nil when a header did not read).
    public var megapixels: Double? = nil
    public var levels: [LevelResult]

    /// The decode's throughput in megapixels of the source image per second: the decode
    /// floor beside the other stages (a scaled or pruned decode counts the full image, as a
    /// user sees it); nil without a decode or a known size.
    public func decodeMegapixelsPerSecond(_ variant: VariantLoadResult) -> Double? {
        guard let megapixels, let ms = variant.breakdownMs[.decode], ms > 0 else { return nil }
        return megapixels / (ms / 1000)
    }
}

/// All figures of one `visionc bench` run.
public struct BenchResults: Sendable {
    public var machine: MachineInfo
    public var graph: String
    public var variants: [String]
    public var batch: Int
    public var rounds: Int
    public var inputs: [InputResult]
}

/// Where a benchmark is, for a progress bar.
public struct BenchProgress: Sendable {
    public var completedWindows: Int
    public var totalWindows: Int
    public var label: String
    public var fraction: Double { totalWindows > 0 ? Double(completedWindows) / Double(totalWindows) : 1 }
}

/// Measures variants of one pipeline under closed-loop load, side by side: for each input
/// and concurrency level, every round runs one measured window of each variant (A B A B …),
/// so machine noise hits them alike, and ratios are medians of per-round ratios.
public struct Benchmark {
    public var variants: [BenchVariant]
    public var concurrency: [Int]
    public var budget: BenchBudget
    public var rounds: Int
    /// Unmeasured requests each worker runs before the first round of a level.
    public var warmup: Int
    /// Images per request; a worker runs them one after another (pipelines take one image).
    public var batch: Int
    public var threads: Int?
    public var workers: Int?
    public var cores: Int
    /// Starts the server that variants with a transport send to; required when one has one.
    public var serve: BenchServerFactory?
    /// Where the graph's broker edges run in the in-process variants.
    public var brokers: BrokerEdges

    public init(
        variants: [BenchVariant], concurrency: [Int] = [1], budget: BenchBudget = .requests(20), rounds: Int = 5,
        warmup: Int = 2, batch: Int = 1, threads: Int? = nil, workers: Int? = nil,
        cores: Int = ProcessInfo.processInfo.activeProcessorCount, serve: BenchServerFactory? = nil,
        brokers: BrokerEdges = .redis(server: nil)
    ) {
        self.serve = serve
        self.brokers = brokers
        self.variants = variants
        self.concurrency = concurrency
        self.budget = budget
        self.rounds = max(1, rounds)
        self.warmup = max(0, warmup)
        self.batch = max(1, batch)
        self.threads = threads
        self.workers = workers
        self.cores = max(1, cores)
    }

    public func loadShape(concurrency level: Int) -> LoadShape {
        LoadShape.closedLoop(concurrency: level, cores: cores, workers: workers, threads: threads)
    }

    public func run(graphPath: String, inputs: [BenchInput], progress: (BenchProgress) -> Void = { _ in }) throws -> BenchResults {
        if serve == nil, let remote = variants.first(where: { $0.transport != .inProcess }) {
            throw DriverError("variant '\(remote.name)' sends to a server, and this benchmark has none to start")
        }
        // One compile per configuration: `O2` and `O2@grpc` run the same graph.
        var compiledByConfiguration: [String: CompiledPipeline] = [:]
        for variant in variants where compiledByConfiguration[variant.configuration] == nil {
            compiledByConfiguration[variant.configuration] = try Compiler.compile(path: graphPath, options: variant.options)
        }
        let compiled = variants.map { compiledByConfiguration[$0.configuration]! }
        var pools: [String: [BenchTarget]] = [:]
        var servers: [String: any BenchServer] = [:]
        func targets(_ v: Int, _ load: LoadShape) throws -> [BenchTarget] {
            let shape = "\(load.workers)/\(load.threadsPerWorker)"
            if variants[v].transport != .inProcess {
                // Every client sends at once; the server queues them for its `workers` (a
                // running server at an endpoint has its own and serves every level).
                let key = variants[v].endpoint ?? "\(variants[v].configuration)/\(shape)"
                let server = try servers[key] ?? serve!(variants[v], compiled[v], load)
                servers[key] = server
                return Array(repeating: .server(server, variants[v].transport), count: load.concurrency)
            }
            // A graph with queues runs on one shared runner that every client calls at once
            // (that is how requests meet in a batch); its first stage has `workers` workers.
            let staged = StagePartition.isStaged(compiled[v].optimized)
            let key = "\(v)/\(shape)"
            if let cached = pools[key] { return staged ? Array(repeating: cached[0], count: load.concurrency) : cached }
            let made: [BenchTarget] = staged
                ? [.runner(try PipelineRunner(compiled[v], threads: load.threadsPerWorker, inputWorkers: load.workers, brokers: brokers))]
                : try (0..<load.workers).map { _ in BenchTarget.runner(try PipelineRunner(compiled[v], threads: load.threadsPerWorker)) }
            pools[key] = made
            return staged ? Array(repeating: made[0], count: load.concurrency) : made
        }

        defer { for server in servers.values { server.close() } }
        let total = inputs.count * concurrency.count * rounds * variants.count
        var done = 0
        var results: [InputResult] = []
        for input in inputs {
            var levels: [LevelResult] = []
            for level in concurrency {
                let load = loadShape(concurrency: level)
                let pools = try variants.indices.map { try targets($0, load) }
                for pool in pools {
                    for target in pool.prefix(load.workers) {
                        for i in 0..<warmup { _ = try target.serve(input.payloads[i % input.payloads.count], name: input.name) }
                    }
                }
                var windows = Array(repeating: [Window](), count: variants.count)
                let queuesBefore = pools.map { $0.first?.runner?.queueStatistics() }
                var edges = pools.map { BrokerSampler($0.first?.runner?.brokerAddresses ?? []) }
                for round in 0..<rounds {
                    for v in variants.indices {
                        progress(BenchProgress(
                            completedWindows: done, totalWindows: total,
                            label: "\(URL(fileURLWithPath: input.name).lastPathComponent) c=\(level) \(variants[v].name) round \(round + 1)/\(rounds)"))
                        let server = pools[v].first?.server
                        let before = server?.totals()
                        var window = try measureWindow(pools[v], input: input, load: load)
                        edges[v].sample()
                        if let server, let before { window.attribute(server.totals().since(before)) }
                        windows[v].append(window)
                        done += 1
                    }
                }
                levels.append(LevelResult(load: load, variants: variants.indices.map { v in
                    var result = summarize(variants[v].name, windows[v], first: windows[0])
                    if let before = queuesBefore[v], let after = pools[v].first?.runner?.queueStatistics() {
                        result.queues = QueueFigures.between(before, after)
                    }
                    result.brokers = edges[v].figures
                    return result
                }))
            }
            results.append(InputResult(
                name: input.name, sizeLabel: input.sizeLabel, progressive: input.progressive, files: input.payloads.count,
                megapixels: input.megapixels, levels: levels))
        }
        progress(BenchProgress(completedWindows: total, totalWindows: total, label: "done"))
        return BenchResults(
            machine: MachineInfo.current(threads: threads), graph: graphPath, variants: variants.map(\.name), batch: batch,
            rounds: rounds, inputs: results)
    }

    // MARK: - One measured window

    /// What one request cost.
    struct RequestSample {
        var latency: Double
        var queue: Double
        /// Seconds per `StageCategory.allCases` index, `queue` and `other` included.
        var categories: [Double]
        var nodes: [NodeTiming]
    }

    struct Window {
        var seconds: Double
        var samples: [RequestSample]
        var throughput: Double { seconds > 0 ? Double(samples.count) / seconds : 0 }

        /// Splits remote requests' latency by the server's own accounting over the window:
        /// each request gets the server's mean time per category (its queue included), and
        /// `other` gets the rest of its latency, which is the protocol: the client's encoding
        /// and parsing, loopback, the server's parsing and serializing, and copies.
        mutating func attribute(_ server: ServerTotals) {
            guard server.requests > 0 else { return }
            let means = StageCategory.allCases.map { (server.seconds[$0] ?? 0) / Double(server.requests) }
            let other = StageCategory.allCases.firstIndex(of: .other)!
            let queue = StageCategory.allCases.firstIndex(of: .queue)!
            // Not clamped at zero: a request faster than the server's mean gets a negative
            // share, so that over the window the categories add up to the mean latency.
            for i in samples.indices {
                var categories = means
                categories[other] += samples[i].latency - means.reduce(0, +)
                samples[i].categories = categories
                samples[i].queue = means[queue]
            }
        }
    }

    private func measureWindow(_ pool: [BenchTarget], input: BenchInput, load: LoadShape) throws -> Window {
        let limit: RequestLimit
        switch budget {
        case .requests(let count):
            limit = .count(max(load.concurrency, (count + rounds - 1) / rounds))
        case .seconds(let seconds):
            limit = .deadline(seconds / Double(rounds))
        }
        let state = WindowState(pool: pool, limit: limit)
        let batch = self.batch
        let group = DispatchGroup()
        for client in 0..<load.concurrency {
            group.enter()
            let thread = Thread {
                state.waitForStart()
                state.runClient(offset: client, input: input, batch: batch)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        state.start(clients: load.concurrency)
        group.wait()
        return try state.finish()
    }
}

/// What serves a window's requests: a `PipelineRunner` handed between client threads (sound
/// because `WindowState` gives each runner to one thread at a time, which is the runner's
/// contract, or the runner is shared), or a server reached over a transport.
enum BenchTarget: @unchecked Sendable {
    case runner(PipelineRunner)
    case server(any BenchServer, BenchTransport)

    var runner: PipelineRunner? {
        if case .runner(let runner) = self { runner } else { nil }
    }

    var server: (any BenchServer)? {
        if case .server(let server, _) = self { server } else { nil }
    }

    /// Serves one image: the node profile in process, no entries over a transport (the
    /// server's accounting is read per window instead).
    func serve(_ payload: Tensor, name: String) throws -> [NodeTiming] {
        switch self {
        case .runner(let runner):
            return try runner.run(input: payload, name: name).0.profile.entries
        case .server(let server, let transport):
            guard case .u8(let bytes) = payload.data else { throw DriverError("\(name): a request to a server is an encoded image (bytes)") }
            try server.send(bytes, over: transport)
            return []
        }
    }
}

enum RequestLimit {
    case count(Int)
    case deadline(Double)
}

/// Shared state of one window: the free workers, the request budget and the samples, all
/// behind one condition lock (clients touch it twice per request, far from the hot loops).
final class WindowState: @unchecked Sendable {
    private let pool: [BenchTarget]
    private let limit: RequestLimit
    private let condition = NSCondition()
    private var free: [Int]
    private var issued = 0
    private var waitingClients = 0
    private var started = false
    private var start = 0.0
    private var lastFinish = 0.0
    private var samples: [Benchmark.RequestSample] = []
    private var failure: Error?

    init(pool: [BenchTarget], limit: RequestLimit) {
        self.pool = pool
        self.limit = limit
        free = Array(pool.indices.reversed())
    }

    /// Called by each client thread: blocks until every client is ready, so the window
    /// starts with the full load instead of one thread creation after another.
    func waitForStart() {
        condition.lock()
        waitingClients += 1
        condition.broadcast()
        while !started { condition.wait() }
        condition.unlock()
    }

    /// Starts the window once `clients` threads wait for it.
    func start(clients: Int) {
        condition.lock()
        while waitingClients < clients { condition.wait() }
        start = benchSeconds()
        lastFinish = start
        started = true
        condition.broadcast()
        condition.unlock()
    }

    /// Claims the next request of the window, or nil when the budget is spent or a request failed.
    private func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        guard failure == nil else { return nil }
        switch limit {
        case .count(let count): guard issued < count else { return nil }
        case .deadline(let seconds): guard benchSeconds() - start < seconds else { return nil }
        }
        issued += 1
        return issued - 1
    }

    /// A free worker, and whether the request had to wait for it (only then is it queued).
    private func acquireWorker() -> (worker: Int, waited: Bool) {
        condition.lock()
        defer { condition.unlock() }
        let waited = free.isEmpty
        while free.isEmpty { condition.wait() }
        return (free.removeLast(), waited)
    }

    private func release(_ worker: Int, sample: Benchmark.RequestSample?, error: Error?, finishedAt: Double) {
        condition.lock()
        free.append(worker)
        if let sample { samples.append(sample) }
        if let error, failure == nil { failure = error }
        lastFinish = max(lastFinish, finishedAt)
        condition.signal()
        condition.unlock()
    }

    func runClient(offset: Int, input: BenchInput, batch: Int) {
        while let request = claim() {
            let issuedAt = benchSeconds()
            let (worker, waited) = acquireWorker()
            let startedAt = benchSeconds()
            var categories = Array(repeating: 0.0, count: StageCategory.allCases.count)
            var nodes: [NodeTiming] = []
            var serviceInNodes = 0.0
            do {
                for image in 0..<batch {
                    let payload = input.payloads[(request * batch + image + offset) % input.payloads.count]
                    let entries = try pool[worker].serve(payload, name: input.name)
                    for entry in entries {
                        categories[StageCategory.allCases.firstIndex(of: entry.category)!] += entry.seconds
                        serviceInNodes += entry.seconds
                    }
                    if image == 0 { nodes = entries }
                }
            } catch {
                release(worker, sample: nil, error: error, finishedAt: benchSeconds())
                return
            }
            let finishedAt = benchSeconds()
            let queue = waited ? startedAt - issuedAt : 0
            categories[StageCategory.allCases.firstIndex(of: .queue)!] += queue
            // Time outside every node: plan lookup, input copy-in, output copy-out, rankings,
            // and taking a worker that was free (a lock, not a queue).
            categories[StageCategory.allCases.firstIndex(of: .other)!] += max(0, finishedAt - issuedAt - queue - serviceInNodes)
            release(worker, sample: Benchmark.RequestSample(latency: finishedAt - issuedAt, queue: queue, categories: categories, nodes: nodes),
                    error: nil, finishedAt: finishedAt)
        }
    }

    func finish() throws -> Benchmark.Window {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        return Benchmark.Window(seconds: lastFinish - start, samples: samples)
    }
}

/// Monotonic seconds for the load generator.
func benchSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

extension Benchmark {
    func summarize(_ name: String, _ windows: [Window], first: [Window]) -> VariantLoadResult {
        let samples = windows.flatMap(\.samples)
        let count = Double(max(1, samples.count))
        var breakdown: [StageCategory: Double] = [:]
        for (index, category) in StageCategory.allCases.enumerated() {
            breakdown[category] = samples.reduce(0) { $0 + $1.categories[index] } * 1000 / count
        }
        let reference = samples.first?.nodes ?? []
        let comparable = samples.filter { $0.nodes.count == reference.count }
        let nodes = reference.indices.map { i in
            NodeTime(name: reference[i].name, op: reference[i].op, category: reference[i].category,
                     medianMs: Stats(comparable.map { $0.nodes[i].seconds * 1000 }).p50)
        }
        let p50s = windows.map { Stats($0.samples.map(\.latency)).p50 }
        let firstP50s = first.map { Stats($0.samples.map(\.latency)).p50 }
        return VariantLoadResult(
            variant: name, requests: samples.count, images: samples.count * batch,
            seconds: windows.reduce(0) { $0 + $1.seconds },
            latencyMs: Stats(samples.map { $0.latency * 1000 }), breakdownMs: breakdown, nodes: nodes,
            throughputRatioToFirst: Stats.medianOfRatios(windows.map(\.throughput), first.map(\.throughput)),
            latencyP50RatioFirstOverThis: Stats.medianOfRatios(firstP50s, p50s))
    }
}
