import IR
import TestSupport
@testable import Runtime
import XCTest

/// Elementwise, movement and postprocess ops against naive references.
final class TensorOpTests: XCTestCase {
    /// NumPy broadcasting of `a op b` by explicit index arithmetic.
    private func naiveBroadcast(_ a: [Float], _ sa: [Int], _ b: [Float], _ sb: [Int], out: [Int], _ op: (Float, Float) -> Float) -> [Float] {
        func index(_ coords: [Int], _ shape: [Int]) -> Int {
            let offset = out.count - shape.count
            let strides = rowMajorStrides(shape)
            return shape.indices.reduce(0) { $0 + (shape[$1] == 1 ? 0 : coords[offset + $1] * strides[$1]) }
        }
        return (0..<out.reduce(1, *)).map { i in
            let c = coordinates(i, out)
            return op(a[index(c, sa)], b[index(c, sb)])
        }
    }

    func testBinaryOpsBroadcast() throws {
        var noise = Noise(seed: 20)
        let cases: [([Int], [Int])] = [([2, 3, 4, 5], [2, 3, 4, 5]), ([2, 3, 4, 5], [3, 1, 5]), ([1, 3, 1, 5], [2, 1, 4, 1]), ([4, 1], [1]), ([2, 3, 4, 5], [1, 3, 1, 1])]
        let ops: [(Op, (Float, Float) -> Float)] = [(.add, (+)), (.sub, (-)), (.mul, (*)), (.div, (/))]
        for (sa, sb) in cases {
            let a = noise.floats(sa.reduce(1, *)), b = noise.floats(sb.reduce(1, *)).map { $0 + 2 }
            for (op, reference) in ops {
                let out = try runSingle(input: Tensor(shape: sa, floats: a)) { g, x in
                    try g.append(op, [x, g.addConstant(name: "b", tensor: Tensor(shape: sb, floats: b))], name: "y")[0]
                }
                let rank = max(sa.count, sb.count)
                let pa = Array(repeating: 1, count: rank - sa.count) + sa, pb = Array(repeating: 1, count: rank - sb.count) + sb
                let shape = zip(pa, pb).map { max($0, $1) }
                XCTAssertEqual(out.shape, shape)
                assertClose(out.floats, naiveBroadcast(a, sa, b, sb, out: shape, reference), rtol: 1e-6, atol: 1e-6)
            }
        }
    }

    func testScalarPerRowBroadcastIsExact() throws {
        // One operand constant along each row (a per-channel scale, either side) runs the SIMD
        // affine kernel: every element must be bit-identical to the plain `a op b`.
        var noise = Noise(seed: 22)
        let ops: [(Op, (Float, Float) -> Float)] = [(.add, (+)), (.sub, (-)), (.mul, (*)), (.div, (/))]
        for (sa, sb) in [([2, 3, 4, 5], [1, 3, 1, 1]), ([2, 3, 1, 1], [2, 3, 4, 5]), ([7, 33], [1])] {
            let a = noise.floats(sa.reduce(1, *)), b = noise.floats(sb.reduce(1, *))
            for (op, reference) in ops {
                let out = try runSingle(input: Tensor(shape: sa, floats: a)) { g, x in
                    try g.append(op, [x, g.addConstant(name: "b", tensor: Tensor(shape: sb, floats: b))], name: "y")[0]
                }
                XCTAssertEqual(out.floats, naiveBroadcast(a, sa, b, sb, out: out.shape, reference), "\(op) \(sa) \(sb)")
            }
        }
    }

    func testFusedActivationSumAndIntegerAdd() throws {
        var noise = Noise(seed: 21)
        let a = noise.floats(24), b = noise.floats(24), c = noise.floats(4)
        let added = try runSingle(input: Tensor(shape: [2, 3, 4], floats: a)) { g, x in
            try g.append(.add, [x, g.addConstant(name: "b", tensor: Tensor(shape: [2, 3, 4], floats: b))],
                         attributes: ["activation": .string("clip"), "clip_min": .float(0), "clip_max": .float(0.5)], name: "y")[0]
        }
        assertClose(added.floats, zip(a, b).map { min(max($0 + $1, 0), 0.5) })
        let summed = try runSingle(input: Tensor(shape: [2, 3, 4], floats: a)) { g, x in
            let operands = [x, g.addConstant(name: "b", tensor: Tensor(shape: [2, 3, 4], floats: b)), g.addConstant(name: "c", tensor: Tensor(shape: [4], floats: c))]
            return try g.append(.sum, operands, attributes: ["activation": .string("relu")], name: "y")[0]
        }
        assertClose(summed.floats, a.indices.map { max(0, a[$0] + b[$0] + c[$0 % 4]) })

        var g = Graph(name: "ints")
        let x = g.addInput(name: "x", type: TensorType(.i64, [3]))
        g.outputs = [try g.append(.div, [x, g.addConstant(name: "d", tensor: Tensor(shape: [3], int64s: [2, 0, -3]))], name: "y")[0]]
        let out = try Executable(graph: g).run(inputs: [Tensor(shape: [3], int64s: [7, 5, 9])]).outputs[0]
        XCTAssertEqual(out.data, .i64([3, 0, -3]), "integer division truncates; by zero gives 0")
    }

