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

    /// The same graph takes a PNG (told by its signature): chelsea.jpg decoded by Pillow
    /// (libjpeg-turbo, as TurboJPEG here) and saved losslessly as RGB and RGBA PNGs ranks as
    /// the JPEG does (the alpha channel dropped).
    func testPNGsClassifyAsTheJPEGTheyWereMadeFrom() throws {
        let python = TestPaths.repositoryRoot.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else { return XCTFail("\(python.path) is missing: run scripts/setup") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("visionc-png-classify-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = python
        process.arguments = ["-c", """
            import sys; from PIL import Image
            image = Image.open(sys.argv[1]); image.save(sys.argv[2] + "/rgb.png"); image.convert("RGBA").save(sys.argv[2] + "/rgba.png")
            """, TestPaths.asset("images/chelsea.jpg").path, folder.path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let runner = try PipelineRunner(try Compiler.compile(path: Self.graph, options: CompileOptions(level: .O2)), threads: 2)
        let jpeg = try XCTUnwrap(try runner.run(path: TestPaths.asset("images/chelsea.jpg").path).rankings.first)
        for name in ["rgb.png", "rgba.png"] {
            let png = try XCTUnwrap(try runner.run(path: folder.appendingPathComponent(name).path).rankings.first)
            XCTAssertEqual(png.map(\.index), jpeg.map(\.index), name)
            for (a, b) in zip(png, jpeg) { XCTAssertEqual(a.score, b.score, accuracy: 1e-4, name) }
        }
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

/// Graphs/classify-tiles.yaml, a YAML-only cascade (tiles fan out, a queue batches them,
/// collect brings them back): each tile's probabilities equal classify's pipeline run on the
/// same crop written as a static `crop:` (no fan-out, no queue), up to float rounding, and
/// the average still finds the cat.
final class ClassifyTilesTests: XCTestCase {
    func testEachTileMatchesAStaticCropAndTheAverageIsACat() throws {
        for asset in ["models/efficientnet_lite0.onnx", "imagenet_labels.txt", "images/chelsea.jpg"]
        where !TestPaths.exists(TestPaths.asset(asset)) {
            throw XCTSkip("asset \(asset) missing: run scripts/setup")
        }
        let root = TestPaths.repositoryRoot.appendingPathComponent("Graphs")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tiles-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ yaml: String, _ name: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try yaml.replacingOccurrences(of: "../assets/", with: TestPaths.asset("").path + "/").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        // The tiles graph, also returning every tile's probabilities.
        let tilesYAML = try String(contentsOf: root.appendingPathComponent("classify-tiles.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "outputs: [postprocess]", with: "outputs: [postprocess, all]")
        let options = CompileOptions(level: .O2, verifyEach: true)
        let tiles = try PipelineRunner(try Compiler.compile(path: try write(tilesYAML, "tiles.yaml"), options: options), threads: 2)
        let image = try PipelineRunner.readInput(path: TestPaths.asset("images/chelsea.jpg").path)
        let (result, _) = try tiles.run(input: image, name: "chelsea")
        let all = result.outputs[2]
        XCTAssertEqual(all.shape, [9, 1000])
        let best = try XCTUnwrap(result.rankings.first?.first)
        XCTAssertTrue(ClassifyEfficientNetTests.catClasses.contains(best.index), "top-1 \(best.index) \(best.label ?? "?")")

        // chelsea.jpg is 451×300: resized to 384×256 (451·256/300 = 384.9, truncated), so
        // tiles start at x 0, 80, 160 and y 0, 16, 32.
        let boxes = TileBoxesReference.boxes(height: 256, width: 384)
        for tile in [0, 4, 8] {
            let (x, y) = boxes[tile]
            let staticYAML = """
                pipeline: one_tile
                inputs: {image: jpeg}
                nodes:
                  - name: crop
                    ops:
                      - decode: {color: rgb}
                      - resize: {shorter: 256, interpolation: bilinear}
                      - crop: {box: [\(y), \(x), 224, 224]}
                      - normalize: {scale: 1, mean: 127, std: 128}
                      - layout: NCHW
                  - {name: classifier, model: ../assets/models/efficientnet_lite0.onnx, model_input: input}
                  - {name: probabilities, ops: [softmax]}
                """
            let single = try PipelineRunner(try Compiler.compile(path: try write(staticYAML, "tile\(tile).yaml"), options: options), threads: 2)
            let expected = try single.run(input: image, name: "tile").0.outputs[0].floats
            let row = Array(all.floats[tile * 1000..<(tile + 1) * 1000])
            XCTAssertNil(allcloseFailure(row, expected, rtol: 1e-4, atol: 1e-6), "tile \(tile) at x \(x), y \(y)")
        }
    }
}

/// The 3×3 grid of 224 windows by the rule the graph documents (first and last touch the
/// edges, the middle one halfway), worked out here independently of the kernel.
private enum TileBoxesReference {
    static func boxes(height: Int, width: Int) -> [(x: Int, y: Int)] {
        let xs = [0, Int((Double(width - 224) / 2).rounded()), width - 224]
        let ys = [0, Int((Double(height - 224) / 2).rounded()), height - 224]
        return ys.flatMap { y in xs.map { x in (x, y) } }
    }
}
