import IR
import TestSupport
@testable import Runtime
import XCTest

/// Planning: caching by input size, liveness-packed arena, views without copies, input errors.
final class PlanTests: XCTestCase {
    /// x → relu → sigmoid → relu → … : each value dies when the next is made.
    private func chain(length: Int) throws -> Graph {
        var g = Graph(name: "chain")
        var v = g.addInput(name: "x", type: TensorType(.f32, [.known(1), .symbol("n")]))
        for i in 0..<length { v = try g.append(i % 2 == 0 ? .relu : .sigmoid, [v], name: "v\(i)")[0] }
        g.outputs = [v]
        return g
    }

    func testPlansAreCachedPerSizeAndTheArenaDoesNotGrow() throws {
        let exe = try Executable(graph: try chain(length: 4))
        let small = Tensor(shape: [1, 1000], floats: Noise.floats(1000, seed: 1))
        let first = try exe.run(inputs: [small]).outputs[0]
        let capacity = exe.arenaCapacityBytes
        XCTAssertEqual(exe.cachedPlanCount, 1)
        XCTAssertEqual(try exe.run(inputs: [small]).outputs[0], first)
        XCTAssertEqual(exe.arenaCapacityBytes, capacity, "same size: no growth")
        XCTAssertEqual(exe.cachedPlanCount, 1)

        let large = Tensor(shape: [1, 5000], floats: Noise.floats(5000, seed: 2))
        let out = try exe.run(inputs: [large]).outputs[0]
        XCTAssertEqual(out.shape, [1, 5000])
        XCTAssertEqual(exe.cachedPlanCount, 2)
        XCTAssertGreaterThan(exe.arenaCapacityBytes, capacity)
        let grown = exe.arenaCapacityBytes
        XCTAssertEqual(try exe.run(inputs: [small]).outputs[0], first, "the smaller plan runs in the grown arena")
        XCTAssertEqual(exe.arenaCapacityBytes, grown)
    }

    func testArenaIsSmallerThanAllValuesOnAChain() throws {
        let g = try chain(length: 8)
        let exe = try Executable(graph: g)
        _ = try exe.run(inputs: [Tensor(shape: [1, 4096], floats: Noise.floats(4096, seed: 3))])
        let valueBytes = 9 * 4096 * 4
        XCTAssertEqual(exe.plannedArenaBytes, 2 * 4096 * 4, "two buffers alternate along the chain")
        XCTAssertLessThan(exe.plannedArenaBytes, valueBytes)
    }

    func testCapturedValuesStayAliveAndKeepTheirDtype() throws {
        var g = try chain(length: 4)
        let x = g.inputs[0]
        let bytes = try g.append(.cast, [x], attributes: ["to": .string("u8")], name: "bytes")[0]
        g.outputs.append(bytes)
        let exe = try Executable(graph: g)
        let input = (0..<64).map { Float($0) - 10 }
        let run = try exe.run(inputs: [Tensor(shape: [1, 64], floats: input)], capture: ["v0", "v2"])
        XCTAssertEqual(run.captured["v0"]?.floats, input.map { max($0, 0) })
        XCTAssertEqual(run.captured["v2"]?.floats, input.map { max(1 / (1 + exp(-max($0, 0))), 0) })
        XCTAssertEqual(run.outputs[1].dtype, .u8)
        XCTAssertThrowsError(try exe.run(inputs: [Tensor(shape: [1, 64], floats: input)], capture: ["nope"])) { error in
            XCTAssertTrue("\(error)".contains("%nope"), "\(error)")
        }
    }

    func testViewsAliasTheirSource() throws {
        var g = Graph(name: "views")
        let x = g.addInput(name: "x", type: TensorType(.f32, [2, 3, 4]))
        let y = try g.append(.relu, [x], name: "y")[0]
        let flat = try g.append(.flatten, [y], attributes: ["axis": .int(1)], name: "flat")[0]
        let shaped = try g.append(.reshape, [flat], attributes: ["shape": .ints([4, -1])], name: "shaped")[0]
        let z = try g.append(.sigmoid, [shaped], name: "z")[0]
        g.outputs = [z, shaped]
        let exe = try Executable(graph: g)
        let input = Noise.floats(24, seed: 4)
        let run = try exe.run(inputs: [Tensor(shape: [2, 3, 4], floats: input)])
        XCTAssertEqual(run.outputs[1].shape, [4, 6])
        XCTAssertEqual(run.outputs[1].floats, input.map { max($0, 0) })
        XCTAssertEqual(run.profile.entries.map(\.op), [.relu, .sigmoid], "views run no step")

        let key = PlanKey(inputShapes: [[2, 3, 4]], decodedShapes: [], captured: [])
        let plan = try Planner(graph: g, constantBuffers: [:], decodeSources: [:], encodedInputs: []).plan(key: key, decodedShapes: [:])
        XCTAssertEqual(plan.slotOfValue[flat.index], plan.slotOfValue[y.index])
        XCTAssertEqual(plan.slotOfValue[shaped.index], plan.slotOfValue[y.index])
    }

    func testShapeArithmeticFoldsAtPlanTime() throws {
        var g = Graph(name: "fold")
        let x = g.addInput(name: "x", type: TensorType(.f32, [.known(2), .symbol("n")]))
        let shape = try g.append(.shape, [x], name: "shape")[0]
        let back = try g.append(.reshape, [try g.append(.flatten, [x], attributes: ["axis": .int(0)], name: "flat")[0], shape], name: "back")[0]
        g.outputs = [try g.append(.relu, [back], name: "y")[0]]
        let run = try Executable(graph: g).run(inputs: [Tensor(shape: [2, 3], floats: [1, -2, 3, -4, 5, -6])])
        XCTAssertEqual(run.outputs[0].shape, [2, 3])
        XCTAssertEqual(run.outputs[0].floats, [1, 0, 3, 0, 5, 0])
        XCTAssertEqual(run.profile.entries.map(\.op), [.relu])
    }

    func testBadInputsGiveErrors() throws {
        let exe = try Executable(graph: try chain(length: 2))
        XCTAssertThrowsError(try exe.run(inputs: [])) { error in
            XCTAssertEqual("\(error)", "runtime: expected 1 input(s), given 0")
        }
        XCTAssertThrowsError(try exe.run(inputs: [Tensor(shape: [1, 3], bytes: [1, 2, 3])])) { error in
            XCTAssertEqual("\(error)", "runtime: input %x: expected f32[1,?n], given u8[1, 3]")
        }
        XCTAssertThrowsError(try exe.run(inputs: [Tensor(shape: [2, 3], floats: Array(repeating: 0, count: 6))])) { error in
            XCTAssertTrue("\(error)".contains("expected f32[1,?n], given f32[2, 3]"), "\(error)")
        }

        var g = Graph(name: "ints")
        let x = g.addInput(name: "x", type: TensorType(.i64, [3]))
        g.outputs = [try g.append(.relu, [x], name: "activated")[0]]
        XCTAssertThrowsError(try Executable(graph: g)) { error in
            XCTAssertEqual("\(error)", "runtime: relu %activated: unsupported: operands are i64; expected f32")
        }
    }

    func testThreadPoolCoversEveryIndexOnce() {
        let pool = ThreadPool(threads: 3)
        var hits = [Int](repeating: 0, count: 10_000)
        hits.withUnsafeMutableBufferPointer { buffer in
            pool.parallelRanges(count: buffer.count) { range in
                for i in range { buffer[i] += 1 }
            }
        }
        XCTAssertEqual(hits, Array(repeating: 1, count: 10_000))
    }
}
