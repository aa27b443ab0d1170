import Driver
import Foundation
import IR
import Passes
import TestSupport
import XCTest

/// The first real pipeline end to end: Graphs/classify-resnet50.yaml (JPEG → resize → crop →
/// normalize → NCHW → ResNet-50 → softmax → top-5) at -O0 and -O2.
final class ClassifyPipelineTests: XCTestCase {
    static let graph = TestPaths.repositoryRoot.appendingPathComponent("Graphs/classify-resnet50.yaml").path

    private func requireAssets() throws {
        for asset in ["models/light_resnet50.onnx", "imagenet_labels.txt"] where !TestPaths.exists(TestPaths.asset(asset)) {
            throw XCTSkip("asset \(asset) missing: run scripts/setup")
        }
    }

    func testO2FusesPreprocessingIntoOneNodeAndFoldsBatchNorm() throws {
        try requireAssets()
        let o0 = try Compiler.compile(path: Self.graph, options: CompileOptions(level: .O0, verifyEach: true))
        let o2 = try Compiler.compile(path: Self.graph, options: CompileOptions(level: .O2, verifyEach: true))
        func count(_ g: Graph, _ op: Op) -> Int { g.nodes.filter { $0.op == op }.count }
        for op in [Op.resize, .crop, .cast, .normalize, .transpose] {
            XCTAssertEqual(count(o0.optimized, op), 1, "-O0 keeps \(op.rawValue) as its own node")
        }
        for op in [Op.resize, .crop, .cast, .normalize] {
            XCTAssertEqual(count(o2.optimized, op), 0, "-O2 fuses \(op.rawValue) into preprocess")
        }
        // The model's layout conversion folds into the preprocess; on oneDNN the pooled 1×1
        // features go back to NCHW for the classifier (2048 elements, the only transpose left).
        let transposes = o2.optimized.nodes.filter { $0.op == .transpose }
        XCTAssertLessThanOrEqual(transposes.count, 1)
        for node in transposes {
            XCTAssertEqual(o2.optimized.type(of: node.inputs[0]).shape.dropFirst().prefix(2).map(\.value), [1, 1])
        }
        XCTAssertEqual(count(o0.optimized, .preprocess), 0)
        XCTAssertEqual(count(o2.optimized, .preprocess), 1)
        XCTAssertEqual(count(o0.optimized, .batchNorm), 53)
        XCTAssertEqual(count(o2.optimized, .batchNorm), 0)
        XCTAssertEqual(count(o2.optimized, .relu), 0, "every relu follows a conv or add and is fused")
        XCTAssertEqual(count(o2.optimized, .constantOfShape), 0, "ResNet-50 light's weights are folded to constants")
        let text = IRPrinter.print(o2.optimized)
        XCTAssertTrue(text.contains("= preprocess(%preprocess.decode)"), text.prefix(2000).description)
        XCTAssertFalse(text.contains("batch_norm"))
    }

    func testO0AndO2AgreeOnARealPhoto() throws {
        try requireAssets()
        let image = TestPaths.testData("chelsea-small.jpg").path
        let o0 = try PipelineRunner(try Compiler.compile(path: Self.graph, options: CompileOptions(level: .O0)))
        let o2 = try PipelineRunner(try Compiler.compile(path: Self.graph, options: CompileOptions(level: .O2)))
        let a = try o0.run(path: image)
        let b = try o2.run(path: image)
        XCTAssertEqual(a.rankings.first?.count, 5)
        XCTAssertEqual(a.rankings.first?.map(\.index), b.rankings.first?.map(\.index))
        XCTAssertNotNil(a.rankings.first?.first?.label, "labels come from assets/imagenet_labels.txt")
        XCTAssertEqual(a.outputs.count, b.outputs.count)
        for (x, y) in zip(a.outputs, b.outputs) {
            if let failure = allcloseFailure(x.floats, y.floats, rtol: 1e-4, atol: 0) { XCTFail(failure) }
        }
        XCTAssertGreaterThan(b.profile.seconds(by: .decode), 0)
        XCTAssertGreaterThan(b.profile.seconds(by: .inference), 0)
    }

    /// At -O2 the fused preprocess writes raw pixel values (fold-normalize moved the
    /// normalization into the first conv) under `preprocess.raw`; -O0's cast before the
    /// normalize (`preprocess.normalize.cast`) holds the same values in HWC.
    func testO0AndO2AgreeOnThePreprocessedTensor() throws {
        try requireAssets()
        let input = try PipelineRunner.readInput(path: TestPaths.testData("chelsea-small.jpg").path)
        let o0 = try PipelineRunner(try Compiler.compile(path: Self.graph, options: CompileOptions(level: .O0)))
        let o2 = try PipelineRunner(try Compiler.compile(path: Self.graph, options: CompileOptions(level: .O2)))
        let hwc = try XCTUnwrap(try o0.run(input: input, name: "chelsea", capture: ["preprocess.normalize.cast"]).1["preprocess.normalize.cast"])
        let raw = try XCTUnwrap(
            try o2.run(input: input, name: "chelsea", capture: ["preprocess.raw"]).1["preprocess.raw"],
            "the fused node's raw result is named after the chain's last value")
        XCTAssertEqual(hwc.shape, [224, 224, 3])
        // NCHW for the native backend; NHWC when oneDNN runs the first conv channels-last.
        if raw.shape == [1, 224, 224, 3] {
            XCTAssertEqual(hwc.floats, raw.floats)
        } else {
            XCTAssertEqual(raw.shape, [1, 3, 224, 224])
            let (a, b) = (hwc.floats, raw.floats)
            let plane = 224 * 224
            let reordered = (0..<(3 * plane)).map { i in a[(i % plane) * 3 + i / plane] }
            XCTAssertEqual(reordered, b)
        }
    }
}
