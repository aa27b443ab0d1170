import Driver
import Foundation
import IR
import Passes
import TestSupport
import XCTest

/// `visionc run --model`: NumPy inputs by name, outputs written as sanitized `<name>.npy`.
final class StandaloneModelRunnerTests: XCTestCase {
    func testOutputFileNamesAreSanitized() {
        XCTAssertEqual(StandaloneModelRunner.fileName(forOutput: "save_infer_model/scale_0.tmp_1"), "save_infer_model_scale_0.tmp_1.npy")
        XCTAssertEqual(StandaloneModelRunner.fileName(forOutput: "gpu_0/softmax:0"), "gpu_0_softmax_0.npy")
        XCTAssertEqual(StandaloneModelRunner.fileName(forOutput: ".hidden"), "_hidden.npy")
        XCTAssertEqual(StandaloneModelRunner.fileName(forOutput: ""), "_.npy")
    }

    func testRunsAModelOnNpyInputsAndWritesItsOutputs() throws {
        let model = TestPaths.asset("models/mtcnn_pnet.onnx")
        guard TestPaths.exists(model) else { throw XCTSkip("mtcnn_pnet.onnx missing: run scripts/setup") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("visionc-model-runner-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let input = Tensor(shape: [1, 16, 20, 3], floats: (0..<960).map { Float(sin(0.01 * Double($0))) })
        let inputPath = directory.appendingPathComponent("x.npy").path
        try Data(NumPyFormat.encode(input)).write(to: URL(fileURLWithPath: inputPath))

        let tensors = try StandaloneModelRunner.readInputs(["input_1=\(inputPath)"])
        var results: [[Tensor]] = []
        for level in [OptimizationLevel.O0, .O2] {
            let runner = try StandaloneModelRunner(path: model.path, inputShapes: tensors.mapValues(\.shape), options: CompileOptions(level: level), threads: 1)
            let outputs = try runner.run(inputs: tensors)
            let paths = try StandaloneModelRunner.write(outputs, to: directory.appendingPathComponent("\(level)").path)
            XCTAssertEqual(paths.map { URL(fileURLWithPath: $0).lastPathComponent }, outputs.map { StandaloneModelRunner.fileName(forOutput: $0.name) })
            results.append(try paths.map { try NumPyFormat.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: $0)))) })
        }
        XCTAssertEqual(results[0].map(\.shape), [[1, 3, 5, 4], [1, 3, 5, 2]])
        for (a, b) in zip(results[0], results[1]) {
            XCTAssertNil(allcloseFailure(a.floats, b.floats, rtol: 1e-5, atol: 1e-6))
        }

        XCTAssertThrowsError(try StandaloneModelRunner.readInputs(["input_1"])) { XCTAssertEqual("\($0)", "--input 'input_1': expected NAME=FILE.npy") }
        let runner = try StandaloneModelRunner(path: model.path, inputShapes: tensors.mapValues(\.shape), options: CompileOptions(level: .O0))
        XCTAssertThrowsError(try runner.run(inputs: ["image": input])) {
            XCTAssertEqual("\($0)", "the model has no input 'image' (its inputs: input_1)")
        }
    }
}
