import Foundation
import XCTest

@testable import Runtime

/// A child value that names its request, so a child routed to the wrong parent shows.
private struct Tagged: Sendable, Equatable {
    let request: Int
    let value: Int
}

private struct Boom: Error {}

/// Records delivered results from the delivery thread.
private final class Deliveries: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var order: [Int] = []
    private(set) var results: [Int: Result<Record, any Error>] = [:]
    private(set) var duplicates = 0

    func add(_ request: Int, _ result: Result<Record, any Error>) {
        lock.lock()
        defer { lock.unlock() }
        if results[request] != nil { duplicates += 1 }
        results[request] = result
        order.append(request)
    }
}

/// A little random work, so workers finish out of order.
private func jitter(_ seed: Int) {
    if seed % 3 == 0 { usleep(UInt32(50 + (seed * 37) % 200)) }
}

final class StagedPipelineTests: XCTestCase {
    /// expand(n children) → square (batched, 3 workers) → gather → sum.
    private func fanOutPipeline(policy: QueuePolicy, maxInFlight: Int = 64, failOn: Int? = nil) throws -> StagedPipeline {
        try StagedPipeline(
            name: "test",
            stages: [
                .expand("split", inputs: ["request", "n"], workers: 2) {
                    ClosureWorker.perRecord { values in
                        let request = values[0] as! Int
                        jitter(request)
                        return (0..<(values[1] as! Int)).map { Tagged(request: request, value: $0) as any Sendable }
                    }
                },
                .map("square", inputs: ["split"], policy: policy, workers: 3) {
                    ClosureWorker { batch in
                        try batch.map { values in
                            let child = values[0] as! Tagged
                            if child.request == failOn && child.value == 2 { throw Boom() }
                            jitter(child.request + child.value)
                            return Tagged(request: child.request, value: child.value * child.value)
                        }
                    }
                },
                .gather("squares", collecting: "square"),
                .map("sum", inputs: ["squares"]) {
                    ClosureWorker.perRecord { values in (values[0] as! [any Sendable]).map { ($0 as! Tagged).value }.reduce(0, +) }
                },
            ],
            maxInFlight: maxInFlight)
    }

    private func expectedSquares(_ request: Int, _ n: Int) -> [Tagged] {
        (0..<n).map { Tagged(request: request, value: $0 * $0) }
    }

    func testEveryRequestOnceInOrderWithItsOwnChildrenInChildOrder() throws {
        let pipeline = try fanOutPipeline(policy: QueuePolicy(maxBatch: 4, maxDelayMicroseconds: 200, capacity: 16))
        let deliveries = Deliveries()
        let count = 300
        for request in 0..<count {
            // 0…6 children; every seventh request has none.
            pipeline.submit(Record(["request": request, "n": request % 7])) { deliveries.add(request, $0) }
        }
        pipeline.shutdown()

        XCTAssertEqual(deliveries.order, Array(0..<count), "results must come back in submission order")
        XCTAssertEqual(deliveries.duplicates, 0)
        for request in 0..<count {
            let record = try XCTUnwrap(try deliveries.results[request]?.get())
            let squares = try record.value("squares", as: [any Sendable].self).map { $0 as! Tagged }
            XCTAssertEqual(squares, expectedSquares(request, request % 7), "request \(request)")
            XCTAssertEqual(try record.value("sum", as: Int.self), squares.map(\.value).reduce(0, +))
        }
        let statistics = pipeline.statistics()
        let square = try XCTUnwrap(statistics.stages.first { $0.name == "square" })
        XCTAssertEqual(square.items, (0..<count).map { $0 % 7 }.reduce(0, +), "each child processed exactly once")
        XCTAssertEqual(statistics.requestsDelivered, count)
    }

