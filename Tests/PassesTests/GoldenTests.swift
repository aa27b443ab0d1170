import Foundation
import IR
import Passes
import XCTest

/// Runs every `Golden/<pass>.<case>.ir` file: parse the input, run the passes with the
/// verifier after each, and compare the printed graph with the expected text.
/// `VISIONC_RECORD_GOLDEN=1 swift test --filter PassesTests` rewrites the expected parts.
final class GoldenTests: XCTestCase {
    private static var sourceDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    }

    private func goldenFiles() throws -> [URL] {
        let directory = try XCTUnwrap(Bundle.module.url(forResource: "Golden", withExtension: nil))
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "ir" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func testGoldenFiles() throws {
        let record = ProcessInfo.processInfo.environment["VISIONC_RECORD_GOLDEN"] == "1"
        let files = try goldenFiles()
        XCTAssertFalse(files.isEmpty, "no golden files found")
        for url in files {
            do {
                let golden = try GoldenFile(url: url)
                let input = try IRParser.parse(golden.input, weights: golden.weights, synthesizeMissingWeights: true)
                let (output, _) = try PassManager(passes: golden.passes, fidelity: golden.fidelity, verifyEach: true).run(input)
                let actual = IRPrinter.print(output)
                XCTAssertNoThrow(try IRParser.parse(actual, weights: output.weights), "\(url.lastPathComponent): output does not parse back")
                if record {
                    try golden.record(actual, sourceDirectory: Self.sourceDirectory)
                } else {
                    XCTAssertEqual(actual, golden.expected, "\(url.lastPathComponent): output differs from the expected IR")
                }
            } catch {
                XCTFail("\(url.lastPathComponent): \(error)")
            }
        }
    }

    /// Each pass of the pipelines has golden cases (a positive one and one where it must not fire).
    func testEveryPassHasGoldenCases() throws {
        let names = Set(try goldenFiles().map { $0.lastPathComponent.split(separator: ".")[0] })
        for level in OptimizationLevel.allCases {
            for pass in OptimizationLevel.passes(for: level) {
                XCTAssertTrue(names.contains(Substring(pass.name)), "no Golden/\(pass.name).*.ir case")
            }
        }
    }
}
