import Driver
import Foundation
@testable import Serve
import TestSupport
import XCTest

/// `visionc serve` as clients see it: the request decoding on its own, then the server on
/// loopback driven by Triton's Python client (scripts/oip_client_check.py, from .venv-clients).
final class ServeTests: XCTestCase {
    func testBinaryRequestSplitsAtTheHeaderLength() throws {
        let image: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]
        let header = Array(#"{"id":"a","inputs":[{"name":"image","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":11}}],"parameters":{"binary_data_output":true}}"#.utf8)
        let body = header + [7, 0, 0, 0] + image
        let request = try InferenceRequest.decode(body: body, headerLength: header.count, singleInput: "image")
        XCTAssertEqual(request.id, "a")
        XCTAssertEqual(request.inputs.first?.elements, [image])
        XCTAssertTrue(request.binaryOutputs)
    }

    func testRawBodyIsTheImageOrItsSerializedForm() throws {
        let image: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 9]
        XCTAssertEqual(try InferenceRequest.decode(body: image, headerLength: 0, singleInput: "x").inputs.first?.elements, [image])
        let serialized: [UInt8] = [5, 0, 0, 0] + image
        XCTAssertEqual(try InferenceRequest.decode(body: serialized, headerLength: 0, singleInput: "x").inputs.first?.elements, [image])
    }

    func testMalformedRequestsAreBadRequests() {
        let cases: [(String, [UInt8], Int?)] = [
            ("not JSON", Array("{".utf8), nil),
            ("no inputs", Array(#"{"inputs":[]}"#.utf8), nil),
            ("header past the body", Array("{}".utf8), 10),
            ("binary size past the data", Array(#"{"inputs":[{"name":"i","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":99}}]}"#.utf8), nil),
            ("element count against shape", Array(#"{"inputs":[{"name":"i","datatype":"BYTES","shape":[2],"data":["a"]}]}"#.utf8), nil),
            ("overflowing shape", Array(#"{"inputs":[{"name":"i","datatype":"BYTES","shape":[9223372036854775807,4],"data":["a"]}]}"#.utf8), nil),
            ("numeric input", Array(#"{"inputs":[{"name":"i","datatype":"FP32","shape":[1],"data":[1.0]}]}"#.utf8), nil),
        ]
        for (what, body, headerLength) in cases {
            XCTAssertThrowsError(try InferenceRequest.decode(body: body, headerLength: headerLength, singleInput: "i"), what) { error in
                XCTAssertEqual((error as? InferenceError)?.kind, .badRequest, what)
            }
        }
        // A length prefix claiming more than is there.
        XCTAssertThrowsError(try InferenceRequest.serializedBytes([200, 0, 0, 0, 1], input: "i"))
    }

    func testTritonClientAgainstTheServer() throws {
        let image = TestPaths.asset("images/chelsea.jpg").path
        let compiled = try Self.classify()
        let expected = try PipelineRunner(compiled, threads: 1).run(path: image).rankingReport
        let expectedFile = FileManager.default.temporaryDirectory.appendingPathComponent("serve-expected-\(getpid()).json")
        try expected.encoded().write(to: expectedFile)
        defer { try? FileManager.default.removeItem(at: expectedFile) }
        let registry = MetricsRegistry()
        let model = try ServedModel(compiled, options: ServingOptions(workers: 2, threadsPerWorker: 1, maxQueueSize: 8), registry: registry)
        try checkWithClient(model, registry: registry, maxBodyMiB: 1, [
            "--image", image, "--expected", expectedFile.path, "--max-body-mb", "1",
        ])
    }

    /// gRPC with Triton's Python client: health, metadata, a JPEG and a 20 MB image sent as
    /// BYTES in `raw_input_contents` (both answered as `visionc run` answers them), and the
    /// error codes (NOT_FOUND, INVALID_ARGUMENT) with the server still live afterwards.
    func testTritonGRPCClientAgainstTheServer() throws {
        let image = TestPaths.asset("images/chelsea.jpg").path
        // A 4400×3200 photo of noise at quality 98: about 20 MB of JPEG (made by the reference
        // venv's Pillow, seeded, so it is the same file every run).
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("serve-big-\(getpid()).jpg")
        defer { try? FileManager.default.removeItem(at: big) }
        let maker = Process()
        maker.executableURL = TestPaths.repositoryRoot.appendingPathComponent(".venv/bin/python")
        maker.arguments = ["-c", """
            import numpy as np, sys
            from PIL import Image
            pixels = np.random.default_rng(1).integers(0, 256, (3200, 4400, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(sys.argv[1], quality=98)
            """, big.path]
        try maker.run()
        maker.waitUntilExit()
        XCTAssertEqual(maker.terminationStatus, 0, "making the 20 MB image")
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: big.path)[.size] as? Int)
        XCTAssertGreaterThan(size, 20_000_000)

        let compiled = try Self.classify()
        let runner = try PipelineRunner(compiled, threads: 1)
        let directory = FileManager.default.temporaryDirectory
        let expected = directory.appendingPathComponent("serve-grpc-expected-\(getpid()).json")
        let bigExpected = directory.appendingPathComponent("serve-grpc-big-expected-\(getpid()).json")
        try runner.run(path: image).rankingReport.encoded().write(to: expected)
        try runner.run(path: big.path).rankingReport.encoded().write(to: bigExpected)
        defer {
            try? FileManager.default.removeItem(at: expected)
            try? FileManager.default.removeItem(at: bigExpected)
        }
        let registry = MetricsRegistry()
        let model = try ServedModel(compiled, options: ServingOptions(workers: 2, threadsPerWorker: 1, maxQueueSize: 8), registry: registry)
        try checkWithClient(model, registry: registry, maxBodyMiB: 64, [
            "--image", image, "--expected", expected.path, "--grpc", "--big-image", big.path, "--big-expected", bigExpected.path,
        ])
    }

    /// One worker, no queue, eight requests at once on a 2560×1600 photo (a long decode):
    /// the ones that find the worker busy get 503, the server serves the rest and stays live.
    func testAFullQueueAnswers503() throws {
        let image = TestPaths.asset("images/wallpaper-2560x1600-progressive.jpg")
        guard TestPaths.exists(image) else { return XCTFail("\(image.path) is missing: run scripts/setup") }
        let registry = MetricsRegistry()
        let model = try ServedModel(Self.classify(), options: ServingOptions(workers: 1, threadsPerWorker: 1, maxQueueSize: 0), registry: registry)
        try checkWithClient(model, registry: registry, maxBodyMiB: 16, ["--image", image.path, "--overload", "8"])
        XCTAssertEqual(model.pendingRequests, 0)
    }

    /// Triton's dynamic batching from outside: eight requests at once to a graph whose queue
    /// waits 50 ms for a batch of up to 8 share executions (the stats endpoint), and each
    /// gets the answer a lone request gets.
    func testConcurrentRequestsShareBatches() throws {
        let image = TestPaths.asset("images/chelsea.jpg").path
        let expected = try PipelineRunner(try Self.classify(), threads: 1).run(path: image).rankingReport
        let expectedFile = FileManager.default.temporaryDirectory.appendingPathComponent("serve-batched-\(getpid()).json")
        try expected.encoded().write(to: expectedFile)
        defer { try? FileManager.default.removeItem(at: expectedFile) }
        let registry = MetricsRegistry()
        let model = try ServedModel(
            try Self.classifyBatched(queue: "max_delay_us: 50000"),
            options: ServingOptions(workers: 2, threadsPerWorker: 1, maxQueueSize: 16), registry: registry)
        try checkWithClient(model, registry: registry, maxBodyMiB: 1, ["--image", image, "--expected", expectedFile.path, "--batching", "8", "--batch-delay-ms", "50"])
    }

    func testPriorityAndTimeoutRequestParameters() throws {
        let header = Array(#"{"inputs":[{"name":"i","datatype":"BYTES","shape":[1],"data":["x"]}],"parameters":{"priority":1,"timeout":5000}}"#.utf8)
        let request = try InferenceRequest.decode(body: header, headerLength: nil, singleInput: "i")
        XCTAssertEqual(request.scheduling, SchedulingRequest(priority: 1, timeoutMicroseconds: 5000))
        for bad in [#""priority":-1"#, #""priority":"high""#, #""timeout":1.5"#] {
            let body = Array(#"{"inputs":[{"name":"i","datatype":"BYTES","shape":[1],"data":["x"]}],"parameters":{\#(bad)}}"#.utf8)
            XCTAssertThrowsError(try InferenceRequest.decode(body: body, headerLength: nil, singleInput: "i"), bad) { error in
                XCTAssertEqual((error as? InferenceError)?.kind, .badRequest, bad)
            }
        }
    }

    /// Triton's priority levels and request timeouts on the queue in front of the workers:
    /// with the one worker busy, a level-1 request overtakes the level-2 ones queued before
    /// it, a request whose timeout passes while it waits is answered 503 without running,
    /// and a level the model does not have is a 400.
    func testPriorityOvertakesAndATimedOutRequestIs503() async throws {
        let model = try ServedModel(
            try Self.classify(),
            options: ServingOptions(workers: 1, threadsPerWorker: 1, maxQueueSize: 16, priorityLevels: 2), registry: MetricsRegistry())
        defer { model.shutdown() }
        let big = Array(try Data(contentsOf: TestPaths.asset("images/wallpaper-2560x1600-progressive.jpg")))
        let small = Array(try Data(contentsOf: TestPaths.asset("images/chelsea.jpg")))
        let order = CompletionOrder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Keep the worker busy, then queue three level-2 requests, then one of level 1.
            group.addTask { _ = try await model.infer(image: big); order.append("busy") }
            try await Task.sleep(nanoseconds: 20_000_000)
            XCTAssertTrue(order.isEmpty && model.pendingRequests == 0, "the worker has taken the busy request and is running it")
            for index in 0..<3 {
                group.addTask { _ = try await model.infer(image: small, scheduling: SchedulingRequest(priority: 2)); order.append("low\(index)") }
            }
            while model.pendingRequests < 3 { try await Task.sleep(nanoseconds: 1_000_000) }
            group.addTask { _ = try await model.infer(image: small, scheduling: SchedulingRequest(priority: 1)); order.append("high") }
            while model.pendingRequests < 4 { try await Task.sleep(nanoseconds: 1_000_000) }
            // And one that may wait only 1 ms: the busy worker cannot take it in time.
            do {
                _ = try await model.infer(image: small, scheduling: SchedulingRequest(priority: 1, timeoutMicroseconds: 1000))
                XCTFail("a request with a 1 ms timeout behind a busy worker must time out")
            } catch let error as InferenceError {
                XCTAssertEqual(error.kind, .unavailable, error.message)
                XCTAssertTrue(error.message.contains("past its timeout"), error.message)
            }
            try await group.waitForAll()
        }
        let finished = order.names
        XCTAssertEqual(finished.first, "busy", "\(finished)")
        XCTAssertEqual(finished.dropFirst().first, "high", "level 1 overtakes the level-2 requests queued before it: \(finished)")
        // A timeout too long to add to the clock (clients may send up to 2^63 µs) is no limit,
        // not an overflow that takes the server down.
        _ = try await model.infer(image: small, scheduling: SchedulingRequest(timeoutMicroseconds: Int.max))
        do {
            _ = try await model.infer(image: small, scheduling: SchedulingRequest(priority: 3))
            XCTFail("level 3 of a 2-level model")
        } catch {
            XCTAssertEqual(error.kind, .badRequest, error.message)
        }
    }

    /// A cascade is served like any graph: the OCR graph's `result` output is its read lines as
    /// JSON, the same as `visionc run --json` prints, beside the raw tensors.
    func testTheOCRCascadeIsServedWithItsLinesAsTheResult() async throws {
        let page = TestPaths.asset("images/page.jpg")
        guard TestPaths.exists(page) else { return XCTFail("\(page.path) is missing: run scripts/setup") }
        let compiled = try Compiler.compile(path: TestPaths.repositoryRoot.appendingPathComponent("Graphs/ocr.yaml").path, options: CompileOptions())
        let model = try ServedModel(compiled, options: ServingOptions(workers: 1, threadsPerWorker: 2, maxQueueSize: 4), registry: MetricsRegistry())
        defer { model.shutdown() }
        XCTAssertEqual(model.outputs.map(\.name), ["lines.boxes", "lines.tokens", "lines.scores", ServedModel.resultOutput])
        let result = try await model.infer(image: Array(try Data(contentsOf: page)))
        let tensors = try ResponseTensor.select(result, model: model, names: [ServedModel.resultOutput, "lines.scores"])
        guard case .bytes(let json) = tensors[0].data else { return XCTFail("result is BYTES") }
        let report = try JSONDecoder().decode(ResultList<TextLine>.self, from: Data(json[0]))
        XCTAssertEqual(report.results.count, 5)
        XCTAssertEqual(report.results, try PipelineRunner(compiled, threads: 2).run(path: page.path).texts.first)
        XCTAssertEqual(tensors[1].shape, [5])
    }

    /// A queue's `timeout_us` as Triton's REJECT policy: a request that would wait longer for
    /// its batch is dropped and answered 503, and the model goes on serving.
    func testARequestOlderThanTheQueueTimeoutGets503() async throws {
        let model = try ServedModel(
            try Self.classifyBatched(queue: "max_delay_us: 5000000, timeout_us: 30000"),
            options: ServingOptions(workers: 1, threadsPerWorker: 1, maxQueueSize: 4), registry: MetricsRegistry())
        defer { model.shutdown() }
        let image = Array(try Data(contentsOf: TestPaths.asset("images/chelsea.jpg")))
        let started = Date()
        do {
            _ = try await model.infer(image: image)
            XCTFail("a lone request cannot fill a batch of 8 within its 30 ms timeout")
        } catch {
            XCTAssertEqual(error.kind, .unavailable, error.message)
            XCTAssertTrue(error.message.contains("timeout_us"), error.message)
        }
        // Rejected at its timeout, not after the 5 s batching delay.
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.0)
        let stats = try XCTUnwrap(model.statisticsObject()["model_stats"] as? [[String: Any]]).first
        let failures = (stats?["inference_stats"] as? [String: Any])?["fail"] as? [String: Any]
        XCTAssertEqual(failures?["count"] as? Int, 1)
    }

    /// `visionc serve` as a process: SIGTERM turns readiness 503 while it still serves for
    /// --drain-seconds, then it stops listening and exits 0 (scripts/oip_client_check.py
    /// --drain-pid sends the signal and checks each step).
    func testSIGTERMDrainsThenExitsZero() throws {
        let binary = try XCTUnwrap(TestPaths.visioncBinary, "build visionc first (swift build)")
        let server = Process()
        server.executableURL = binary
        server.arguments = [
            "serve", TestPaths.repositoryRoot.appendingPathComponent("Graphs/classify.yaml").path,
            "--http-port", "0", "--grpc-port", "0", "--no-metrics", "--workers", "1", "--drain-seconds", "1.5",
        ]
        let output = Pipe()
        server.standardOutput = output
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        // A line names the HTTP port (the gRPC listener's line may come first).
        var line = Data()
        let deadline = Date().addingTimeInterval(60)
        while String(decoding: line, as: UTF8.self).range(of: "http://[^\n]*\n", options: .regularExpression) == nil && Date() < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        let address = try XCTUnwrap(text.range(of: "http://").map { text[$0.upperBound...].prefix { $0 != " " && $0 != "\n" } }, "no address in: \(text)")

        let python = TestPaths.repositoryRoot.appendingPathComponent(".venv-clients/bin/python")
        guard TestPaths.exists(python) else { return XCTFail("\(python.path) is missing: run scripts/setup") }
        let client = Process()
        client.executableURL = python
        client.arguments = [
            TestPaths.repositoryRoot.appendingPathComponent("scripts/oip_client_check.py").path, "--url", String(address), "--model", "classify",
            "--image", TestPaths.asset("images/chelsea.jpg").path, "--drain-pid", String(server.processIdentifier),
        ]
        try client.run()
        client.waitUntilExit()
        XCTAssertEqual(client.terminationStatus, 0, "the drain checks failed")
        let exitDeadline = Date().addingTimeInterval(30)
        while server.isRunning && Date() < exitDeadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertFalse(server.isRunning, "the server did not exit within 30 s of SIGTERM")
        if !server.isRunning { XCTAssertEqual(server.terminationStatus, 0) }
    }

    /// `visionc bench`'s transport variants: the same graph in process and behind the server
    /// over REST (JSON and binary outputs) and gRPC, every request answered, and a remote
    /// request's latency split into the server's own stages plus the protocol (`other`).
    func testBenchMeasuresEveryTransportAgainstTheServer() throws {
        let graph = TestPaths.repositoryRoot.appendingPathComponent("Graphs/classify.yaml").path
        let names = ["O2", "O2@http-json", "O2@http-binary", "O2@grpc"]
        let bench = Benchmark(
            variants: try names.map { try BenchVariant(parsing: $0) }, concurrency: [2], budget: .requests(6), rounds: 2, warmup: 1,
            serve: BenchServers.factory(brokers: .inProcess))
        let results = try bench.run(graphPath: graph, inputs: try BenchInput.load([TestPaths.asset("images/chelsea.jpg").path]))
        let variants = try XCTUnwrap(results.inputs.first?.levels.first?.variants)
        XCTAssertEqual(variants.map(\.variant), names)
        for variant in variants {
            XCTAssertEqual(variant.requests, 6, variant.variant)
            XCTAssertGreaterThan(variant.breakdownMs[.inference] ?? 0, 0, variant.variant)
            XCTAssertGreaterThan(variant.breakdownMs[.decode] ?? 0, 0, variant.variant)
            // The categories add up to the mean latency, in process and over the wire.
            XCTAssertEqual(variant.breakdownMs.values.reduce(0, +), variant.latencyMs.mean, accuracy: variant.latencyMs.mean * 0.02, variant.variant)
        }
        for remote in variants.dropFirst() {
            XCTAssertGreaterThan(remote.breakdownMs[.other] ?? 0, 0, "\(remote.variant): the protocol costs something")
        }
    }

    /// `bench --url`: a server that is already running, measured over REST (its split read
    /// from the statistics endpoint) and gRPC (no split: all `other`).
    func testBenchMeasuresARunningServerByURL() throws {
        let graph = TestPaths.repositoryRoot.appendingPathComponent("Graphs/classify.yaml").path
        let registry = MetricsRegistry()
        let model = try ServedModel(
            try Compiler.compile(path: graph, options: CompileOptions()),
            options: ServingOptions(workers: 1, threadsPerWorker: 1, maxQueueSize: 8), registry: registry)
        let running = try InferenceServer(models: [model], maxBodyBytes: 8 << 20, registry: registry).startInBackground()
        defer { running.stop() }
        let urls = ["http://127.0.0.1:\(running.httpPort)", "grpc://127.0.0.1:\(try XCTUnwrap(running.grpcPort))"]
        let bench = Benchmark(
            variants: [try BenchVariant(parsing: "O2")] + (try urls.map { try BenchVariant(url: $0) }), concurrency: [2],
            budget: .requests(4), rounds: 2, warmup: 1, serve: BenchServers.factory(brokers: .inProcess))
        let results = try bench.run(graphPath: graph, inputs: try BenchInput.load([TestPaths.asset("images/chelsea.jpg").path]))
        let variants = try XCTUnwrap(results.inputs.first?.levels.first?.variants)
        XCTAssertEqual(variants.map(\.variant), ["O2"] + urls)
        XCTAssertEqual(variants.map(\.requests), [4, 4, 4])
        XCTAssertGreaterThan(variants[1].breakdownMs[.inference] ?? 0, 0, "REST: the server's statistics split the request")
        XCTAssertEqual(variants[2].breakdownMs[.other] ?? 0, variants[2].latencyMs.mean, accuracy: 0.01, "gRPC: no statistics, all other")
        XCTAssertThrowsError(try BenchVariant(url: "ftp://127.0.0.1:1"))
    }

    func testBenchOverATransportReportsTheServersError() throws {
        let graph = TestPaths.repositoryRoot.appendingPathComponent("Graphs/classify.yaml").path
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("visionc-not-a-jpeg-\(getpid()).jpg")
        try Data("this is not an image".utf8).write(to: broken)
        defer { try? FileManager.default.removeItem(at: broken) }
        let inputs = try BenchInput.load([broken.path])
        for transport in ["http-binary", "grpc"] {
            let bench = Benchmark(
                variants: [try BenchVariant(parsing: "O2@\(transport)")], budget: .requests(1), rounds: 1, warmup: 1,
                serve: BenchServers.factory(brokers: .inProcess))
            XCTAssertThrowsError(try bench.run(graphPath: graph, inputs: inputs), transport) { error in
                XCTAssertTrue("\(error)".contains("400") || "\(error)".contains("invalidArgument"), "\(transport): \(error)")
            }
        }
        // Without a server to start, a transport variant is refused before anything runs.
        XCTAssertThrowsError(try Benchmark(variants: [try BenchVariant(parsing: "O2@grpc")]).run(graphPath: graph, inputs: inputs)) {
            XCTAssertTrue("\($0)".contains("sends to a server"), "\($0)")
        }
    }

    /// Graphs/classify-batched.yaml compiled with its `max_delay_us: 2000` replaced by `queue`
    /// (written beside the temporary files, its model and labels found in assets/).
    private static func classifyBatched(queue: String) throws -> CompiledPipeline {
        let yaml = try String(contentsOfFile: TestPaths.repositoryRoot.appendingPathComponent("Graphs/classify-batched.yaml").path, encoding: .utf8)
            .replacingOccurrences(of: "max_delay_us: 2000", with: queue)
            .replacingOccurrences(of: "../assets/", with: TestPaths.asset("").path + "/")
        let graph = FileManager.default.temporaryDirectory.appendingPathComponent("serve-batched-\(getpid())-\(queue.hashValue).yaml")
        try yaml.write(to: graph, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: graph) }
        return try Compiler.compile(path: graph.path, options: CompileOptions())
    }

    private static func classify() throws -> CompiledPipeline {
        try Compiler.compile(path: TestPaths.repositoryRoot.appendingPathComponent("Graphs/classify.yaml").path, options: CompileOptions())
    }

    /// Serves `model` on free loopback ports (inference and metrics) and runs
    /// scripts/oip_client_check.py against it with `arguments`; bounded in time, so a hung
    /// server fails instead of hanging the suite.
    private func checkWithClient(
        _ model: ServedModel, registry: MetricsRegistry, maxBodyMiB: Int, _ arguments: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let python = TestPaths.repositoryRoot.appendingPathComponent(".venv-clients/bin/python")
        guard TestPaths.exists(python) else { return XCTFail("\(python.path) is missing: run scripts/setup", file: file, line: line) }
        let running = try InferenceServer(models: [model], maxBodyBytes: maxBodyMiB << 20, registry: registry).startInBackground(metrics: true)
        defer { running.stop() }
        let (port, grpcPort, metricsPort) = (running.httpPort, try XCTUnwrap(running.grpcPort), try XCTUnwrap(running.metricsPort))

        let process = Process()
        process.executableURL = python
        process.arguments = [
            TestPaths.repositoryRoot.appendingPathComponent("scripts/oip_client_check.py").path,
            "--url", "127.0.0.1:\(port)", "--grpc-url", "127.0.0.1:\(grpcPort)", "--metrics-url", "127.0.0.1:\(metricsPort)",
            "--model", model.name,
        ] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = Date().addingTimeInterval(180)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, log, file: file, line: line)
        XCTAssertTrue(log.contains("checks passed"), log, file: file, line: line)
    }
}

/// The order in which concurrent requests finished.
private final class CompletionOrder: @unchecked Sendable {
    private let lock = NSLock()
    private var finished: [String] = []

    func append(_ name: String) { lock.withLock { finished.append(name) } }
    var names: [String] { lock.withLock { finished } }
    var isEmpty: Bool { lock.withLock { finished.isEmpty } }
}
