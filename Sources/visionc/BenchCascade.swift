import ArgumentParser
import Driver
import Foundation
import MultiModel
import Runtime

/// `visionc bench-cascade`: a multi-model cascade under closed-loop load, once per
/// (max_batch, concurrency) pair: throughput, latency percentiles, and what each queue did.
struct BenchCascade: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-cascade",
        abstract: "Measure a cascade (Graphs/ocr.yaml, Graphs/faces.yaml) under closed-loop load.",
        discussion: """
            At concurrency N, N clients each submit an image and wait for its result before the
            next (closed loop); the requests go through one staged pipeline, whose model stages
            batch what their queues hold. Every (max_batch, concurrency) pair gets a fresh
            pipeline and `--warmup` unmeasured requests per client first (they compile the
            plans of the common shapes). Latency is submit → result, including JPEG decode.
            """)

    @Argument(help: "Cascade graph (YAML).") var graph: String
    @Argument(help: "Input JPEG files, sent in turn.") var images: [String]
    @Option(help: "Measured requests per run.") var requests = 32
    @Option(help: "Concurrent clients, a comma list.") var concurrency = "1"
    @Option(help: "max_batch of every queue, a comma list (default: the graph's).") var maxBatch: String?
    @Option(help: "Intra-op threads per model worker (default: the graph's).") var threadsPerModel: Int?
    @Option(help: "Unmeasured requests per client before each run.") var warmup = 2
    @Flag(help: "Print the figures as one JSON object.") var json = false
    @OptionGroup var flags: CompileFlags

    private func list(_ text: String, _ name: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--\(name) must be a comma list of integers ≥ 1; got '\(text)'")
        }
        return values.map { $0! }
    }

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one input image") }
        guard requests >= 1, warmup >= 0 else { throw ValidationError("--requests must be ≥ 1 and --warmup ≥ 0") }
        if let threadsPerModel, threadsPerModel < 1 { throw ValidationError("--threads-per-model must be at least 1") }
        _ = try list(concurrency, "concurrency")
        if let maxBatch { _ = try list(maxBatch, "max-batch") }
    }

    func run() throws {
        let runs: [[String: Any]]
        do {
            let spec = try StagedPipelineSpec.load(path: graph)
            let inputs = try images.map { path -> [UInt8] in
                guard let data = FileManager.default.contents(atPath: path) else { throw CascadeRunError("\(path): cannot read input file") }
                return [UInt8](data)
            }
            let batches: [Int?] = try maxBatch.map { try list($0, "max-batch") } ?? [nil]
            var collected: [[String: Any]] = []
            for batch in batches {
                for clients in try list(concurrency, "concurrency") {
                    let adjusted = spec.adjusted(maxBatch: batch, threadsPerModel: threadsPerModel)
                    collected.append(try measure(adjusted, inputs: inputs, clients: clients, maxBatch: batch))
                }
            }
            runs = collected
        } catch {
            throw fail(error)
        }
        if json {
            let options = flags.options
            let object: [String: Any] = [
                "schema": "visionc-bench-cascade/1", "graph": graph, "inputs": images, "runs": runs,
                "compile": ["level": options.level.rawValue, "fidelity": options.fidelity.rawValue, "backends": options.target.backends.map(\.rawValue).sorted()],
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("models compiled at -\(flags.options.level.rawValue), fidelity \(flags.options.fidelity.rawValue)")
        for run in runs {
            let latency = run["latency_ms"] as! [String: Double]
            print(String(
                format: "max_batch %@, %d client%@: %.2f req/s, latency p50 %.1f ms, p99 %.1f ms", run["max_batch_label"] as! String,
                run["concurrency"] as! Int, run["concurrency"] as! Int == 1 ? "" : "s", run["throughput_rps"] as! Double, latency["p50"]!, latency["p99"]!))
            print("  stage               items  mean batch  mean wait ms  max depth  items/s busy  batches (size×count)")
            for queue in run["queues"] as! [[String: Any]] {
                let stage = (queue["stage"] as! String).padding(toLength: 18, withPad: " ", startingAt: 0)
                print("  " + stage + String(
                    format: " %6d  %10.2f  %12.2f  %9d  %12.1f", queue["items"] as! Int,
                    queue["mean_batch"] as! Double, queue["mean_wait_ms"] as! Double, queue["max_depth"] as! Int,
                    queue["items_per_busy_second"] as! Double) + "  " + (queue["batch_sizes"] as! [String: Int])
                    .sorted { Int($0.key)! < Int($1.key)! }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))
            }
        }
    }

    /// One closed-loop run on a fresh pipeline.
    private func measure(_ spec: StagedPipelineSpec, inputs: [[UInt8]], clients: Int, maxBatch: Int?) throws -> [String: Any] {
        let pipeline = try StagedPipeline(name: spec.name, stages: spec.runtimeStages(options: flags.options), maxInFlight: max(64, clients))
        defer { pipeline.shutdown() }
        let (inputName, resultName) = (spec.input, spec.output)
        let failures = Counter()
        let firstFailure = FirstMessage()
        /// Runs `count` requests per client, each client waiting for its result before the next.
        func load(_ count: Int, next: @escaping @Sendable () -> Int?) -> [Double] {
            let latencies = LatencyLog()
            let group = DispatchGroup()
            for client in 0..<clients {
                group.enter()
                Thread {
                    var sent = 0
                    while sent < count, let index = next() {
                        let done = DispatchSemaphore(value: 0)
                        let start = DispatchTime.now().uptimeNanoseconds
                        pipeline.submit(Record([inputName: inputs[(index + client) % inputs.count]])) { result in
                            switch result {
                            case .failure(let error):
                                failures.increment()
                                firstFailure.keep("\(error)")
                            case .success(let record) where record[resultName] == nil:
                                failures.increment()
                                firstFailure.keep("no '\(resultName)' in the result")
                            case .success: break
                            }
                            latencies.add(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                            done.signal()
                        }
                        done.wait()
                        sent += 1
                    }
                    group.leave()
                }.start()
            }
            group.wait()
            return latencies.values
        }
        _ = load(warmup) { 0 }
        let before = pipeline.statistics()
        let tickets = Counter()
        let start = DispatchTime.now().uptimeNanoseconds
        let latencies = load(requests) {
            let ticket = tickets.increment()
            return ticket <= requests ? ticket - 1 : nil
        }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard failures.value == 0 else {
            throw CascadeRunError("\(failures.value) requests failed during the benchmark; the first: \(firstFailure.message ?? "?")")
        }
        let after = pipeline.statistics()
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)] }
        var queues: [[String: Any]] = []
        var meanBatch: [String: Double] = [:]
        for (old, new) in zip(before.stages, after.stages) {
            guard let newQueue = new.queue, let oldQueue = old.queue else { continue }
            let items = newQueue.items - oldQueue.items, batches = newQueue.batches - oldQueue.batches
            let busy = new.busySeconds - old.busySeconds
            let mean = batches == 0 ? 0 : Double(items) / Double(batches)
            meanBatch[new.name] = mean
            // Batches formed during the measured requests, by size ("size": count, sizes that occurred).
            var sizes: [String: Int] = [:]
            for size in newQueue.batchSizes.indices.dropFirst() {
                let count = newQueue.batchSizes[size] - (size < oldQueue.batchSizes.count ? oldQueue.batchSizes[size] : 0)
                if count > 0 { sizes[String(size)] = count }
            }
            queues.append([
                "stage": new.name, "items": items, "batches": batches, "mean_batch": mean, "batch_sizes": sizes,
                "mean_wait_ms": items == 0 ? 0 : (newQueue.totalWaitSeconds - oldQueue.totalWaitSeconds) / Double(items) * 1e3,
                "max_depth": newQueue.maxDepth, "items_per_busy_second": busy > 0 ? Double(new.items - old.items) / busy : 0,
            ])
        }
        return [
            "max_batch": maxBatch ?? 0, "max_batch_label": maxBatch.map(String.init) ?? "graph", "concurrency": clients,
            "requests": latencies.count, "wall_s": wall, "throughput_rps": Double(latencies.count) / wall,
            "latency_ms": ["p50": percentile(50), "p90": percentile(90), "p99": percentile(99), "mean": sorted.reduce(0, +) / Double(sorted.count)],
            "latencies_ms": latencies,
            "queues": queues, "mean_batch": meanBatch,
        ]
    }
}

/// A thread-safe counter; `increment` returns the new value.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    @discardableResult func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

/// The first message kept, from any thread.
private final class FirstMessage: @unchecked Sendable {
    private let lock = NSLock()
    private var first: String?
    func keep(_ message: String) {
        lock.lock()
        if first == nil { first = message }
        lock.unlock()
    }
    var message: String? {
        lock.lock()
        defer { lock.unlock() }
        return first
    }
}

private final class LatencyLog: @unchecked Sendable {
    private let lock = NSLock()
    private var log: [Double] = []
    func add(_ milliseconds: Double) {
        lock.lock()
        log.append(milliseconds)
        lock.unlock()
    }
    var values: [Double] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }
}
