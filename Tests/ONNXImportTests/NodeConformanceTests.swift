import Foundation
import IR
import ONNXImport
import Passes
import Runtime
import TestSupport
import XCTest

/// The ONNX backend node cases of every op visionc claims (written by
/// scripts/make_onnx_node_cases.py from the onnx package's own case definitions), run at
/// -O0 and -O2 and compared with ONNX's default tolerance of each case (rtol 1e-3, atol 1e-7;
/// f16 and f64 outputs compared as f32, integer and bool outputs exactly). A case is left out only for a dtype visionc's IR lacks (listed
/// in its manifest) or by name in `ExcludedNodeCases` with its reason; a named case that
/// starts passing fails the test, so the list cannot go stale.
final class NodeConformanceTests: XCTestCase {
    private struct Manifest: Decodable {
        struct TensorFile: Decodable {
            let name: String
            let file: String?
            let dtype: String
            let shape: [Int]
        }
        struct DataSet: Decodable {
            let inputs: [TensorFile]
            let outputs: [TensorFile]
        }
        let name: String
        let ops: [String]
        let rtol: Float
        let atol: Float
        let data_sets: [DataSet]
        let unsupported_dtypes: [String]
    }

    private struct Index: Decodable { let cases: [String] }

    func testNodeCasesOfClaimedOps() throws {
        let root = TestPaths.asset("onnx-node-cases")
        let indexURL = root.appendingPathComponent("index.json")
        guard TestPaths.exists(indexURL) else { throw XCTSkip("ONNX node cases missing: run scripts/setup") }
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: indexURL))
        var passed = 0, excludedForDType = 0
        var failures: [String] = []
        var stale: [String] = []
        // Per op (a case counts for each op of its graph): passed, excluded for a dtype,
        // excluded by name (with the reasons), failed — the README's conformance table.
        var table: [String: (passed: Int, dtype: Int, named: Int, failed: Int, reasons: Set<String>)] = [:]
        for name in index.cases {
            let directory = root.appendingPathComponent(name)
            let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
            func count(_ update: (inout (passed: Int, dtype: Int, named: Int, failed: Int, reasons: Set<String>)) -> Void) {
                for op in Set(manifest.ops) { update(&table[op, default: (0, 0, 0, 0, [])]) }
            }
            if !manifest.unsupported_dtypes.isEmpty {
                excludedForDType += 1
                count { $0.dtype += 1 }
                continue
            }
            let failure = run(manifest, in: directory)
            switch (failure, ExcludedNodeCases.reasons[name]) {
            case (nil, nil):
                passed += 1
                count { $0.passed += 1 }
            case (nil, _?): stale.append(name)
            case (let message?, nil):
                failures.append("\(name): \(message)")
                count { $0.failed += 1 }
            case (_?, let reason?): count { $0.named += 1; $0.reasons.insert(reason) }
            }
        }
        print("| ONNX op | passed | excluded: dtype | excluded: named (reason) | failed |\n|---|---|---|---|---|")
        for (op, row) in table.sorted(by: { $0.key < $1.key }) {
            let named = row.named == 0 ? "0" : "\(row.named) (\(row.reasons.sorted().joined(separator: "; ")))"
            print("| \(op) | \(row.passed) | \(row.dtype) | \(named) | \(row.failed) |")
        }
        let excludedByName = ExcludedNodeCases.reasons.keys.filter(index.cases.contains).count
        print("""
            ONNX node conformance: \(index.cases.count) cases whose ops visionc claims; \(passed) passed at \(CompileConfiguration.checked.map(\.description).joined(separator: ", ")); \
            excluded: \(excludedForDType) for dtypes visionc lacks, \(excludedByName) listed in ExcludedNodeCases; \
            \(failures.count) failed
            """)
        XCTAssert(failures.isEmpty, "\(failures.count) node cases failed:\n" + failures.prefix(200).joined(separator: "\n"))
        XCTAssert(stale.isEmpty, "excluded cases that now pass (remove them from ExcludedNodeCases): \(stale)")
    }

    /// Runs every data set of a case at both levels; the first problem, or nil.
    private func run(_ manifest: Manifest, in directory: URL) -> String? {
        do {
            let model = try ONNXModel.load(path: directory.appendingPathComponent("model.onnx").path)
            for dataSet in manifest.data_sets {
                let given = try Dictionary(uniqueKeysWithValues: dataSet.inputs.map { ($0.name, try load($0, in: directory)) })
                let graph = try model.standaloneGraph(inputShapes: given.mapValues(\.shape))
                let inputs = try model.inputs.map { input -> Tensor in
                    guard let tensor = given[input.name] else { throw CaseError("no data for input '\(input.name)'") }
                    return tensor
                }
                let expected = try dataSet.outputs.map { try load($0, in: directory) }
                for level in CompileConfiguration.checked {
                    let (optimized, _) = try PassManager(passes: level.passes, verifyEach: true).run(graph)
                    let outputs = try Executable(graph: optimized, options: RuntimeOptions(threads: 1)).run(inputs: inputs).outputs
                    guard outputs.count == expected.count else { return "-\(level): \(outputs.count) outputs, expected \(expected.count)" }
                    for (i, (got, want)) in zip(outputs, expected).enumerated() {
                        if let problem = compare(got, want, rtol: manifest.rtol, atol: manifest.atol) {
                            return "-\(level) output #\(i) '\(dataSet.outputs[i].name)': \(problem)"
                        }
                    }
                }
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    private func compare(_ got: Tensor, _ want: Tensor, rtol: Float, atol: Float) -> String? {
        guard got.dtype == want.dtype else { return "dtype \(got.dtype), expected \(want.dtype)" }
        guard got.shape == want.shape else { return "shape \(got.shape), expected \(want.shape)" }
        if got.dtype.isFloatingPoint {
            // As NumPy's assert_allclose (ONNX's own check): equal infinities and NaN against
            // NaN match; every other element within the tolerance.
            let matched = zip(got.floats, want.floats).map { g, w in g == w || (g.isNaN && w.isNaN) ? (Float(0), Float(0)) : (g, w) }
            return allcloseFailure(matched.map(\.0), matched.map(\.1), rtol: rtol, atol: atol)
        }
        return got.data == want.data ? nil : "integer values differ: \(got.integers.prefix(8)) vs \(want.integers.prefix(8))"
    }

    private func load(_ file: Manifest.TensorFile, in directory: URL) throws -> Tensor {
        guard let name = file.file else { throw CaseError("'\(file.name)' has no data file (dtype \(file.dtype))") }
        let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
        return try NumPyFormat.decode(bytes)
    }

    private struct CaseError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
