import Foundation
import IR
import ONNXImport
import Passes
import Runtime
import TestSupport
import XCTest

/// visionc against ONNX Runtime on the real trained models (PP-OCRv4 detector and
/// recognizer, PP-OCR mobile v2 direction classifier, MTCNN P/R/O-Net, EfficientNet-Lite0)
/// on real images, at -O0, -O2 and -O2 on oneDNN (where it loads), every output within rtol 1e-3, atol 1e-4. The inputs and
/// ONNX Runtime's outputs come from scripts/make_model_references.py.
final class RealModelAgreementTests: XCTestCase {
    private typealias Reference = ReferenceManifest.Entry

    private static let rtol: Float = 1e-3
    private static let atol: Float = 1e-4

    private func manifest() throws -> ReferenceManifest { try ReferenceManifest.load("references/models/models.json") }

    private func reference(_ name: String) throws -> Reference { try manifest().entry(name) }

    private func load(_ file: ReferenceManifest.TensorFile) throws -> Tensor { try manifest().tensor(file) }

    /// Runs `graph` at -O0 and -O2 on each reference's input and compares every output.
    /// - Parameter graph: the imported model; its input dims may be symbolic.
    private func check(_ graph: Graph, against references: [Reference], file: StaticString = #filePath, line: UInt = #line) throws {
        for level in CompileConfiguration.checked {
            let (optimized, _) = try PassManager(passes: level.passes, fidelity: .exact, verifyEach: true).run(graph)
            let executable = try Executable(graph: optimized, options: RuntimeOptions(threads: 2))
            for reference in references {
                let result = try executable.run(inputs: [try load(reference.input)])
                XCTAssertEqual(result.outputs.count, reference.outputs.count, "\(reference.name) \(level): output count", file: file, line: line)
                for (got, expectedFile) in zip(result.outputs, reference.outputs) {
                    let expected = try load(expectedFile)
                    let label = "\(reference.name) \(level) \(expectedFile.onnx_name)"
                    XCTAssertEqual(got.shape, expected.shape, "\(label): shape", file: file, line: line)
                    guard got.count == expected.count else { continue }
                    print("agreement \(label): \(differenceSummary(got.floats, expected.floats))")
                    if let failure = allcloseFailure(got.floats, expected.floats, rtol: Self.rtol, atol: Self.atol) {
                        XCTFail("\(label): \(failure)", file: file, line: line)
                    }
                }
            }
        }
    }

    /// The model with its input fixed to the reference input's shape, as a pipeline or
    /// `bench --shape` imports it (shape arithmetic folds at compile time).
    private func checkWithFixedShape(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = try reference(name)
        let model = try ONNXModel.load(path: TestPaths.asset(reference.model).path)
        let graph = try model.standaloneGraph(inputShapes: [reference.input.onnx_name: reference.input.shape])
        try check(graph, against: [reference], file: file, line: line)
    }

    // MARK: - PP-OCR

    /// At the smaller of the two sizes only: the 736×736 run takes seconds in a debug build,
    /// and the dynamic-size test below covers it.
    func testPPOCRv4DetectorAt320x640MatchesONNXRuntime() throws { try checkWithFixedShape("ppocr_det_320x640") }

    /// The detector takes any H×W that is a multiple of 32: one graph with symbolic dims,
    /// planned per input size, must agree at both sizes (736×736, rapidocr's default, and 320×640).
    func testPPOCRv4DetectorWithDynamicSizeMatchesONNXRuntimeAtTwoSizes() throws {
        let references = [try reference("ppocr_det_736"), try reference("ppocr_det_320x640")]
        let model = try ONNXModel.load(path: TestPaths.asset(references[0].model).path)
        let graph = try model.standaloneGraph()
        XCTAssertTrue(graph.type(of: graph.inputs[0]).knownShape == nil, "the detector declares a dynamic H×W")
        try check(graph, against: references)
    }

    func testPPOCRMobileV2DirectionClassifierMatchesONNXRuntime() throws { try checkWithFixedShape("ppocr_cls") }

    func testPPOCRv4RecognizerMatchesONNXRuntime() throws { try checkWithFixedShape("ppocr_rec") }

    /// The recognizer's classes are CTC blank + the `character` metadata list + space.
    func testPPOCRv4RecognizerCarriesItsCharacterList() throws {
        let reference = try reference("ppocr_rec")
        let model = try ONNXModel.load(path: TestPaths.asset(reference.model).path)
        let characters = try XCTUnwrap(model.metadata["character"], "metadata key 'character'").split(separator: "\n")
        XCTAssertEqual(characters.count + 2, reference.outputs[0].shape.last)
    }

    // MARK: - MTCNN (NHWC inputs, transposed inside the models)

    func testMTCNNPNetMatchesONNXRuntime() throws { try checkWithFixedShape("mtcnn_pnet") }

    func testMTCNNRNetMatchesONNXRuntime() throws { try checkWithFixedShape("mtcnn_rnet") }

    func testMTCNNONetMatchesONNXRuntime() throws { try checkWithFixedShape("mtcnn_onet") }

    // MARK: - EfficientNet-Lite0 (converted by scripts/convert_efficientnet_lite0.py)

    func testEfficientNetLite0MatchesONNXRuntime() throws { try checkWithFixedShape("efficientnet_lite0") }
}

/// "max abs diff A, max rel diff R": R over the elements whose expected magnitude exceeds
/// 1e-4 (below that the relative difference of float noise is meaningless).
private func differenceSummary(_ got: [Float], _ expected: [Float]) -> String {
    var maxAbsolute: Float = 0
    var maxRelative: Float = 0
    for (a, b) in zip(got, expected) {
        let difference = abs(a - b)
        maxAbsolute = max(maxAbsolute, difference.isNaN ? .infinity : difference)
        if abs(b) > 1e-4 { maxRelative = max(maxRelative, difference / abs(b)) }
    }
    return "max abs diff \(maxAbsolute), max rel diff \(maxRelative)"
}