    func testUnaryOps() throws {
        let x = Noise.floats(40000, seed: 22).map { $0 * 8 }
        let relu = try runSingle(input: Tensor(shape: [40000], floats: x)) { g, v in try g.append(.relu, [v], name: "y")[0] }
        XCTAssertEqual(relu.floats, x.map { max($0, 0) })
        let clip = try runSingle(input: Tensor(shape: [40000], floats: x)) { g, v in
            try g.append(.clip, [v], attributes: ["min": .float(-1), "max": .float(6)], name: "y")[0]
        }
        XCTAssertEqual(clip.floats, x.map { min(max($0, -1), 6) })
        let sigmoid = try runSingle(input: Tensor(shape: [40000], floats: x)) { g, v in try g.append(.sigmoid, [v], name: "y")[0] }
        assertClose(sigmoid.floats, x.map { 1 / (1 + exp(-$0)) }, rtol: 1e-6, atol: 1e-7)
    }

    func testTransposePermutations() throws {
        for (shape, perm) in [([2, 3, 4, 5], [0, 2, 3, 1]), ([2, 3, 4, 5], [0, 3, 1, 2]), ([2, 3, 4, 5], [3, 1, 0, 2]), ([6, 1, 7], [2, 1, 0]), ([4, 5, 3], [2, 0, 1])] {
            let count = shape.reduce(1, *)
            let x = (0..<count).map(Float.init)
            let out = try runSingle(input: Tensor(shape: shape, floats: x)) { g, v in
                try g.append(.transpose, [v], attributes: ["perm": .ints(perm)], name: "y")[0]
            }
            let outShape = perm.map { shape[$0] }
            let strides = rowMajorStrides(shape)
            let expected = (0..<count).map { i -> Float in
                let c = coordinates(i, outShape)
                return x[perm.indices.reduce(0) { $0 + c[$1] * strides[perm[$1]] }]
            }
            XCTAssertEqual(out.shape, outShape)
            XCTAssertEqual(out.floats, expected, "perm \(perm) of \(shape)")
        }
        var g = Graph(name: "u8")
        let x = g.addInput(name: "x", type: TensorType(.u8, [4, 5, 3], layout: .hwc))
        g.outputs = [try g.append(.transpose, [x], attributes: ["perm": .ints([2, 0, 1])], name: "y")[0]]
        let bytes = (0..<60).map { UInt8($0) }
        let out = try Executable(graph: g).run(inputs: [Tensor(shape: [4, 5, 3], bytes: bytes)]).outputs[0]
        XCTAssertEqual(out.data, .u8((0..<60).map { i in bytes[(i % 20) * 3 + i / 20] }))
    }

    func testConcat() throws {
        let a = (0..<12).map(Float.init), b = (100..<118).map(Float.init)
        let out = try runSingle(input: Tensor(shape: [2, 2, 3], floats: a)) { g, x in
            try g.append(.concat, [x, g.addConstant(name: "b", tensor: Tensor(shape: [2, 3, 3], floats: b))], attributes: ["axis": .int(1)], name: "y")[0]
        }
        XCTAssertEqual(out.shape, [2, 5, 3])
        XCTAssertEqual(out.floats, Array(a[0..<6]) + Array(b[0..<9]) + Array(a[6..<12]) + Array(b[9..<18]))
    }

    func testSoftmaxOnLastAndInnerAxes() throws {
        let x = Noise.floats(2 * 3 * 4, seed: 23).map { $0 * 5 }
        for axis in [-1, 1] {
            let out = try runSingle(input: Tensor(shape: [2, 3, 4], floats: x)) { g, v in
                try g.append(.softmax, [v], attributes: ["axis": .int(axis)], name: "y")[0]
            }
            let expected = x.indices.map { i -> Float in
                let c = coordinates(i, [2, 3, 4])
                let line: [Float] = axis == -1
                    ? (0..<4).map { x[(c[0] * 3 + c[1]) * 4 + $0] } : (0..<3).map { x[(c[0] * 3 + $0) * 4 + c[2]] }
                let top = line.max() ?? 0
                let total: Float = line.reduce(0) { $0 + exp($1 - top) }
                return exp(x[i] - top) / total
            }
            assertClose(out.floats, expected, rtol: 1e-5, atol: 1e-6)
        }
    }

    func testTopKSortsDescendingWithTiesToLowerIndex() throws {
        var g = Graph(name: "topk")
        let x = g.addInput(name: "x", type: TensorType(.f32, [2, 6]))
        let results = try g.append(.topk, [x], attributes: ["k": .int(4)], name: "values")
        g.outputs = results
        let rows: [Float] = [1, 3, 3, 0, 5, 3, .nan, -1, 2, 2, 7, -1]
        let run = try Executable(graph: g).run(inputs: [Tensor(shape: [2, 6], floats: rows)])
        XCTAssertEqual(run.outputs[1].data, .i64([4, 1, 2, 5, 0, 4, 2, 3]))
        let values = run.outputs[0].floats
        XCTAssertEqual(Array(values[0..<4]), [5, 3, 3, 3])
        XCTAssertTrue(values[4].isNaN, "NaN ranks first")
        XCTAssertEqual(Array(values[5..<8]), [7, 2, 2])

        var smallest = Graph(name: "bottomk")
        let input = smallest.addInput(name: "x", type: TensorType(.f32, [3, 2]))
        smallest.outputs = try smallest.append(.topk, [input], attributes: ["k": .int(2), "axis": .int(0), "largest": .int(0)], name: "v")
        let bottom = try Executable(graph: smallest).run(inputs: [Tensor(shape: [3, 2], floats: [4, 1, 2, 1, 2, 0])])
        XCTAssertEqual(bottom.outputs[0].floats, [2, 0, 2, 1])
        XCTAssertEqual(bottom.outputs[1].data, .i64([1, 2, 2, 0]))
    }
}
