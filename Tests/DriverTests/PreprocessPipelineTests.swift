import Driver
import Foundation
import IR
import Kernels
import Passes
import TestSupport
import XCTest

/// Preprocessing pipelines from YAML through the runtime: decode-scale at fidelity fast,
/// `--save` requests.
final class PreprocessPipelineTests: XCTestCase {
    private func pipeline(_ ops: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("visionc-pre-\(UUID().uuidString).yaml")
        try "pipeline: pre\ninputs: {image: jpeg}\nnodes:\n  - name: pre\n    ops:\n\(ops)".write(
            to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testDecodeScaleDecodesAtTheSmallestFactorTheResizeAllows() throws {
        let path = try pipeline("""
                  - decode: {color: rgb}
                  - resize: {shorter: 40}
                  - center_crop: {size: 32}
                  - normalize: {scale: 0.00392156862745098, mean: 0.5, std: 0.25}
                  - layout: NCHW

            """)
        let input = try PipelineRunner.readInput(path: TestPaths.testData("chelsea-small.jpg").path)
        var decoded: [Fidelity: [Int]] = [:]
        var results: [Fidelity: PipelineResult] = [:]
        for fidelity in Fidelity.allCases {
            let compiled = try Compiler.compile(path: path, options: CompileOptions(level: .O2, fidelity: fidelity))
            let runner = try PipelineRunner(compiled, threads: 2)
            let (result, captured) = try runner.run(input: input, name: "chelsea-small", capture: ["pre.decode"])
            decoded[fidelity] = captured["pre.decode"]?.shape
            results[fidelity] = result
        }
        // 150x100: 1/2 gives 75x50 (shorter side 50 >= 40); 3/8 gives 57x38, too small.
        XCTAssertEqual(decoded[.exact], [100, 150, 3])
        XCTAssertEqual(decoded[.fast], [50, 75, 3])
        let (exact, fast) = (try XCTUnwrap(results[.exact]), try XCTUnwrap(results[.fast]))
        let (a, b) = (exact.outputs[0].floats, fast.outputs[0].floats)
        XCTAssertEqual(a.count, b.count)
        let meanDifference = zip(a, b).map { abs($0 - $1) }.reduce(0, +) / Float(a.count)
        XCTAssertLessThan(meanDifference, 0.2, "a scaled decode approximates the full one")
        let agreement = try FidelityAgreement(exact: exact, fast: fast)
        XCTAssertEqual(agreement.largestDifference, zip(a, b).map { abs($0 - $1) }.max())
        XCTAssertGreaterThan(agreement.largestDifference, 0)
    }

    /// decode-region: the preprocess reads the same pixels whether the decode wrote only its
    /// window or the whole image (capturing the decoded image makes the plan decode it whole),
    /// bit for bit, over crops that leave rows and columns out and filters with wide taps.
    func testDecodeRegionGivesThePreprocessTheSamePixels() throws {
        let geometries = [
            "      - resize: {shorter: 256, interpolation: bilinear}\n      - center_crop: {size: 224}\n",
            "      - resize: {shorter: 64, interpolation: bilinear}\n      - center_crop: {size: 40}\n",
            "      - resize: {size: [48, 48], interpolation: lanczos}\n",
            "      - resize: {shorter: 70, interpolation: area}\n      - crop: {box: [5, 30, 20, 25]}\n",
        ]
        let images = [
            TestPaths.testData("chelsea-small.jpg"), TestPaths.testData("chelsea-progressive-420.jpg"),
            TestPaths.testData("chelsea-restart-444.jpg"), TestPaths.testData("chelsea-gray.jpg"),
        ]
        var limited = 0
        for geometry in geometries {
            let path = try pipeline("      - decode: {color: rgb}\n" + geometry + "      - normalize: {scale: 1, mean: 127, std: 128}\n      - layout: NCHW\n")
            let compiled = try Compiler.compile(path: path, options: CompileOptions(level: .O2))
            XCTAssertTrue(compiled.reports.contains { $0.pass == "decode-region" && !$0.statistics.isEmpty }, geometry)
            let runner = try PipelineRunner(compiled, threads: 2)
            for image in images {
                let input = try PipelineRunner.readInput(path: image.path)
                let (region, _) = try runner.run(input: input, name: image.lastPathComponent)
                let (whole, captured) = try runner.run(input: input, name: image.lastPathComponent, capture: ["pre.decode"])
                XCTAssertEqual(region.outputs[0].floats, whole.outputs[0].floats, "\(image.lastPathComponent) \(geometry)")
                let decoded = try XCTUnwrap(captured["pre.decode"])
                let reference = try Data(contentsOf: image).withUnsafeBytes { try JPEGDecoder().decode($0).pixels }
                XCTAssertEqual(decoded.data, .u8(reference), "a captured decode is whole: \(image.lastPathComponent)")
                if geometry.contains("crop") { limited += 1 }
            }
        }
        XCTAssertEqual(limited, 12)
    }

    func testSaveRequestsAreParsedAndCheckedAgainstTheGraph() throws {
        let request = try SaveRequest(argument: "pre.resize=/tmp/a=b.npy")
        XCTAssertEqual(request.value, "pre.resize")
        XCTAssertEqual(request.path, "/tmp/a=b.npy")
        for bad in ["pre", "=x.npy", "pre="] {
            XCTAssertThrowsError(try SaveRequest(argument: bad)) { XCTAssertTrue("\($0)".contains("NODE=FILE.npy")) }
        }
        let path = try pipeline("      - decode: {color: rgb}\n      - resize: {size: 8}\n      - cast: {to: f32}\n")
        let compiled = try Compiler.compile(path: path, options: CompileOptions(level: .O2))
        XCTAssertThrowsError(
            try SaveRequest.validate([try SaveRequest(argument: "pre.resize=x.npy")], in: compiled.optimized, level: "-O2")
        ) { error in
            XCTAssertTrue("\(error)".contains("no value 'pre.resize' (fused away?"), "\(error)")
        }
        XCTAssertNoThrow(
            try SaveRequest.validate([try SaveRequest(argument: "pre.resize=x.npy")], in: compiled.lowered, level: "-O0"))
    }
}
