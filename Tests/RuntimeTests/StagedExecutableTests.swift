import Foundation
import IR
import Runtime
import XCTest

/// Graphs with batching queues: where `StagePartition` cuts them, what it refuses, and that
/// `StagedExecutable` batches concurrent requests while giving each its own rows back.
final class StagedExecutableTests: XCTestCase {
    /// relu per request, a queue, then softmax on batches; both values are outputs.
    static let twoStages = """
        graph g(%x: f32[1,4]) {
          %y : f32[1,4] = relu(%x)
          %q : f32[?batch,4] = queue(%y) {capacity=16, max_batch=8, max_delay_us=300000, threads=1, workers=1}
          %z : f32[?batch,4] = softmax(%q) {axis=-1}
          return %z, %y
        }
        """

    func testPartitionCutsAtTheQueueAndRoutesOutputs() throws {
        let partition = try StagePartition(try IRParser.parse(Self.twoStages))
        XCTAssertEqual(partition.stages.count, 2)
        XCTAssertEqual(partition.stages[0].graph.nodes.map(\.op), [.relu])
        XCTAssertEqual(partition.stages[0].outputs, [.graphOutput(1), .nextQueue])
        XCTAssertEqual(partition.stages[1].graph.nodes.map(\.op), [.softmax])
        XCTAssertEqual(partition.stages[1].graph.type(of: partition.stages[1].graph.inputs[0]).description, "f32[?batch,4]")
        XCTAssertEqual(partition.stages[1].outputs, [.graphOutput(0)])
        XCTAssertEqual(partition.stages[1].queue?.int("max_batch"), 8)
    }

    func testNotLegal() throws {
        let cases: [(String, String)] = [
            // A batched stage may not read a per-request value except through its queue.
            ("""
            graph g(%x: f32[1,4]) {
              %y : f32[1,4] = relu(%x)
              %q : f32[?batch,4] = queue(%y) {max_batch=2}
              %z : f32[?batch,4] = add(%q, %y)
              return %z
            }
            """, "only the queue's value crosses a batching edge"),
            // Two queues fed from the same stage are not a chain.
            ("""
            graph g(%x: f32[1,4]) {
              %q1 : f32[?batch,4] = queue(%x) {max_batch=2}
              %q2 : f32[?batch,4] = queue(%x) {max_batch=2}
              %z : f32[?batch,4] = add(%q1, %q2)
              return %z
            }
            """, "queues must form a chain"),
            // An output with a known leading dim cannot be split into one row per request.
            ("""
            graph g(%x: f32[1,4]) {
              %q : f32[?batch,4] = queue(%x) {max_batch=2}
              %s : i64[2] = shape(%q)
              return %s
            }
            """, "has no batch axis"),
        ]
        for (text, fragment) in cases {
            XCTAssertThrowsError(try StagePartition(try IRParser.parse(text))) { error in
                XCTAssertTrue("\(error)".contains(fragment), "'\(fragment)' missing from: \(error)")
            }
        }
        // The queue's operand needs the leading 1 it stacks on.
        XCTAssertThrowsError(try Verifier.verify(try IRParser.parse("""
            graph g(%x: f32[4]) {
              %q : f32[?batch] = queue(%x) {max_batch=2}
              return %q
            }
            """))) { XCTAssertTrue("\($0)".contains("leading dim of 1"), "\($0)") }
        // A plain Executable refuses a queue instead of running it as something else.
        XCTAssertThrowsError(try Executable(graph: try IRParser.parse(Self.twoStages))) {
            XCTAssertTrue("\($0)".contains("StagedExecutable"), "\($0)")
        }
    }

    /// Eight threads submit at once: the queue forms fewer batches than requests, and every
    /// request gets the softmax of its own row (each row differs, so a mix-up shows).
    func testConcurrentRequestsShareBatchesAndGetTheirOwnRows() throws {
        let staged = try StagedExecutable(graph: try IRParser.parse(Self.twoStages), options: RuntimeOptions(threads: 1))
        let requests = 8
        let results = ResultBox(count: requests)
        DispatchQueue.concurrentPerform(iterations: requests) { request in
            let row: [Float] = [Float(request), -1, 0.5 * Float(request), 2]
            results.set(request, Result { try staged.run(inputs: [Tensor(shape: [1, 4], floats: row)]) })
        }
        for request in 0..<requests {
            let result = try results.get(request).get()
            let relu: [Float] = [Float(request), 0, 0.5 * Float(request), 2]
            let exps = relu.map { exp($0 - relu.max()!) }
            let softmax = exps.map { $0 / exps.reduce(0, +) }
            XCTAssertEqual(result.outputs[0].shape, [1, 4])
            XCTAssertEqual(result.outputs[1].floats, relu, "request \(request)")
            for (a, b) in zip(result.outputs[0].floats, softmax) { XCTAssertEqual(a, b, accuracy: 1e-6, "request \(request)") }
            XCTAssertTrue(result.profile.entries.contains { $0.category == .queue && $0.name == "q" }, "the wait in %q is profiled")
        }
        let queue = try XCTUnwrap(staged.statistics().stages[1].queue)
        XCTAssertEqual(queue.items, requests)
        XCTAssertLessThan(queue.batches, requests, "batch sizes \(queue.batchSizes)")
    }

    /// A request that fails in the first stage fails alone; the pipeline keeps serving.
    func testABadRequestFailsAloneWithTheStageError() throws {
        let staged = try StagedExecutable(graph: try IRParser.parse(Self.twoStages), options: RuntimeOptions(threads: 1))
        XCTAssertThrowsError(try staged.run(inputs: [Tensor(shape: [1, 3], floats: [1, 2, 3])])) { error in
            XCTAssertTrue("\(error)".contains("runtime"), "\(error)")
        }
        XCTAssertEqual(try staged.run(inputs: [Tensor(shape: [1, 4], floats: [1, 1, 1, 1])]).outputs[0].floats, [0.25, 0.25, 0.25, 0.25])
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<RunResult, any Error>?]
    init(count: Int) { results = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ result: Result<RunResult, any Error>) {
        lock.lock()
        results[index] = result
        lock.unlock()
    }
    func get(_ index: Int) -> Result<RunResult, any Error> {
        lock.lock()
        defer { lock.unlock() }
        return results[index]!
    }
}
