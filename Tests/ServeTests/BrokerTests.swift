import Broker
import Driver
import Foundation
import IR
import PipelineSpec
import Runtime
import TestSupport
import XCTest

/// Broker edges against a real `redis-server` that each test starts on a free port and stops:
/// results through Redis and a worker equal the in-process run, a second submission of one
/// request id runs once, a full stream and a missing worker answer "retry later", a corrupt
/// image comes back as the request's fault, and the fault runs of scripts/broker_fault_check.py
/// (worker killed, Redis restarted, poison input) pass against real processes.
final class BrokerTests: XCTestCase {
    /// A redis-server on a free loopback port, without persistence, stopped by `stop`.
    final class RedisServer {
        let port: Int
        private let process: Process

        let password: String?

        /// Ports are drawn below Linux's ephemeral range (32768–60999), where the tests' own
        /// client connections take theirs; a port that is taken anyway makes redis-server exit
        /// at once, and the next of three draws is tried.
        init(password: String? = nil) throws {
            self.password = password
            guard FileManager.default.fileExists(atPath: "/usr/bin/redis-server") else {
                throw DriverError("redis-server is missing: run scripts/setup (it installs Debian's redis-server)")
            }
            var failures: [String] = []
            for _ in 0..<3 {
                let port = Int.random(in: 20_000...32_000)
                let log = FileManager.default.temporaryDirectory.appendingPathComponent("redis-\(port)-\(UUID().uuidString).log")
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
                process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--logfile", log.path]
                    + (password.map { ["--requirepass", $0] } ?? [])
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                let connection = RedisConnection(host: "127.0.0.1", port: port, timeoutSeconds: 1, password: password)
                let deadline = Date().addingTimeInterval(10)
                while Date() < deadline, process.isRunning {
                    if (try? connection.call("PING"))?.text == "PONG" {
                        self.port = port
                        self.process = process
                        try? FileManager.default.removeItem(at: log)
                        return
                    }
                    Thread.sleep(forTimeInterval: 0.05)
                }
                process.terminate()
                process.waitUntilExit()
                let said = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").suffix(2).joined(separator: " / ") ?? ""
                failures.append("port \(port): \(said.isEmpty ? "no answer in 10 s" : said)")
                try? FileManager.default.removeItem(at: log)
            }
            throw DriverError("redis-server did not start: \(failures.joined(separator: "; "))")
        }

