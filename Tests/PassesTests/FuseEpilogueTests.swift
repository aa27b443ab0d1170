import IR
import Passes
import Runtime
import TestSupport
import XCTest

/// `fuse-epilogue` run end to end: the conv with the chain as its epilogue computes bit for
/// bit what the chain's nodes compute one by one (the native kernels' in-cache program), and
/// the chain's nodes are gone.
final class FuseEpilogueTests: XCTestCase {
    private struct Block {
        var channels = 4, outChannels = 6, kernel = 3, group = 1, pads = [1, 1, 1, 1]
        /// HardSwish's clip as its own node instead of the add's fused activation.
        var standaloneClip = false
        /// mul(gate, x) instead of mul(x, gate).
        var gateFirst = false
        /// Also output the value after the first affine, so the chain must stop there.
        var exposeAffine = false
    }

    private static let intermediates = ["c", "scaled", "shifted", "plus3", "gate", "product", "hswish", "scaled2"]

    /// PP-LCNetV3's block: conv → mul s → add b → x * clip(x + 3, 0, 6) / 6 → mul s2 → add b2.
    private func graph(_ b: Block) throws -> Graph {
        var g = Graph(name: "block")
        let x = g.addInput(name: "x", type: TensorType(.f32, [1, b.channels, 9, 21], layout: .nchw))
        var noise = Noise(seed: 21)
        let wShape = [b.outChannels, b.channels / b.group, b.kernel, b.kernel]
        let w = g.addConstant(name: "w", tensor: Tensor(shape: wShape, floats: noise.floats(wShape.reduce(1, *))))
        let bias = g.addConstant(name: "bias", tensor: Tensor(shape: [b.outChannels], floats: noise.floats(b.outChannels)))
        func scalar(_ name: String, _ value: Float) -> ValueID { g.addConstant(name: name, tensor: Tensor(shape: [1], floats: [value])) }
        let c = try g.append(.conv, [x, w, bias], attributes: [
            "strides": .ints([1, 1]), "pads": .ints(b.pads), "dilations": .ints([1, 1]), "group": .int(b.group),
        ], name: "c")[0]
        let scaled = try g.append(.mul, [scalar("s", 1.7), c], name: "scaled")[0]
        let shifted = try g.append(.add, [scaled, scalar("t", -0.3)], name: "shifted")[0]
        let gate: ValueID
        if b.standaloneClip {
            let plus3 = try g.append(.add, [shifted, scalar("three", 3)], name: "plus3")[0]
            gate = try g.append(.clip, [plus3, scalar("lo", 0), scalar("hi", 6)], name: "gate")[0]
        } else {
            gate = try g.append(.add, [shifted, scalar("three", 3)], attributes: [
                "activation": .string("clip"), "clip_min": .float(0), "clip_max": .float(6),
            ], name: "gate")[0]
        }
        let product = try g.append(.mul, b.gateFirst ? [gate, shifted] : [shifted, gate], name: "product")[0]
        let hswish = try g.append(.div, [product, scalar("six", 6)], name: "hswish")[0]
        let scaled2 = try g.append(.mul, [scalar("s2", 0.9), hswish], name: "scaled2")[0]
        let y = try g.append(.add, [scaled2, scalar("t2", 0.05)], name: "y")[0]
        g.outputs = b.exposeAffine ? [y, scaled] : [y]
        return g
    }

    /// The graph after `fuse-epilogue`, checked by the verifier.
    private func fused(_ g: Graph) throws -> Graph {
        var statistics = PassStatistics()
        let result = try FuseEpiloguePass().run(g, statistics: &statistics)
        try Verifier.verify(result)
        return result
    }

    /// Runs the block fused and node by node; returns the fused run's ops.
    @discardableResult
    private func checkBitExact(_ b: Block, file: StaticString = #filePath, line: UInt = #line) throws -> [Op] {
        let g = try graph(b)
        let input = Tensor(shape: [1, b.channels, 9, 21], floats: Noise.floats(b.channels * 9 * 21, seed: 22).map { $0 * 4 })
        let fused = try Executable(graph: try fused(g), options: RuntimeOptions(threads: 2)).run(inputs: [input])
        let separate = try Executable(graph: g, options: RuntimeOptions(threads: 2)).run(inputs: [input], capture: ["c"])
        XCTAssertEqual(fused.outputs.count, separate.outputs.count, file: file, line: line)
        for (f, s) in zip(fused.outputs, separate.outputs) { XCTAssertEqual(f.floats, s.floats, "fused vs node by node", file: file, line: line) }
        XCTAssertGreaterThan(separate.profile.entries.count, fused.profile.entries.count, file: file, line: line)
        // The reference chain, on the captured conv output.
        let conv = try XCTUnwrap(separate.captured["c"], file: file, line: line).floats
        let expected = conv.map { v -> Float in
            let a = v * 1.7 + -0.0, x = a * 1 + -0.3
            let gate = min(max((x * 1 + 3) + 0, 0), 6)
            return ((x * gate) / 6 * 0.9 + -0.0) * 1 + 0.05
        }
        XCTAssertEqual(fused.outputs[0].floats, expected, file: file, line: line)
        return fused.profile.entries.map(\.op)
    }

    func testGEMMConvAbsorbsTheWholeChain() throws {
        XCTAssertEqual(try checkBitExact(Block()), [.conv])
        XCTAssertEqual(try checkBitExact(Block(gateFirst: true)), [.conv])
        XCTAssertEqual(try checkBitExact(Block(standaloneClip: true)), [.conv])
    }

    func testPointwiseAndDepthwiseConvsAbsorbTheChain() throws {
        XCTAssertEqual(try checkBitExact(Block(kernel: 1, pads: [0, 0, 0, 0])), [.conv])
        XCTAssertEqual(try checkBitExact(Block(channels: 4, outChannels: 4, group: 4)), [.conv])
        // Grouped but not depthwise: the GEMM path per group.
        XCTAssertEqual(try checkBitExact(Block(channels: 4, outChannels: 6, group: 2)), [.conv])
    }

    func testAChainStopsAtAValueSomethingElseReads() throws {
        // `scaled` is a graph output: the conv absorbs the first mul only and the rest runs as nodes.
        let ops = try checkBitExact(Block(exposeAffine: true))
        XCTAssertEqual(ops.first, .conv)
        XCTAssertEqual(ops.count, 7, "conv+mul, then add, add, mul, div, mul, add")
    }

    func testChainsTakeOnlyScalarConstantOperands() throws {
        var g = Graph(name: "per-channel")
        let x = g.addInput(name: "x", type: TensorType(.f32, [1, 2, 4, 4], layout: .nchw))
        let w = g.addConstant(name: "w", tensor: Tensor(shape: [3, 2, 1, 1], floats: Noise.floats(6, seed: 1)))
        let c = try g.append(.conv, [x, w], attributes: ["strides": .ints([1, 1]), "pads": .ints([0, 0, 0, 0])], name: "c")[0]
        let perChannel = g.addConstant(name: "pc", tensor: Tensor(shape: [1, 3, 1, 1], floats: [1, 2, 3]))
        let y = try g.append(.mul, [c, perChannel], name: "y")[0]
        let z = try g.append(.relu, [y], name: "z")[0]
        g.outputs = [z]
        let exe = try Executable(graph: try fused(g))
        let run = try exe.run(inputs: [Tensor(shape: [1, 2, 4, 4], floats: Noise.floats(32, seed: 2))])
        XCTAssertEqual(run.profile.entries.map(\.op), [.conv, .mul, .relu], "a per-channel operand is not a scalar: no fusion")
    }
}
