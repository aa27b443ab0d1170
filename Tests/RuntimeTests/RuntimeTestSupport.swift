import IR
@testable import Runtime
import TestSupport
import XCTest

/// A graph with one f32 input built by `body`, run once on `input`.
func runSingle(
    input: Tensor, layout: Layout = .none, threads: Int = 2, file: StaticString = #filePath, line: UInt = #line,
    _ body: (inout Graph, ValueID) throws -> ValueID
) throws -> Tensor {
    var g = Graph(name: "test")
    let x = g.addInput(name: "x", type: input.type(layout: layout))
    let y = try body(&g, x)
    g.outputs = [y]
    let exe = try Executable(graph: g, options: RuntimeOptions(threads: threads))
    return try exe.run(inputs: [input]).outputs[0]
}

func assertClose(
    _ actual: [Float], _ expected: [Float], rtol: Float = 1e-4, atol: Float = 1e-5,
    file: StaticString = #filePath, line: UInt = #line
) {
    if let failure = allcloseFailure(actual, expected, rtol: rtol, atol: atol) {
        XCTFail(failure, file: file, line: line)
    }
}

/// Row-major strides of a shape.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: shape.count)
    for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
    return strides
}

/// Multi-index of a flat row-major index.
func coordinates(_ index: Int, _ shape: [Int]) -> [Int] {
    var rest = index
    var out = Array(repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() {
        out[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return out
}
