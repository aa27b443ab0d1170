import Foundation
import IR
@testable import Runtime
import TestSupport
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

    func testPartitionCutsAtTheQueueAndRoutesValues() throws {
        let partition = try StagePartition(try IRParser.parse(Self.twoStages))
        XCTAssertEqual(partition.stages.map(\.name), ["input", "q"])
        guard case .plan(let first) = partition.stages[0].steps.first, case .plan(let second) = partition.stages[1].steps.first,
              case .batched(let queue) = partition.stages[1].kind else { return XCTFail("two plan stages, the second batched") }
        XCTAssertEqual(first.nodes.map(\.op), [.relu])
        XCTAssertEqual(partition.stages[0].reads, ["x"])
        XCTAssertEqual(partition.stages[0].writes, ["y"])
        XCTAssertEqual(second.nodes.map(\.op), [.softmax])
        XCTAssertEqual(second.type(of: second.inputs[0]).description, "f32[?batch,4]")
        XCTAssertEqual(partition.stages[1].reads, ["q"])
        XCTAssertEqual(partition.stages[1].writes, ["z"])
        XCTAssertEqual(queue.int("max_batch"), 8)
        XCTAssertEqual(partition.outputs, ["z", "y"])
        XCTAssertEqual(partition.summary, [
            "input: map, per request · runs plan of 1 nodes · reads %x · writes %y",
            "q: batched {max_batch=8, max_delay_us=300000, capacity=16, workers=1, threads=1} · runs plan of 1 nodes · reads %q · writes %z",
        ])
    }

    /// A node reading a batched result and a value from before its queue runs in a map stage
    /// after the batch (`q.then`), per request, on that request's row: concurrent requests
    /// batched together each get their own sum.
    func testAfterABatchAPerItemStageCombinesTheRowWithTheRequestsOwnValues() throws {
        let graph = try IRParser.parse("""
            graph g(%x: f32[1,4]) {
              %y : f32[1,4] = relu(%x)
              %q : f32[?batch,4] = queue(%y) {capacity=16, max_batch=4, max_delay_us=200000, workers=1}
              %s : f32[?batch,4] = softmax(%q) {axis=-1}
              %z : f32[?batch,4] = add(%s, %y)
              return %z
            }
            """)
        let staged = try StagedExecutable(graph: graph, options: RuntimeOptions(threads: 1), inputWorkers: 2)
        XCTAssertEqual(staged.partition.stages.map(\.name), ["input", "q", "q.then"])
        XCTAssertEqual(Set(staged.partition.stages[2].reads), ["s", "y"])
        let inputs = (0..<4).map { request in (0..<4).map { Float(request * 4 + $0) / 4 } }
        let results = ConcurrentResults<RunResult>(count: inputs.count)
        let group = DispatchGroup()
        for request in inputs.indices {
            group.enter()
            Thread {
                results.set(request, Result { try staged.run(inputs: [Tensor(shape: [1, 4], floats: inputs[request])]) })
                group.leave()
            }.start()
        }
        group.wait()
        for request in inputs.indices {
            let x = inputs[request], largest = x.max()!
            let total = x.map { expf($0 - largest) }.reduce(0, +)
            assertClose(try XCTUnwrap(results.get(request)).get().outputs[0].floats, x.map { expf($0 - largest) / total + $0 })
        }
        let queue = try XCTUnwrap(staged.statistics().stages[1].queue)
        XCTAssertLessThan(queue.batches, inputs.count, "requests shared a batch: sizes \(queue.batchSizes)")
    }

    /// A queue with `pad_to_largest` grows each image to the batch's largest on its height
    /// and width axes, zeros after the ends (NHWC: axes 1 and 2).
    func testZeroPaddingGrowsTheSpatialAxesOnly() throws {
        let image = Tensor(shape: [1, 2, 2, 2], floats: [1, 2, 3, 4, 5, 6, 7, 8])
        let padded = try image.zeroPadded(axes: (1, 2), to: (3, 3), value: "x")
        XCTAssertEqual(padded.shape, [1, 3, 3, 2])
        XCTAssertEqual(padded.floats, [1, 2, 3, 4, 0, 0, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0])
        let planar = try Tensor(shape: [1, 2, 1, 2], floats: [1, 2, 3, 4]).zeroPadded(axes: (2, 3), to: (1, 3), value: "x")
        XCTAssertEqual(planar.floats, [1, 2, 0, 3, 4, 0])
        XCTAssertEqual(try image.zeroPadded(axes: (1, 2), to: (2, 2), value: "x"), image)
    }

    /// One child per row of %rows: each child's row scaled by the request's own factor (read
    /// from the parent), children batched through a queue, collected in row order, then NMS.
    static let fanOut = """
        graph g(%boxes: f32[?n,4], %scores: f32[?n], %factor: f32[1,1]) {
          %box : f32[1,4] = for_each(%boxes)
          %scaled : f32[1,4] = mul(%box, %factor)
          %q : f32[?batch,4] = queue(%scaled) {capacity=64, max_batch=4, max_delay_us=1000, threads=1, workers=1}
          %r : f32[?batch,4] = relu(%q)
          %all : f32[?rows,4] = collect(%r)
          %kept : i64[?kept] = nms(%all, %scores) {iou_threshold=0.5}
          return %all, %kept
        }
        """

    func testFanOutRunsEachRowAndCollectsInOrderThenNMS() throws {
        let graph = try IRParser.parse(Self.fanOut)
        try Verifier.verify(graph)
        let partition = try StagePartition(graph)
        XCTAssertEqual(partition.stages.map(\.name), ["input", "box", "box.each", "q", "all", "all.then"])
        XCTAssertEqual(partition.stages.map(\.depth), [0, 0, 1, 1, 0, 0])
        XCTAssertEqual(partition.stages[2].reads, ["factor", "box"], "a child reads its parent's %factor")
        let staged = try StagedExecutable(graph: graph, options: RuntimeOptions(threads: 1))
        // Box 1 overlaps box 0 (IoU 81/119 > 0.5) and scores lower: suppressed. Negative
        // coordinates go through relu, so %all shows the children ran their own rows.
        let boxes: [Float] = [0, 0, 10, 10, 1, 1, 11, 11, -5, 20, 30, 40]
        let result = try staged.run(inputs: [
            Tensor(shape: [3, 4], floats: boxes), Tensor(shape: [3], floats: [0.9, 0.8, 0.7]), Tensor(shape: [1, 1], floats: [2]),
        ])
        XCTAssertEqual(result.outputs[0].shape, [3, 4])
        XCTAssertEqual(result.outputs[0].floats, boxes.map { max(0, $0 * 2) })
        XCTAssertEqual(result.outputs[1].integers, [0, 2])
        XCTAssertTrue(result.profile.entries.contains { $0.op == .nms })
        let batches = try XCTUnwrap(staged.statistics().stages.first { $0.name == "q" }?.queue?.batches)
        XCTAssertEqual(result.profile.entries.filter { $0.op == .relu }.count, batches, "the request's trace holds each batch's relu once")
        // No rows: no children, zero collected rows, nothing kept.
        let empty = try staged.run(inputs: [Tensor(shape: [0, 4], floats: []), Tensor(shape: [0], floats: []), Tensor(shape: [1, 1], floats: [2])])
        XCTAssertEqual(empty.outputs[0].shape, [0, 4])
        XCTAssertEqual(empty.outputs[1].shape, [0])
    }

    /// A broker edge: what crosses it (the values the stages behind it read from before it)
    /// and what comes back (the outputs they write); one that does not batch carries a value
    /// of any shape; `StagedExecutable` run from the edge's stage takes the carried values.
    func testBrokerEdgeCarriesWhatTheStagesBehindItRead() throws {
        let graph = try IRParser.parse("""
            graph g(%x: f32[1,4]) {
              %y : f32[1,4] = relu(%x)
              %n : f32[1,4] = sigmoid(%x)
              %q : f32[1,4] = queue(%y) {broker="redis://127.0.0.1:6379/s", capacity=8, max_batch=1}
              %z : f32[1,4] = add(%q, %n)
              return %z, %y
            }
            """)
        let partition = try StagePartition(graph)
        XCTAssertEqual(partition.brokerStages, [1])
        XCTAssertEqual(partition.stages[1].broker?.string("broker"), "redis://127.0.0.1:6379/s")
        guard case .map = partition.stages[1].kind else { return XCTFail("a broker edge that does not batch is a map stage") }
        XCTAssertEqual(partition.carried(into: 1).sorted(), ["n", "y"])
        XCTAssertEqual(partition.returned(from: 1), ["z"])
        XCTAssertEqual(try partition.brokerStage(named: nil), 1)
        XCTAssertEqual(try partition.brokerStage(named: "q"), 1)
        XCTAssertThrowsError(try partition.brokerStage(named: "nope")) { XCTAssertTrue("\($0)".contains("no broker edge leads into 'nope'"), "\($0)") }
        XCTAssertTrue(partition.summary[1].contains("behind broker redis://127.0.0.1:6379/s, runs in workers"), partition.summary[1])

        // The worker's side: from the edge's stage, on the carried values.
        let worker = try StagedExecutable(graph: graph, options: RuntimeOptions(threads: 1), startingAt: 1)
        let y = Tensor(shape: [1, 4], floats: [1, 2, 3, 4]), n = Tensor(shape: [1, 4], floats: [-1, -1, -1, -1])
        XCTAssertEqual(try worker.run(values: ["y": y, "n": n], requestID: "r").values, ["z": Tensor(shape: [1, 4], floats: [0, 1, 2, 3])])
        // Without a remote factory, the edge runs in process like any queue.
        let local = try StagedExecutable(graph: graph, options: RuntimeOptions(threads: 1))
        let result = try local.run(inputs: [Tensor(shape: [1, 4], floats: [-2, 1, 0, 3])])
        let sigmoid = [-2, 1, 0, 3].map { Float(1 / (1 + exp(-Double($0)))) }
        for (got, want) in zip(result.outputs[0].floats, zip([Float(0), 1, 0, 3], sigmoid).map { $0 + $1 }) { XCTAssertEqual(got, want, accuracy: 1e-6) }

        // Inside a fan-out, a broker edge would carry children, not requests.
        XCTAssertThrowsError(try StagePartition(try IRParser.parse("""
            graph g(%x: f32[?n,4]) {
              %e : f32[1,4] = for_each(%x)
              %q : f32[1,4] = queue(%e) {broker="redis://h/s", max_batch=1}
              %r : f32[1,4] = relu(%q)
              %c : f32[?rows,4] = collect(%r)
              return %c
            }
            """))) { XCTAssertTrue("\($0)".contains("inside a for_each"), "\($0)") }
    }

    func testNotLegal() throws {
        let cases: [(String, String)] = [
            // A node that combines a batched result with a value from before the queue runs
            // per item after the batch; not once a later queue has begun another stage.
            ("""
            graph g(%x: f32[1,4]) {
              %y : f32[1,4] = relu(%x)
              %q : f32[?batch,4] = queue(%y) {max_batch=2}
              %a : f32[?batch,4] = relu(%q)
              %q2 : f32[?batch,4] = queue(%a) {max_batch=2}
              %b : f32[?batch,4] = relu(%q2)
              %z : f32[?batch,4] = add(%a, %y)
              return %z, %b
            }
            """, "later stages have begun"),
            // A fan-out must be closed, and its children's values stay inside it.
            ("""
            graph g(%x: f32[?n,4]) {
              %e : f32[1,4] = for_each(%x)
              %r : f32[1,4] = relu(%e)
              return %r
            }
            """, "never closed by a collect"),
            ("""
            graph g(%x: f32[1,4]) {
              %c : f32[?rows,4] = collect(%x)
              return %c
            }
            """, "has no for_each before it"),
            ("""
            graph g(%x: f32[?n,4]) {
              %e : f32[1,4] = for_each(%x)
              %r : f32[1,4] = relu(%e)
              %c : f32[?rows,4] = collect(%r)
              %s : f32[?rows,4] = add(%c, %e)
              return %s
            }
            """, "not open around it"),
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
        let results = ConcurrentResults<RunResult>(count: requests)
        // One thread per request (concurrentPerform would run only as many as there are cores).
        let group = DispatchGroup()
        for request in 0..<requests {
            group.enter()
            Thread {
                let row: [Float] = [Float(request), -1, 0.5 * Float(request), 2]
                results.set(request, Result { try staged.run(inputs: [Tensor(shape: [1, 4], floats: row)]) })
                group.leave()
            }.start()
        }
        group.wait()
        for request in 0..<requests {
            let result = try XCTUnwrap(results.get(request)).get()
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

/// The region ops: tile_boxes' grid and crop_box's window, checked by hand.
final class RegionOpTests: XCTestCase {
    func testTileBoxesSpreadWindowsFromEdgeToEdge() {
        // 256×300 image, 224 windows: rows start at 0, 16, 32; columns at 0, 38, 76.
        XCTAssertEqual(
            TileBoxesKernel.boxes(height: 256, width: 300, size: [224, 224], rows: 3, cols: 3),
            [0, 0, 224, 224, 38, 0, 262, 224, 76, 0, 300, 224,
             0, 16, 224, 240, 38, 16, 262, 240, 76, 16, 300, 240,
             0, 32, 224, 256, 38, 32, 262, 256, 76, 32, 300, 256])
        // One window per axis is centred (floor).
        XCTAssertEqual(TileBoxesKernel.boxes(height: 5, width: 8, size: [2, 3], rows: 1, cols: 1), [2, 1, 5, 3])
    }

    func testCropBoxCopiesTheWindowAndRefusesOneOutsideTheImage() throws {
        let graph = try IRParser.parse("""
            graph g(%img: u8[3,4,1] HWC, %box: f32[1,4]) {
              %c : u8[2,2,1] HWC = crop_box(%img, %box) {size=[2,2]}
              return %c
            }
            """)
        let executable = try Executable(graph: graph, options: RuntimeOptions(threads: 1))
        let image = Tensor(shape: [3, 4, 1], bytes: Array(0..<12))
        let inside = try executable.run(inputs: [image, Tensor(shape: [1, 4], floats: [2, 1, 4, 3])]).outputs[0]
        XCTAssertEqual(inside.data, .u8([6, 7, 10, 11]))
        XCTAssertThrowsError(try executable.run(inputs: [image, Tensor(shape: [1, 4], floats: [3, 0, 5, 2])])) { error in
            XCTAssertTrue("\(error)".contains("leaves the 3×4 image"), "\(error)")
        }
        XCTAssertThrowsError(try executable.run(inputs: [image, Tensor(shape: [1, 4], floats: [.nan, 0, 1, 1])]))
    }
}

/// The `nms` op against ONNX Runtime's NonMaxSuppression (scripts/nms_reference.py in .venv)
/// on random boxes with clusters of overlaps, at several thresholds and output limits.
final class NonMaximumSuppressionTests: XCTestCase {
    func testMatchesONNXRuntime() throws {
        let python = TestPaths.repositoryRoot.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else { return XCTFail("\(python.path) is missing: run scripts/setup") }
        let script = TestPaths.repositoryRoot.appendingPathComponent("scripts/nms_reference.py")
        var noise = Noise(seed: 7)
        for (count, threshold, limit) in [(40, 0.5, 0), (200, 0.3, 0), (200, 0.7, 10), (1, 0.5, 0)] {
            // Boxes around a few centres, so many overlap; distinct scores (no ties to break).
            var boxes: [Float] = []
            for _ in 0..<count {
                let centre = Float(noise.next() % 4) * 40, x = centre + Float(noise.next() % 20), y = centre + Float(noise.next() % 20)
                boxes += [x, y, x + 10 + Float(noise.next() % 30), y + 10 + Float(noise.next() % 30)]
            }
            let scores = (0..<count).map { Float($0 * 7919 % count) / Float(count) + 0.001 }
            let node = Node(op: .nms, inputs: [], outputs: [], attributes: ["iou_threshold": .float(Float(threshold)), "max_output": .int(limit)])
            let ours = try NonMaximumSuppression.run(node, [Tensor(shape: [count, 4], floats: boxes), Tensor(shape: [count], floats: scores)], name: "nms").integers

            let query: [String: Any] = [
                "boxes": boxes.map(Double.init), "scores": scores.map(Double.init), "iou_threshold": threshold, "max_output": limit,
            ]
            let process = Process()
            process.executableURL = python
            process.arguments = [script.path]
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: query))
            try input.fileHandleForWriting.close()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0)
            let reference = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [Int])
            XCTAssertEqual(ours, reference, "\(count) boxes, IoU \(threshold), limit \(limit)")
            if count > 1 { XCTAssertLessThan(ours.count, count, "the clusters overlap, so some boxes go") }
        }
    }
}

