@testable import Driver
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import IR
import TestSupport
import XCTest

/// `visionc bench`'s statistics, load model, JSON schema, tables and SVG chart — never its timings.
final class BenchReportTests: XCTestCase {
    // MARK: - Statistics

    /// Expected values are `numpy.percentile(range(1, 11), q)` (linear interpolation).
    func testPercentilesMatchNumPyLinearInterpolation() {
        let stats = Stats([7, 3, 10, 1, 5, 2, 9, 4, 8, 6])
        XCTAssertEqual(stats.count, 10)
        XCTAssertEqual(stats.p50, 5.5, accuracy: 1e-12)
        XCTAssertEqual(stats.p90, 9.1, accuracy: 1e-12)
        XCTAssertEqual(stats.p95, 9.55, accuracy: 1e-12)
        XCTAssertEqual(stats.p99, 9.91, accuracy: 1e-12)
        XCTAssertEqual(stats.mean, 5.5, accuracy: 1e-12)
        XCTAssertEqual(stats.min, 1)
        XCTAssertEqual(stats.max, 10)
    }

    func testPercentilesOfOneAndNoSample() {
        let one = Stats([4.25])
        XCTAssertEqual([one.p50, one.p90, one.p99, one.mean], [4.25, 4.25, 4.25, 4.25])
        let none = Stats([])
        XCTAssertEqual(none.count, 0)
        XCTAssertTrue(none.p50.isNaN && none.mean.isNaN)
    }

    func testRatioIsMedianOfPerRoundRatios() {
        // Per-round ratios 2, 4, 3 → 3; the ratio of medians (20 / 5 = 4) would differ.
        XCTAssertEqual(Stats.medianOfRatios([10, 20, 30], [5, 5, 10]), 3, accuracy: 1e-12)
        // A round whose denominator is 0 is skipped, not turned into infinity.
        XCTAssertEqual(Stats.medianOfRatios([10, 20, 30], [5, 0, 10]), 2.5, accuracy: 1e-12)
        XCTAssertTrue(Stats.medianOfRatios([1], [0]).isNaN)
    }

    // MARK: - Load model and variants

    func testClosedLoopServerSharesTheCores() {
        XCTAssertEqual(LoadShape.closedLoop(concurrency: 1, cores: 2), LoadShape(concurrency: 1, workers: 1, threadsPerWorker: 2))
        XCTAssertEqual(LoadShape.closedLoop(concurrency: 2, cores: 2), LoadShape(concurrency: 2, workers: 2, threadsPerWorker: 1))
        XCTAssertEqual(LoadShape.closedLoop(concurrency: 8, cores: 2), LoadShape(concurrency: 8, workers: 2, threadsPerWorker: 1))
        XCTAssertEqual(LoadShape.closedLoop(concurrency: 2, cores: 16), LoadShape(concurrency: 2, workers: 2, threadsPerWorker: 8))
        XCTAssertEqual(LoadShape.closedLoop(concurrency: 4, cores: 2, workers: 1, threads: 3), LoadShape(concurrency: 4, workers: 1, threadsPerWorker: 3))
        // More workers than clients would sit idle.
        XCTAssertEqual(LoadShape.closedLoop(concurrency: 1, cores: 8, workers: 4).workers, 1)
    }

    func testVariantNamesParse() throws {
        let fast = try BenchVariant(parsing: "O2-fast")
        XCTAssertEqual(fast.options.level, .O2)
        XCTAssertEqual(fast.options.fidelity, .fast)
        XCTAssertEqual(try BenchVariant(parsing: "O0").options.fidelity, .exact)
        XCTAssertThrowsError(try BenchVariant(parsing: "O3")) { XCTAssertTrue("\($0)".contains("O0, O2"), "\($0)") }
        XCTAssertThrowsError(try BenchVariant(parsing: "O2-quick")) { XCTAssertTrue("\($0)".contains("exact, fast"), "\($0)") }
        let remote = try BenchVariant(parsing: "O2-fast@grpc")
        XCTAssertEqual(remote.transport, .grpc)
        XCTAssertEqual(remote.options.fidelity, .fast)
        XCTAssertEqual(remote.configuration, "O2-fast")
        XCTAssertEqual(try BenchVariant(parsing: "O2").transport, .inProcess)
        XCTAssertThrowsError(try BenchVariant(parsing: "O2@smtp")) { XCTAssertTrue("\($0)".contains("http-binary, grpc"), "\($0)") }
    }

    func testModelShapeArgumentParses() throws {
        let parsed = try ModelBenchmark.parseShape("gpu_0/data_0=1x3x224x224")
        XCTAssertEqual(parsed.name, "gpu_0/data_0")
        XCTAssertEqual(parsed.dims, [1, 3, 224, 224])
        for bad in ["x=1x0x3", "x=", "=1x3", "1x3x224", "x=1xx3"] {
            XCTAssertThrowsError(try ModelBenchmark.parseShape(bad), bad)
        }
    }

    // MARK: - JSON

