import Driver
import Foundation
import IR
import Passes
import TestSupport
import XCTest

/// Graphs/classify.yaml with the trained EfficientNet-Lite0 gives real answers: the cat in
/// chelsea.jpg is a cat, at -O0 and -O2, with the same top-5.
final class ClassifyEfficientNetTests: XCTestCase {
    static let graph = TestPaths.repositoryRoot.appendingPathComponent("Graphs/classify.yaml").path
    /// ImageNet-1k: tabby, tiger cat, Persian, Siamese, Egyptian cat.
    static let catClasses = 281...285

    func testChelseaIsACatAtO0AndO2() throws {
        for asset in ["models/efficientnet_lite0.onnx", "imagenet_labels.txt", "images/chelsea.jpg"]
        where !TestPaths.exists(TestPaths.asset(asset)) {
            throw XCTSkip("asset \(asset) missing: run scripts/setup")
        }
        var rankings: [[RankedClass]] = []
        for level in [OptimizationLevel.O0, .O2] {
            let runner = try PipelineRunner(try Compiler.compile(path: Self.graph, options: CompileOptions(level: level, verifyEach: true)))
            let top5 = try XCTUnwrap(try runner.run(path: TestPaths.asset("images/chelsea.jpg").path).rankings.first)
            print("chelsea.jpg \(level) top-5: " + top5.map { "\($0.index) \($0.label ?? "?") \($0.score)" }.joined(separator: ", "))
            XCTAssertEqual(top5.count, 5)
            let best = try XCTUnwrap(top5.first)
            XCTAssertTrue(Self.catClasses.contains(best.index), "\(level): top-1 is \(best.index) \(best.label ?? "?"), not a cat")
            rankings.append(top5)
        }
        XCTAssertEqual(rankings[0].map(\.index), rankings[1].map(\.index), "-O0 and -O2 rank the same classes")
        for (a, b) in zip(rankings[0], rankings[1]) { XCTAssertEqual(a.score, b.score, accuracy: 1e-4) }
    }

    /// Graphs/classify-batched.yaml (a queue before the model) answers eight concurrent
    /// requests over four photos exactly as classify.yaml answers each alone, up to float
    /// rounding, while forming fewer batches than requests.
    func testBatchedGraphMatchesTheUnbatchedOneUnderConcurrentLoad() throws {
        let images = ["chelsea.jpg", "astronaut.jpg", "messi5.jpg", "obama.jpg"]
        for asset in ["models/efficientnet_lite0.onnx", "imagenet_labels.txt"] + images.map({ "images/" + $0 })
        where !TestPaths.exists(TestPaths.asset(asset)) {
            throw XCTSkip("asset \(asset) missing: run scripts/setup")
        }
        let batchedGraph = TestPaths.repositoryRoot.appendingPathComponent("Graphs/classify-batched.yaml").path
        let options = CompileOptions(level: .O2, verifyEach: true)
        let single = try PipelineRunner(try Compiler.compile(path: Self.graph, options: options), threads: 1)
        let batched = try PipelineRunner(try Compiler.compile(path: batchedGraph, options: options), threads: 1, inputWorkers: 2)
        XCTAssertTrue(batched.isShared)
        XCTAssertFalse(single.isShared)
        let inputs = try images.map { try PipelineRunner.readInput(path: TestPaths.asset("images/" + $0).path) }
        let expected = try inputs.map { try single.run(input: $0, name: "").0.outputs[0].floats }

        let requests = 8
        let lock = NSLock()
        nonisolated(unsafe) var results = [Result<[Float], any Error>?](repeating: nil, count: requests)
        // One thread per request (concurrentPerform would run only as many as there are cores).
        let group = DispatchGroup()
        for request in 0..<requests {
            group.enter()
            Thread {
                let result = Result { try batched.run(input: inputs[request % inputs.count], name: "").0.outputs[0].floats }
                lock.lock()
                results[request] = result
                lock.unlock()
                group.leave()
            }.start()
        }
        group.wait()
        for request in 0..<requests {
            let scores = try XCTUnwrap(results[request]).get()
            XCTAssertNil(allcloseFailure(scores, expected[request % inputs.count], rtol: 1e-4, atol: 1e-6), "request \(request)")
        }
        let queue = try XCTUnwrap(batched.queueStatistics()?.stages.last?.queue)
        XCTAssertEqual(queue.items, requests)
        XCTAssertLessThan(queue.batches, requests, "batch sizes \(queue.batchSizes)")
    }

    /// A model exported with a fixed batch of 1 cannot sit behind a batching queue.
    func testQueueBeforeAFixedBatchModelIsAClearError() throws {
        let model = TestPaths.asset("models/light_resnet50.onnx")
        guard TestPaths.exists(model) else { throw XCTSkip("asset models/light_resnet50.onnx missing: run scripts/setup") }
        let yaml = """
            pipeline: p
            inputs: {image: jpeg}
            nodes:
              - {name: pre, ops: [decode, {resize: {size: 224}}, {normalize: {scale: 0.00392156862745098}}, {layout: NCHW}]}
              - name: net
                model: \(model.path)
                queue: {max_batch: 4}
            """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("queue-fixed-batch-\(getpid()).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try Compiler.compile(path: path, options: CompileOptions())) { error in
            XCTAssertTrue("\(error)".contains("fixed batch of 1"), "\(error)")
            XCTAssertTrue("\(error)".contains(":7:"), "the error points at the queue: \(error)")
        }
    }
}