        var address: BrokerAddress { BrokerAddress(host: "127.0.0.1", port: port, stream: "_", password: password) }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// classify-broker.yaml with absolute asset paths, the edge on `node`, and queue keys.
    static func graph(edgeOn node: String, queue: String) throws -> String {
        let original = try String(contentsOf: TestPaths.repositoryRoot.appendingPathComponent("Graphs/classify.yaml"), encoding: .utf8)
        let assets = TestPaths.repositoryRoot.appendingPathComponent("assets").path
        var text = original.replacingOccurrences(of: "../assets", with: assets)
        text = text.replacingOccurrences(of: "  - name: \(node)\n", with: "  - name: \(node)\n    queue: \(queue)\n")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("broker-\(UUID().uuidString).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// A worker for the graph's edge, running on a thread until the returned stop is called.
    static func startWorker(_ compiled: CompiledPipeline, redis: RedisServer) throws -> (StreamWorker, () -> Void) {
        let partition = try StagePartition(compiled.optimized)
        let worker = try StreamWorker(
            graph: compiled.optimized, stage: try partition.brokerStage(named: nil), server: redis.address,
            options: RuntimeOptions(threads: 1), consumer: "test-\(UUID().uuidString.prefix(8))")
        let done = DispatchSemaphore(value: 0)
        Thread { worker.run(); done.signal() }.start()
        return (worker, { worker.stop(); done.wait() })
    }

    func testResultsThroughRedisEqualTheInProcessRun() throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        // The edge in front of the model carries a preprocessed tensor; in front of the first
        // node it carries the JPEG bytes.
        for node in ["classifier", "preprocess"] {
            let path = try Self.graph(edgeOn: node, queue: "{broker: \"redis://127.0.0.1:1/edge_\(node)\", capacity: 8}")
            let compiled = try Compiler.compile(path: path, options: CompileOptions())
            let (worker, stop) = try Self.startWorker(compiled, redis: redis)
            let remote = try PipelineRunner(compiled, threads: 1, brokers: .redis(server: redis.address))
            let local = try PipelineRunner(compiled, threads: 1, brokers: .inProcess)
            for image in ["chelsea.jpg", "astronaut.jpg"] {
                let input = try PipelineRunner.readInput(path: TestPaths.asset("images/\(image)").path)
                let (through, _) = try remote.run(input: input, name: image)
                let (here, _) = try local.run(input: input, name: image)
                XCTAssertEqual(through.outputs, here.outputs, "\(node) edge, \(image)")
                XCTAssertGreaterThan(through.profile.seconds(by: .transfer), 0, "the broker's share is in the profile")
                XCTAssertGreaterThan(through.profile.seconds(by: .inference), 0, "the worker's node times come back")
            }
            // The same request id twice: one run, the second answered from the stored result.
            let input = try PipelineRunner.readInput(path: TestPaths.asset("images/chelsea.jpg").path)
            let first = try remote.run(input: input, name: "a", requestID: "fixed-\(node)").0
            let second = try remote.run(input: input, name: "b", requestID: "fixed-\(node)").0
            XCTAssertEqual(first.outputs, second.outputs)
            stop()
            XCTAssertEqual(worker.counters.processed, 3, "\(node): two images and one id twice ran three times")
            XCTAssertEqual(worker.counters.failed, 0)
        }
    }

    func testCorruptImageIsTheRequestsFaultAndAFullStreamOrNoWorkerSaysRetryLater() throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let path = try Self.graph(edgeOn: "preprocess", queue: "{broker: \"redis://127.0.0.1:1/faults\", capacity: 2, timeout_us: 1500000}")
        let compiled = try Compiler.compile(path: path, options: CompileOptions())
        let remote = try PipelineRunner(compiled, threads: 1, brokers: .redis(server: redis.address))
        let image = try PipelineRunner.readInput(path: TestPaths.asset("images/chelsea.jpg").path)

        // No worker: the request waits its timeout_us, then is refused as retry-later.
        let started = Date()
        XCTAssertThrowsError(try remote.run(input: image, name: "lonely")) { error in
            XCTAssertTrue(error is BrokerUnavailableError, "\(error)")
            XCTAssertTrue("\(error)".contains("is a worker running"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        // Its entry is still queued; one more fills the stream (capacity 2), the third is refused at once.
        XCTAssertThrowsError(try remote.run(input: image, name: "second"))
        let refusedAt = Date()
        XCTAssertThrowsError(try remote.run(input: image, name: "third")) { error in
            XCTAssertTrue("\(error)".contains("holds its capacity of 2"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(refusedAt), 1, "a full stream refuses without waiting")

        // With a worker, the backlog drains, and a corrupt JPEG is answered as the request's fault.
        let (worker, stop) = try Self.startWorker(compiled, redis: redis)
        defer { stop() }
        let connection = RedisConnection(host: "127.0.0.1", port: redis.port)
        let drained = Date().addingTimeInterval(30)
        while (try connection.call("XLEN", "faults").integer ?? 0) > 0 && Date() < drained { Thread.sleep(forTimeInterval: 0.05) }
        let corrupt = Tensor(shape: [64], bytes: [0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 7, count: 60))
        XCTAssertThrowsError(try remote.run(input: corrupt, name: "corrupt")) { error in
            let remoteError = error as? RemoteStageError
            XCTAssertEqual(remoteError?.inputFault, true, "\(error)")
        }
        XCTAssertNoThrow(try remote.run(input: image, name: "after"))
        XCTAssertGreaterThanOrEqual(worker.counters.failed, 1)
    }

    /// A Redis that requires a password: the URL's credentials are sent (AUTH) on every new
    /// connection, a wrong one is a clear error, and a graph runs through it.
    func testPasswordProtectedRedis() throws {
        let redis = try RedisServer(password: "s3cret")
        defer { redis.stop() }
        XCTAssertEqual(try RedisConnection(try XCTUnwrap(BrokerAddress(url: "redis://:s3cret@127.0.0.1:\(redis.port)/s"))).call("PING").text, "PONG")
        XCTAssertThrowsError(try RedisConnection(host: "127.0.0.1", port: redis.port, password: "wrong").call("PING")) { error in
            XCTAssertTrue("\(error)".contains("AUTH refused"), "\(error)")
        }
        if case .error(let message)? = try? RedisConnection(host: "127.0.0.1", port: redis.port).send([Array("PING".utf8)]) {
            XCTAssertTrue(message.hasPrefix("NOAUTH"), message)
        } else {
            XCTFail("a connection without the password is refused")
        }
        let path = try Self.graph(edgeOn: "classifier", queue: "{broker: \"redis://127.0.0.1:1/secured\"}")
        let compiled = try Compiler.compile(path: path, options: CompileOptions())
        let (_, stop) = try Self.startWorker(compiled, redis: redis)
        defer { stop() }
        let remote = try PipelineRunner(compiled, threads: 1, brokers: .redis(server: redis.address))
        let result = try remote.run(input: try PipelineRunner.readInput(path: TestPaths.asset("images/chelsea.jpg").path), name: "c").0
        XCTAssertEqual(result.rankings.first?.first?.label, "Egyptian cat")
    }

    /// The fault runs against real processes: scripts/broker_fault_check.py starts redis-server
    /// (AOF on), `visionc serve` and two supervised `visionc worker`s, and checks a `kill -9`
    /// mid-flight (N requests, N answers, each stored once), a Redis restart (503 while down,
    /// back within seconds, no accepted request lost), a poison input (dead-lettered after
    /// max_deliveries, others flowing) and a repeated request id (run once).
    func testFaultRunsAgainstRealProcesses() throws {
        let binary = try XCTUnwrap(TestPaths.visioncBinary, "build visionc first (swift build)")
        let python = TestPaths.repositoryRoot.appendingPathComponent(".venv-clients/bin/python")
        guard TestPaths.exists(python) else { return XCTFail("\(python.path) is missing: run scripts/setup") }
        let check = Process()
        check.executableURL = python
        check.arguments = [
            TestPaths.repositoryRoot.appendingPathComponent("scripts/broker_fault_check.py").path, "--visionc", binary.path,
            "--graph", TestPaths.repositoryRoot.appendingPathComponent("Graphs/classify-broker.yaml").path,
            "--image", TestPaths.asset("images/chelsea.jpg").path,
        ]
        try check.run()
        let deadline = Date().addingTimeInterval(300)
        while check.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        if check.isRunning {
            check.interrupt()
            return XCTFail("the broker fault checks ran past 300 s")
        }
        XCTAssertEqual(check.terminationStatus, 0, "a broker fault check failed (its output is above)")
    }
}
