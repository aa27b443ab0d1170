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
}
