import Driver
import Foundation
import TestSupport
import XCTest

/// Every kind of bad input gets a clear error, never a crash.
final class BadInputTests: XCTestCase {
    private func writeTemp(_ name: String, _ contents: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("visionc-tests-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try contents.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    private func assertCompileError(_ yaml: String, contains expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try writeTemp("g\(abs(yaml.hashValue)).yaml", yaml)
        XCTAssertThrowsError(try Compiler.compile(path: path, options: CompileOptions()), file: file, line: line) { error in
            for piece in expected {
                XCTAssertTrue("\(error)".contains(piece), "'\(error)' lacks '\(piece)'", file: file, line: line)
            }
        }
    }

    func testYamlTypoPointsAtTheKey() throws {
        try assertCompileError("""
            pipeline: p
            inputs: {image: jpeg}
            nodes:
              - name: pre
                ops:
                  - decode: {colour: rgb}
            """, contains: [":6:", "colour", "did you mean 'color'"])
    }

    func testUnknownOpIsNamed() throws {
        try assertCompileError("""
            pipeline: p
            inputs: {image: jpeg}
            nodes:
              - name: pre
                ops:
                  - decode
                  - sharpen: {amount: 2}
            """, contains: [":7:", "sharpen"])
    }

    func testMissingModelFileIsNamedWithItsYamlPosition() throws {
        try assertCompileError("""
            pipeline: p
            inputs: {x: tensor}
            nodes:
              - name: net
                model: does/not/exist.onnx
            """, contains: [":5:", "does/not/exist.onnx", "does not exist"])
    }

    func testShapeMismatchBetweenPreprocessAndModel() throws {
        guard TestPaths.exists(TestPaths.asset("models/light_resnet50.onnx")) else { throw XCTSkip("run scripts/setup") }
        let model = TestPaths.asset("models/light_resnet50.onnx").path
        try assertCompileError("""
            pipeline: p
            inputs: {image: jpeg}
            nodes:
              - name: pre
                ops:
                  - decode
                  - resize: {size: [200, 200]}
                  - normalize: {scale: 0.0039}
                  - layout: NCHW
              - name: net
                model: \(model)
            """, contains: ["gpu_0/data_0", "[1,3,224,224]", "[1,3,200,200]"])
    }

    func testBadImagesFailCleanly() throws {
        guard TestPaths.exists(TestPaths.asset("models/light_resnet50.onnx")) else { throw XCTSkip("run scripts/setup") }
        let runner = try PipelineRunner(try Compiler.compile(path: ClassifyPipelineTests.graph, options: CompileOptions()))
        // A GIF is neither format; a PNG cut short is a broken PNG.
        let gif = FileManager.default.temporaryDirectory.appendingPathComponent("visionc-bad-\(getpid()).gif")
        try Data("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8).write(to: gif)
        let png = try Data(contentsOf: TestPaths.testData("not-a-jpeg.png"))
        let truncatedPNG = FileManager.default.temporaryDirectory.appendingPathComponent("visionc-bad-\(getpid()).png")
        try png.prefix(png.count - 20).write(to: truncatedPNG)
        defer { for file in [gif, truncatedPNG] { try? FileManager.default.removeItem(at: file) } }
        let cases: [(String, String)] = [
            ("/no/such/image.jpg", "cannot read"),
            (gif.path, "not a JPEG"),
            (truncatedPNG.path, "PNG decode"),
            (TestPaths.testData("chelsea-truncated.jpg").path, "corrupt"),
        ]
        for (path, expected) in cases {
            XCTAssertThrowsError(try runner.run(path: path), path) { error in
                XCTAssertTrue("\(error)".lowercased().contains(expected.lowercased()), "\(path): '\(error)' lacks '\(expected)'")
            }
        }
        XCTAssertNoThrow(try runner.run(path: TestPaths.testData("chelsea-small.jpg").path), "the runner still works after errors")
    }
}