    func testJSONHasTheDocumentedSchema() throws {
        let data = try BenchReport(Self.sampleResults()).encoded()
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(root["schema"] as? String, "visionc-bench/1")
        let machine = try XCTUnwrap(root["machine"] as? [String: Any])
        for key in ["cpu", "cores", "kernel_isa", "blas_core", "blas_config", "dnnl", "os", "linux_kernel"] {
            XCTAssertNotNil(machine[key], "machine.\(key)")
        }
        let results = try XCTUnwrap(root["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 2 * 2 * 2, "inputs × levels × variants")
        for result in results {
            XCTAssertNotNil(result["throughput_rps"] as? Double)
            XCTAssertNotNil(result["input"] as? String)
            XCTAssertNotNil(result["variant"] as? String)
            let latency = try XCTUnwrap(result["latency_ms"] as? [String: Double])
            XCTAssertTrue(Set(["p50", "p90", "p95", "p99", "mean"]).isSubset(of: latency.keys), "\(latency.keys)")
            let breakdown = try XCTUnwrap(result["breakdown_ms"] as? [String: Double])
            XCTAssertEqual(Set(breakdown.keys), Set(StageCategory.allCases.map(\.rawValue)))
        }
        let slow = try XCTUnwrap(results.first { $0["variant"] as? String == "O0" && $0["concurrency"] as? Int == 4 })
        XCTAssertEqual(slow["throughput_rps"] as? Double, 40)
        XCTAssertEqual((slow["breakdown_ms"] as? [String: Double])?["queue"], 30)
        // The first variant has no ratio to itself; null, not a number.
        XCTAssertTrue(slow["throughput_ratio_to_first"] is NSNull)
        XCTAssertEqual(try BenchReport.decoded(from: data), BenchReport(Self.sampleResults()))
    }

    func testModelJSONNamesTheFiguresScriptsRead() throws {
        let measurement = ModelMeasurement(
            model: "m.onnx", variant: "O2", inputs: ["x": [1, 3, 224, 224]], batch: 1, threads: 2, iterations: 50,
            medianMs: 9.5, p90Ms: 10, p99Ms: 11, meanMs: 9.7, minMs: 9, speedupOverFirst: nil,
            nodes: [NodeMedian(name: "conv1", op: "conv", medianMs: 1.25)])
        let data = try ModelBenchReport(machine: Self.machine, results: [measurement]).encoded()
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let result = try XCTUnwrap((root["results"] as? [[String: Any]])?.first)
        XCTAssertEqual(result["median_ms"] as? Double, 9.5)
        XCTAssertEqual(result["p90_ms"] as? Double, 10)
        XCTAssertEqual(result["iterations"] as? Int, 50)
        let node = try XCTUnwrap((result["nodes"] as? [[String: Any]])?.first)
        XCTAssertEqual(node["name"] as? String, "conv1")
        XCTAssertEqual(node["median_ms"] as? Double, 1.25)
    }

    // MARK: - Tables and SVG

    func testMarkdownTableEscapesAndAligns() {
        let table = TextTable(headers: ["name", "ms"], rows: [["a|b", "1.5"]])
        XCTAssertEqual(table.markdown, "| name | ms |\n|---|---:|\n| a\\|b | 1.5 |\n")
        XCTAssertEqual(table.text, "name   ms\na|b   1.5\n")
    }

    func testSVGIsWellFormedWithOneSeriesPerVariantAndInput() throws {
        let elements = try SVGElements(BenchChart.svg(Self.sampleResults()))
        XCTAssertEqual(elements.all.first?.name, "svg")
        let bars = elements.all.filter { $0.name == "g" && $0.attributes["class"] == "bar" }
        // Bars at the first and the last concurrency level: 2 inputs × 2 variants × 2 levels.
        XCTAssertEqual(bars.count, 8)
        XCTAssertEqual(Set(bars.compactMap { $0.attributes["data-input"] }), ["a&b <small>.jpg", "large.jpg"], "names are escaped and read back")
        XCTAssertEqual(Set(bars.compactMap { $0.attributes["data-variant"] }), ["O0", "O2"])
        let queueSegments = elements.all.filter { $0.name == "rect" && $0.attributes["data-category"] == "queue" }
        XCTAssertEqual(queueSegments.count, 4, "only the loaded level has queue wait: one segment per variant and input")
        let lines = elements.all.filter { $0.name == "polyline" && $0.attributes["class"] == "throughput" }
        XCTAssertEqual(lines.count, 4)
        for line in lines {
            XCTAssertEqual(line.attributes["points"]?.split(separator: " ").count, 2, "one point per concurrency level")
        }
    }

    /// Every element of an SVG document, in order; init throws unless the XML is well-formed.
    private final class SVGElements: NSObject, XMLParserDelegate {
        var all: [(name: String, attributes: [String: String])] = []

        init(_ svg: String) throws {
            super.init()
            let parser = XMLParser(data: Data(svg.utf8))
            parser.delegate = self
            guard parser.parse() else {
                throw DriverError("SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "unknown error")")
            }
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            all.append((name, attributes))
        }
    }

    func testNiceAxisCeiling() {
        XCTAssertEqual(BenchChart.niceCeiling(37), 50)
        XCTAssertEqual(BenchChart.niceCeiling(0.7), 1)
        XCTAssertEqual(BenchChart.niceCeiling(101), 200)
    }

    // MARK: - A real run of a small pipeline

    /// A decode + resize pipeline under load with one worker for three clients: every
    /// figure comes out, the categories add up to the latency, and requests that found the
    /// worker busy show queue wait.
    func testClosedLoopRunAccountsForEveryMillisecond() throws {
        let image = TestPaths.testData("chelsea-small.jpg")
        guard TestPaths.exists(image) else { throw XCTSkip("Tests/Data/chelsea-small.jpg missing") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("visionc-bench-tests-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let graph = dir.appendingPathComponent("resize.yaml")
        try """
            pipeline: resize
            inputs: {image: jpeg}
            nodes:
              - name: pre
                ops:
                  - decode: {color: rgb}
                  - resize: {size: [384, 384]}
                  - normalize: {scale: 0.5}
            """.write(to: graph, atomically: true, encoding: .utf8)
        let bench = Benchmark(
            variants: [try BenchVariant(parsing: "O0"), try BenchVariant(parsing: "O2")], concurrency: [1, 3],
            budget: .requests(24), rounds: 2, warmup: 1, threads: 1, workers: 1, cores: 2)
        let results = try bench.run(graphPath: graph.path, inputs: try BenchInput.load([image.path]))
        let input = try XCTUnwrap(results.inputs.first)
        XCTAssertNotEqual(input.sizeLabel, "1 files", "a single image is labelled with its size")
        XCTAssertEqual(input.levels.map(\.load.concurrency), [1, 3])
        for level in input.levels {
            XCTAssertEqual(level.variants.map(\.variant), ["O0", "O2"])
            for v in level.variants {
                XCTAssertGreaterThanOrEqual(v.requests, 24)
                XCTAssertGreaterThan(v.throughputRPS, 0)
                XCTAssertEqual(v.breakdownMs.values.reduce(0, +), v.latencyMs.mean, accuracy: 1e-6 * max(1, v.latencyMs.mean))
                XCTAssertGreaterThan(v.breakdownMs[.decode] ?? 0, 0)
                XCTAssertFalse(v.nodes.isEmpty)
                // Decode throughput counts the source image's megapixels per second of decode.
                let megapixels = try XCTUnwrap(input.megapixels)
                XCTAssertEqual(try XCTUnwrap(input.decodeMegapixelsPerSecond(v)), megapixels * 1000 / v.breakdownMs[.decode]!, accuracy: 1e-9)
            }
        }
        XCTAssertEqual(input.levels[0].variants[0].breakdownMs[.queue], 0, "one client never waits for its worker")
        XCTAssertGreaterThan(input.levels[1].variants[0].breakdownMs[.queue] ?? 0, 0, "three clients share one worker")
    }

    // MARK: - Fixtures

    static let machine = MachineInfo(
        cpu: "Test CPU", cores: 2, threads: nil, kernelISA: "avx512", blasCore: "OpenBLAS SkylakeX",
        blasConfig: "OpenBLAS 0.3.21", dnnl: "oneDNN 2.6.3 avx512_core_bf16", os: "Debian GNU/Linux 12 (bookworm)", linuxKernel: "6.1.0")

    /// Two inputs, concurrency 1 and 4, variants O0 and O2, with round numbers.
    static func sampleResults() -> BenchResults {
        func variant(_ name: String, rps: Double, queue: Double) -> VariantLoadResult {
            VariantLoadResult(
                variant: name, requests: 40, images: 40, seconds: 40 / rps,
                latencyMs: Stats([10, 12, 14]),
                breakdownMs: [.decode: 5, .preprocess: 3, .transfer: 0, .inference: 4, .postprocess: 0.5, .queue: queue, .other: 0.5],
                nodes: [NodeTime(name: "pre.decode", op: .decodeJPEG, category: .decode, medianMs: 5)],
                throughputRatioToFirst: name == "O0" ? .nan : 1.5, latencyP50RatioFirstOverThis: name == "O0" ? .nan : 1.4)
        }
        func input(_ name: String) -> InputResult {
            InputResult(name: name, sizeLabel: "64×48", progressive: false, files: 1, megapixels: 64 * 48 / 1e6, levels: [
                LevelResult(load: LoadShape(concurrency: 1, workers: 1, threadsPerWorker: 2),
                            variants: [variant("O0", rps: 20, queue: 0), variant("O2", rps: 30, queue: 0)]),
                LevelResult(load: LoadShape(concurrency: 4, workers: 2, threadsPerWorker: 1),
                            variants: [variant("O0", rps: 40, queue: 30), variant("O2", rps: 60, queue: 20)]),
            ])
        }
        return BenchResults(
            machine: machine, graph: "Graphs/classify.yaml", variants: ["O0", "O2"], batch: 1, rounds: 2,
            inputs: [input("a&b <small>.jpg"), input("large.jpg")])
    }
}
