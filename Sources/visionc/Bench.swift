import ArgumentParser
import Driver
import Foundation
import IR
import Passes
import Serve

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a pipeline under closed-loop load, variants interleaved: throughput, latency percentiles, time per category and node.",
        discussion: """
            Pipeline:   visionc bench GRAPH INPUTS... [--concurrency 1,2,4,8] [--variants O0,O2,O2-fast] [--json F] [--svg F] [--markdown F]
            Model only: visionc bench --model FILE.onnx --shape NAME=1x3x224x224 [--batch 1,8] [--threads N] [--json F]

            INPUTS are JPEG files or folders (a folder is one input whose files are sent in turn).
            At concurrency N, N clients each send a request and wait for its answer (closed loop);
            min(N, cores) workers serve them with max(1, cores / workers) kernel threads each
            (override with --workers / --threads); a request waiting for a free worker counts as
            `queue`. `other` is time in the runner outside every node (plan lookup, copies).

            --url http://HOST:PORT or grpc://HOST:PORT adds a running server (any Open Inference
            Protocol server with the graph's model) as a variant; over REST its statistics
            endpoint gives the server's split (Triton's compute_input shows as preprocess).

            A variant with a transport (O2@http-json, O2@http-binary, O2@grpc) sends its requests
            to `visionc serve`'s server, started on loopback with the same workers and threads,
            over the Open Inference Protocol; its breakdown is the server's own accounting, and
            its `other` is everything else: the protocol's overhead (client, loopback, parsing
            and serializing, copies). `--variants O2,O2@http-binary,O2@grpc` puts them side by side.
            """)

    @Argument(help: "Pipeline graph (YAML), then input images or folders.") var positional: [String] = []
    @OptionGroup var brokers: BrokerFlags
    @Option(help: "Concurrent clients, a comma list (closed loop).") var concurrency = "1"
    @Option(name: [.customLong("requests"), .customLong("iterations")],
            help: "Measured requests per variant, input and concurrency level (default 20 unless --duration).")
    var requests: Int?
    @Option(help: "Seconds of measured load per variant, input and concurrency level (instead of --requests).") var duration: Double?
    @Option(help: "Rounds the measurement is split into; each round runs every variant once, interleaved.") var rounds = 5
    @Option(help: "Unmeasured requests per worker before a level (model only: iterations).") var warmup = 2
    @Option(help: "Images per request (pipeline: one number, run one after another by a worker); model only: batch sizes, a comma list, replacing dim 0 of every input.")
    var batch: String?
    @Option(help: "Kernel threads per worker (default: cores / workers; model only: all cores).") var threads: Int?
    @Option(help: "Workers serving the clients (default: min(concurrency, cores)).") var workers: Int?
    @Option(help: "Variants to measure interleaved, a comma list of LEVEL[-FIDELITY][@TRANSPORT]: O0, O2, O2-fast, O2@http-json, O2@http-binary, O2@grpc (default O0,O2; model only O2).")
    var variants: String?
    @Option(name: .customLong("url"), help: "Also measure a running server (http://HOST:PORT or grpc://HOST:PORT; visionc serve, Triton, …) serving the graph's model; repeatable.")
    var urls: [String] = []
    @Flag(help: "Measure one variant at this level (with --fidelity) instead of --variants.") var level: LevelFlag?
    @Option(help: "Fidelity of the one variant given by -O0/-O2.") var fidelity: Fidelity?
    @Option(help: "Write every figure as JSON to this file.") var json: String?
    @Option(help: "Write an SVG chart (breakdown bars, throughput vs concurrency) to this file.") var svg: String?
    @Option(help: "Write the report as Markdown to this file.") var markdown: String?
    @Option(help: "Show the N slowest nodes of each variant (0: none).") var topNodes = 8
    @Flag(help: "Show every node's median time.") var perNode = false
    @Option(help: "Model-only mode: an ONNX file.") var model: String?
    @Option(help: "Model-only mode: an input's dims, NAME=D0xD1x… (repeatable).") var shape: [String] = []

    func validate() throws {
        if model != nil {
            guard positional.isEmpty else { throw ValidationError("--model measures the model alone; give no GRAPH or INPUTS with it") }
            guard urls.isEmpty else { throw ValidationError("--url measures a server of a pipeline graph; it does not go with --model") }
            guard svg == nil, markdown == nil else { throw ValidationError("--svg and --markdown are for pipeline benchmarks; use --json with --model") }
        } else {
            guard positional.count >= 2 else { throw ValidationError("give a pipeline graph and at least one input image or folder (or --model FILE)") }
            guard shape.isEmpty else { throw ValidationError("--shape goes with --model") }
        }
        if let requests, requests < 1 { throw ValidationError("--requests must be at least 1") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be a positive number of seconds") }
        guard requests == nil || duration == nil else { throw ValidationError("give --requests or --duration, not both") }
        guard rounds >= 1, warmup >= 0 else { throw ValidationError("--rounds must be ≥ 1 and --warmup ≥ 0") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        guard variants == nil || (level == nil && fidelity == nil) else {
            throw ValidationError("give --variants or -O0/-O2/--fidelity, not both")
        }
        _ = try parseList(concurrency, option: "--concurrency")
        if let batch {
            let sizes = try parseList(batch, option: "--batch")
            guard model != nil || sizes.count == 1 else { throw ValidationError("--batch takes one number for a pipeline") }
        }
    }

    func run() throws {
        do {
            let variantList = try benchVariants()
            if let model {
                try runModel(model, variants: variantList)
            } else {
                try runPipeline(variants: variantList)
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            throw fail(error)
        }
    }

    private func benchVariants() throws -> [BenchVariant] {
        let running = try urls.map { try BenchVariant(url: $0) }
        guard Set(urls).count == urls.count else { throw DriverError("--url: each server once") }
        return try localVariants(defaults: running.isEmpty ? ["O0", "O2"] : ["O2"]) + running
    }

    /// The variants bench runs itself: --variants, or -O0/-O2 with --fidelity, or `defaults`.
    private func localVariants(defaults: [String]) throws -> [BenchVariant] {
        if let variants {
            let names = variants.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !names.isEmpty, Set(names).count == names.count else {
                throw DriverError("--variants '\(variants)': expected distinct names like O0,O2,O2-fast")
            }
            let parsed = try names.map { try BenchVariant(parsing: $0) }
            if model != nil, let remote = parsed.first(where: { $0.transport != .inProcess }) {
                throw DriverError("--variants: '\(remote.name)' sends to a server; --model measures the network in process only")
            }
            return parsed
        }
        if level != nil || fidelity != nil {
            let chosen = level ?? .O2
            let chosenFidelity = fidelity ?? .exact
            return [BenchVariant(name: chosen.rawValue + (chosenFidelity == .exact ? "" : "-\(chosenFidelity.rawValue)"),
                                 options: CompileOptions(level: chosen.level, fidelity: chosenFidelity))]
        }
        return try (model == nil ? defaults : ["O2"]).map { try BenchVariant(parsing: $0) }
    }

    // MARK: - Pipeline

    private func runPipeline(variants: [BenchVariant]) throws {
        let graph = positional[0]
        let inputs = try BenchInput.load(Array(positional.dropFirst()))
        let bench = Benchmark(
            variants: variants, concurrency: try parseList(concurrency, option: "--concurrency"),
            budget: duration.map { .seconds($0) } ?? .requests(requests ?? 20), rounds: rounds, warmup: warmup,
            batch: try batch.map { try parseList($0, option: "--batch")[0] } ?? 1, threads: threads, workers: workers,
            serve: BenchServers.factory(brokers: brokers.edges), brokers: brokers.edges)
        let machine = MachineInfo.current(threads: threads)
        print("visionc bench · \(machine.summary)")
        print("graph \(graph) · variants \(variants.map(\.name).joined(separator: ", ")) interleaved, \(rounds) rounds per level · batch \(bench.batch)")
        print("ratios: medians of per-round ratios · breakdown: mean ms per request (share of the mean request)\n")
        let bar = ProgressBar()
        let results = try bench.run(graphPath: graph, inputs: inputs) { bar.show($0) }
        bar.clear()
        let nodeLimit = perNode ? -1 : topNodes
        for input in results.inputs {
            print("\(input.name) (\(input.sizeLabel)\(input.progressive == true ? ", progressive" : ""))")
            print(BenchTables.summary(input, variants: results.variants).text)
            print(BenchTables.breakdown(input).text)
            if let queues = BenchTables.queues(input) { print(queues.text) }
            if let brokers = BenchTables.brokers(input) { print(brokers.text) }
            for (variant, count, table) in BenchTables.slowestNodes(input, limit: nodeLimit) {
                let shown = nodeLimit < 0 || count <= nodeLimit ? "all \(count) nodes" : "slowest \(nodeLimit) of \(count) nodes"
                print("  \(variant) at concurrency \(input.levels[0].load.concurrency): \(shown)")
                print(table.text.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n")
            }
        }
        try printFidelityAgreement(graph: graph, inputs: inputs, variants: variants)
        if let json { try write(BenchReport(results).encoded(), to: json) }
        if let svg { try write(Data(BenchChart.svg(results).utf8), to: svg) }
        if let markdown { try write(Data(BenchTables.markdown(results, nodeLimit: nodeLimit).utf8), to: markdown) }
    }

    /// For every `-fast` variant with an exact variant at the same level: whether the top-1
    /// class agrees and the largest output difference, on each input's first image.
    private func printFidelityAgreement(graph: String, inputs: [BenchInput], variants: [BenchVariant]) throws {
        for fast in variants where fast.options.fidelity == .fast && fast.transport == .inProcess {
            guard let exact = variants.first(where: {
                $0.transport == .inProcess && $0.options.fidelity == .exact && $0.options.level == fast.options.level && $0.options.target == fast.options.target
            }) else { continue }
            let exactRunner = try PipelineRunner(try Compiler.compile(path: graph, options: exact.options), threads: threads, brokers: brokers.edges)
            let fastRunner = try PipelineRunner(try Compiler.compile(path: graph, options: fast.options), threads: threads, brokers: brokers.edges)
            for input in inputs {
                guard let payload = input.payloads.first else { continue }
                let agreement = try FidelityAgreement(
                    exact: try exactRunner.run(input: payload, name: input.name).0,
                    fast: try fastRunner.run(input: payload, name: input.name).0)
                print(String(format: "fidelity %@ vs %@ on %@: top-1 %@, largest output difference %.3g (%.3g relative)",
                             fast.name, exact.name, input.name, agreement.topOneAgrees ? "agrees" : "DIFFERS",
                             agreement.largestDifference, agreement.largestRelativeDifference))
            }
        }
    }

    // MARK: - Model only

    private func runModel(_ path: String, variants: [BenchVariant]) throws {
        var shapes: [String: [Int]] = [:]
        for text in shape {
            let (name, dims) = try ModelBenchmark.parseShape(text)
            guard shapes[name] == nil else { throw DriverError("--shape: input '\(name)' given twice") }
            shapes[name] = dims
        }
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let bench = ModelBenchmark(
            modelPath: path, shapes: shapes, batches: try batch.map { try parseList($0, option: "--batch") }, variants: variants,
            threads: threadCount, iterations: requests ?? 50, warmup: max(warmup, 3))
        let machine = MachineInfo.current(threads: threadCount)
        print("visionc bench --model · \(machine.summary)")
        let bar = ProgressBar()
        let results = try bench.run { bar.show($0) }
        bar.clear()
        var table = TextTable(headers: ["model", "inputs", "variant", "threads", "iters", "median ms", "p90 ms", "p99 ms", "mean ms", "min ms", "speedup"])
        for m in results {
            let inputs = m.inputs.keys.sorted().map { "\($0)=\(m.inputs[$0]!.map(String.init).joined(separator: "x"))" }.joined(separator: " ")
            table.rows.append([
                URL(fileURLWithPath: m.model).lastPathComponent, inputs, m.variant, "\(m.threads)", "\(m.iterations)",
                String(format: "%.3f", m.medianMs), String(format: "%.3f", m.p90Ms), String(format: "%.3f", m.p99Ms),
                String(format: "%.3f", m.meanMs), String(format: "%.3f", m.minMs), m.speedupOverFirst.map { String(format: "%.2fx", $0) } ?? "-",
            ])
        }
        table.numeric = [false, false, false] + Array(repeating: true, count: 8)
        print(table.text)
        let nodeLimit = perNode ? Int.max : topNodes
        for m in results where nodeLimit > 0 && !m.nodes.isEmpty {
            let shown = m.nodes.sorted { $0.medianMs > $1.medianMs }.prefix(nodeLimit)
            print("\n  \(m.variant): \(shown.count == m.nodes.count ? "all \(m.nodes.count)" : "slowest \(shown.count) of \(m.nodes.count)") steps")
            var nodes = TextTable(headers: ["node", "op", "median ms"])
            for node in shown { nodes.rows.append([node.name, node.op, String(format: "%.3f", node.medianMs)]) }
            nodes.numeric = [false, false, true]
            print(nodes.text.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        }
        if let json { try write(ModelBenchReport(machine: machine, results: results).encoded(), to: json) }
    }

    // MARK: - Helpers

    private func parseList(_ text: String, option: String) throws -> [Int] {
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("\(option) '\(text)': expected positive integers separated by commas, e.g. 1,2,4,8")
        }
        return values.map { $0! }
    }

    private func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DriverError("\(path): cannot write (\(error.localizedDescription))")
        }
        FileHandle.standardError.write(Data("wrote \(path)\n".utf8))
    }
}

/// A one-line progress bar on stderr, redrawn in place; silent when stderr is not a terminal.
final class ProgressBar {
    private let enabled = isatty(STDERR_FILENO) != 0
    private let width = 30

    func show(_ progress: BenchProgress) {
        guard enabled else { return }
        let filled = Int((progress.fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(Int(progress.fraction * 100))% \(progress.label)".utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
