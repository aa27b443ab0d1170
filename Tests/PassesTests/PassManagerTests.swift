import IR
import Passes
import XCTest

/// A `.fast` pass for the fidelity tests: renames the graph, counting one rewrite.
private struct RenameGraphPass: Pass {
    let name = "rename-graph"
    let summary = "test pass"
    let fidelity = Fidelity.fast
    func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        var g = graph
        g.name = "renamed"
        statistics.count("renamed # graph")
        return g
    }
}

/// A broken pass: drops the first non-constant node, leaving its result undefined.
private struct DropNodePass: Pass {
    let name = "drop-node"
    let summary = "test pass"
    let fidelity = Fidelity.exact
    func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        var g = graph
        if let i = g.nodes.firstIndex(where: { $0.op != .const }) { g.nodes.remove(at: i) }
        return g
    }
}

final class PassManagerTests: XCTestCase {
    private let convBatchNormRelu = """
    graph g(%x: f32[1,3,8,8] NCHW) {
      %w : f32[4,3,3,3] = const @w
      %c : f32[1,4,6,6] NCHW = conv(%x, %w)
      %s : f32[4] = const @s
      %b : f32[4] = const @b
      %m : f32[4] = const @m
      %v : f32[4] = const @v
      %bn : f32[1,4,6,6] NCHW = batch_norm(%c, %s, %b, %m, %v)
      %y : f32[1,4,6,6] NCHW = relu(%bn)
      return %y
    }
    """

    func testConvBatchNormReluBecomesOneNodeAtO2() throws {
        let g = try IRParser.parse(convBatchNormRelu, synthesizeMissingWeights: true)
        let (optimized, reports) = try PassManager(passes: OptimizationLevel.passes(for: .O2), verifyEach: true).run(g)
        XCTAssertEqual(optimized.nodes.filter { $0.op != .const }.map(\.op), [.conv])
        XCTAssertEqual(optimized.weights.count, 2, "the folded weight and bias; the batch_norm constants are gone")
        // A pass may run twice (cancel-transposes after assign-layouts): its first report counts here.
        let byName = Dictionary(reports.map { ($0.pass, $0) }, uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(byName["fold-batch-norm"]?.statistics.description, "folded 1 batch_norm")
        XCTAssertEqual(byName["fuse-activation"]?.statistics["fused # relu into conv"], 1)
        XCTAssertEqual(byName["fuse-preprocess"]?.changed, false)
        XCTAssertEqual(byName["dead-code-elimination"]?.statistics.description, "removed 5 nodes, removed 5 weights")
    }

    func testO0DoesNotFuse() throws {
        let g = try IRParser.parse(convBatchNormRelu, synthesizeMissingWeights: true)
        let (unfused, _) = try PassManager(passes: OptimizationLevel.passes(for: .O0), verifyEach: true).run(g)
        XCTAssertEqual(unfused.nodes.filter { $0.op != .const }.map(\.op), [.conv, .batchNorm, .relu])
    }

    func testFastPassesRunOnlyAtFastFidelity() throws {
        let g = try IRParser.parse(convBatchNormRelu, synthesizeMissingWeights: true)
        let (exact, exactReports) = try PassManager(passes: [RenameGraphPass()], fidelity: .exact).run(g)
        XCTAssertEqual(exact.name, "g")
        XCTAssertEqual(exactReports.map(\.ran), [false])
        let (fast, fastReports) = try PassManager(passes: [RenameGraphPass()], fidelity: .fast).run(g)
        XCTAssertEqual(fast.name, "renamed")
        XCTAssertEqual(fastReports.map(\.ran), [true])
        XCTAssertEqual(fastReports.map(\.changed), [true])
    }

    func testVerifyEachNamesThePassThatBrokeTheGraph() throws {
        let g = try IRParser.parse(convBatchNormRelu, synthesizeMissingWeights: true)
        XCTAssertThrowsError(try PassManager(passes: [DeadCodeEliminationPass(), DropNodePass()], verifyEach: true).run(g)) { error in
            XCTAssertTrue("\(error)".hasPrefix("after pass 'drop-node': IR verification failed"), "\(error)")
        }
        XCTAssertNoThrow(try PassManager(passes: [DropNodePass()], verifyEach: false).run(g), "verification is opt-in")
    }

    func testAfterEachSeesEveryPassThatRan() throws {
        let g = try IRParser.parse(convBatchNormRelu, synthesizeMissingWeights: true)
        var seen: [String] = []
        var lastDump = ""
        let manager = PassManager(passes: [RenameGraphPass()] + OptimizationLevel.passes(for: .O0), afterEach: { pass, graph in
            seen.append(pass.name)
            lastDump = IRPrinter.print(graph)
        })
        let (final, _) = try manager.run(g)
        XCTAssertEqual(seen, ["constant-fold", "dead-code-elimination"])
        XCTAssertEqual(lastDump, IRPrinter.print(final))
    }

    func testPassNamesAreFindable() {
        let all = OptimizationLevel.allCases.flatMap { OptimizationLevel.passes(for: $0) }
        for pass in all {
            XCTAssertEqual(OptimizationLevel.pass(named: pass.name)?.name, pass.name)
            XCTAssertFalse(pass.summary.isEmpty)
        }
        XCTAssertNil(OptimizationLevel.pass(named: "no-such-pass"))
        XCTAssertEqual(OptimizationLevel.passes(for: .O2).map(\.name),
                       [
            "constant-fold", "fold-batch-norm", "fold-conv-affine", "fuse-activation", "fuse-preprocess", "cancel-transposes", "fold-normalize",
            "decode-scale", "decode-region", "place-backends", "fuse-residual-add", "lower-precision", "assign-layouts", "cancel-transposes", "fuse-epilogue",
            "dead-code-elimination",
        ])
    }
}