    func testConcurrentSubmittersEachGetTheirOwnResultsExactlyOnce() throws {
        let pipeline = try fanOutPipeline(policy: QueuePolicy(maxBatch: 8, maxDelayMicroseconds: 500, capacity: 32), maxInFlight: 16)
        let deliveries = Deliveries()
        let submitters = 8
        let perSubmitter = 40
        DispatchQueue.concurrentPerform(iterations: submitters) { submitter in
            for k in 0..<perSubmitter {
                let request = submitter * perSubmitter + k
                pipeline.submit(Record(["request": request, "n": (request * 5) % 9])) { deliveries.add(request, $0) }
            }
        }
        pipeline.shutdown()
        XCTAssertEqual(deliveries.duplicates, 0)
        XCTAssertEqual(deliveries.order.count, submitters * perSubmitter)
        XCTAssertEqual(Set(deliveries.order), Set(0..<(submitters * perSubmitter)))
        for (request, result) in deliveries.results {
            let squares = try result.get().value("squares", as: [any Sendable].self).map { $0 as! Tagged }
            XCTAssertEqual(squares, expectedSquares(request, (request * 5) % 9), "request \(request)")
        }
        XCTAssertLessThanOrEqual(pipeline.statistics().maxInFlight, 16)
    }

    func testAFailingChildFailsOnlyItsRequestOnce() throws {
        let pipeline = try fanOutPipeline(policy: QueuePolicy(maxBatch: 4, maxDelayMicroseconds: 100, capacity: 16), failOn: 10)
        let deliveries = Deliveries()
        for request in 0..<30 {
            pipeline.submit(Record(["request": request, "n": 5])) { deliveries.add(request, $0) }
        }
        pipeline.shutdown()
        XCTAssertEqual(deliveries.order, Array(0..<30))
        XCTAssertEqual(deliveries.duplicates, 0)
        for (request, result) in deliveries.results {
            switch result {
            case .success: XCTAssertNotEqual(request, 10)
            case .failure(let error):
                // A batch shares the failure of the child that threw.
                XCTAssertTrue("\(error)".contains("stage 'square'"), "\(error)")
                XCTAssertTrue(request == 10 || error is StageError)
            }
        }
        guard case .failure = deliveries.results[10] else { return XCTFail("request 10 must fail") }
    }

    func testSlowConsumerBlocksProducersInsteadOfGrowingQueues() throws {
        let policy = QueuePolicy(maxBatch: 2, maxDelayMicroseconds: 0, capacity: 4)
        let pipeline = try fanOutPipeline(policy: policy, maxInFlight: 6)
        let deliveries = Deliveries()
        for request in 0..<60 {
            pipeline.submit(Record(["request": request, "n": 6])) { result in
                usleep(1000)
                deliveries.add(request, result)
            }
        }
        pipeline.shutdown()
        let statistics = pipeline.statistics()
        XCTAssertEqual(deliveries.order, Array(0..<60))
        XCTAssertLessThanOrEqual(statistics.maxInFlight, 6, "submit must wait while 6 requests are undelivered")
        for stage in statistics.stages {
            if let queue = stage.queue { XCTAssertLessThanOrEqual(queue.maxDepth, stage.policy.capacity, stage.name) }
        }
    }

    func testSlowStageMakesItsFeederWaitAtCapacity() throws {
        let capacity = 3
        let pipeline = try StagedPipeline(
            name: "slow",
            stages: [
                .expand("split", inputs: ["n"]) { ClosureWorker.perRecord { values in (0..<(values[0] as! Int)).map { $0 as any Sendable } } },
                .map("slow", inputs: ["split"], policy: QueuePolicy(maxBatch: 1, capacity: capacity)) {
                    ClosureWorker.perRecord { values in
                        usleep(300)
                        return values[0]
                    }
                },
                .gather("all", collecting: "slow"),
            ])
        let results = pipeline.process((0..<10).map { _ in Record(["n": 20]) })
        pipeline.shutdown()
        XCTAssertEqual(results.count, 10)
        for result in results {
            XCTAssertEqual(try result.get().value("all", as: [any Sendable].self).map { $0 as! Int }, Array(0..<20))
        }
        let slow = try XCTUnwrap(pipeline.statistics().stages[1].queue)
        XCTAssertLessThanOrEqual(slow.maxDepth, capacity)
        XCTAssertGreaterThan(slow.blockedPushes, 0, "the fan-out outruns the slow stage, so it must have waited")
    }

