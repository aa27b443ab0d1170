import Foundation
import IR
import ONNXImport
import Passes
import Runtime
import TestSupport
import XCTest

/// visionc against ONNX Runtime on the same input tensor (references written by
/// scripts/make_references.py with the onnxruntime pip package): rtol 1e-3, atol 1e-4,
/// at -O0, -O2 and -O2 on oneDNN (where it loads), for the final output and the pre-softmax logits.
final class ModelAgreementTests: XCTestCase {
    private func check(_ name: String) throws {
        let manifest = try ReferenceManifest.load("references/references.json")
        let reference = try manifest.entry(name)
        let graph = try ONNXModel.load(path: TestPaths.asset(reference.model).path).standaloneGraph()
        let input = try manifest.tensor(reference.input)
        for level in CompileConfiguration.checked {
            let (optimized, _) = try PassManager(passes: level.passes, fidelity: .exact, verifyEach: true).run(graph)
            let expected = try reference.tensors.filter { $0.role != "input" }.map { ($0, try manifest.tensor($0)) }
            let logitsName = Graph.legalName(reference.tensors.first { $0.role == "logits" }!.onnx_name)
            let result = try Executable(graph: optimized, options: RuntimeOptions(threads: 2))
                .run(inputs: [input], capture: [logitsName])
            for (file, tensor) in expected where !isDegenerateSoftmax(file, expected) {
                let actual = file.role == "logits" ? result.captured[logitsName] : result.outputs.first
                let got = try XCTUnwrap(actual, "\(name) \(level): no \(file.role)")
                XCTAssertEqual(got.count, tensor.count)
                if let failure = allcloseFailure(got.floats, tensor.floats, rtol: 1e-3, atol: 1e-4) {
                    XCTFail("\(name) \(level) \(file.role): \(failure)")
                }
            }
        }
    }

    /// The light model's weights are all 0.02, so its 1000 logits are one value (~9.8e18) in
    /// exact arithmetic. Softmax turns a last-bit rounding difference between columns (any
    /// GEMM blocking) into a visible probability difference, so there only the logits are
    /// compared; the seeded model checks the softmax.
    private func isDegenerateSoftmax(_ file: ReferenceManifest.TensorFile, _ all: [(ReferenceManifest.TensorFile, Tensor)]) -> Bool {
        guard file.role == "output", let logits = all.first(where: { $0.0.role == "logits" })?.1.floats,
              let first = logits.first else { return false }
        return logits.allSatisfy { $0 == first }
    }

    func testResNet50MatchesONNXRuntime() throws { try check("resnet50") }

    /// The same architecture with seeded random weights (scripts/make_references.py), so
    /// a wrong channel or a misplaced bias cannot hide behind constant weights.
    func testResNet50WithSeededWeightsMatchesONNXRuntime() throws { try check("resnet50_seeded") }

    /// The classic nets with local response normalization (ONNX LRN), seeded the same way.
    func testAlexNetWithSeededWeightsMatchesONNXRuntime() throws { try check("alexnet_seeded") }
    func testInceptionV1WithSeededWeightsMatchesONNXRuntime() throws { try check("inception_v1_seeded") }
}