    /// Items older than the policy's timeout are set aside, not batched, and the wait for a
    /// batch never runs past the oldest item's timeout.
    func testQueueSetsAsideItemsOlderThanItsTimeout() {
        let queue = BatchQueue<Int>(name: "q", policy: QueuePolicy(maxBatch: 4, maxDelayMicroseconds: 0, capacity: 16, timeoutMicroseconds: 20_000))
        queue.push(0)
        queue.push(1)
        Thread.sleep(forTimeInterval: 0.05)
        queue.push(2)
        XCTAssertEqual(queue.popBatch(), [2])
        XCTAssertEqual(queue.takeExpired(), [0, 1])
        XCTAssertEqual(queue.takeExpired(), [])
        XCTAssertEqual(queue.statistics.timedOut, 2)
        XCTAssertEqual(queue.statistics.items, 1)

        let patient = BatchQueue<Int>(name: "p", policy: QueuePolicy(maxBatch: 8, maxDelayMicroseconds: 10_000_000, capacity: 16, timeoutMicroseconds: 20_000))
        patient.push(7)
        let started = Date()
        XCTAssertEqual(patient.popBatch(), [], "its only item timed out while waiting for the batch to fill")
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.0, "released at the timeout, not after the 10 s delay")
        XCTAssertEqual(patient.takeExpired(), [7])
    }

    func testBatchFillsUpToMaxBatchAndAPartialBatchLeavesAfterTheDelay() throws {
        let queue = BatchQueue<Int>(name: "q", policy: QueuePolicy(maxBatch: 4, maxDelayMicroseconds: 20_000, capacity: 16))
        for value in 0..<6 { queue.push(value) }
        XCTAssertEqual(queue.popBatch(), [0, 1, 2, 3])
        // Two left, fewer than max_batch: they go once the oldest has waited 20 ms.
        XCTAssertEqual(queue.popBatch(), [4, 5])
        let statistics = queue.statistics
        XCTAssertEqual(statistics.batchSizes[4], 1)
        XCTAssertEqual(statistics.batchSizes[2], 1)
        XCTAssertGreaterThanOrEqual(statistics.maxWaitSeconds, 0.019)
        queue.close()
        XCTAssertNil(queue.popBatch())
        XCTAssertFalse(queue.push(9))
    }

    func testNestedAndSequentialFanOutsGatherToTheRightParents() throws {
        // expand → expand → gather → gather, then a second expand/gather, as in MTCNN's cascade.
        let pipeline = try StagedPipeline(
            name: "nested",
            stages: [
                .expand("rows", inputs: ["n"]) { ClosureWorker.perRecord { values in (0..<(values[0] as! Int)).map { $0 as any Sendable } } },
                .expand("cells", inputs: ["rows"]) { ClosureWorker.perRecord { values in (0..<(values[0] as! Int)).map { $0 as any Sendable } } },
                .gather("row", collecting: "cells"),
                .gather("grid", collecting: "row"),
                .expand("again", inputs: ["grid"]) { ClosureWorker.perRecord { values in values[0] as! [any Sendable] } },
                .map("width", inputs: ["again"]) { ClosureWorker.perRecord { values in (values[0] as! [any Sendable]).count } },
                .gather("widths", collecting: "width"),
            ])
        let results = pipeline.process((0..<12).map { Record(["n": $0 % 5]) })
        pipeline.shutdown()
        for (index, result) in results.enumerated() {
            let widths = try result.get().value("widths", as: [any Sendable].self).map { $0 as! Int }
            XCTAssertEqual(widths, Array(0..<(index % 5)))
        }
    }

    func testChainsWithUnbalancedFanOutAreRejected() {
        let worker: @Sendable () throws -> any StageWorker = { ClosureWorker.perRecord { $0[0] } }
        XCTAssertThrowsError(try StagedPipeline(name: "bad", stages: [.gather("g", collecting: "x")])) { error in
            XCTAssertTrue("\(error)".contains("no expand before it"), "\(error)")
        }
        XCTAssertThrowsError(try StagedPipeline(name: "bad", stages: [.expand("e", inputs: ["x"], worker: worker)])) { error in
            XCTAssertTrue("\(error)".contains("never gathered"), "\(error)")
        }
    }
}
