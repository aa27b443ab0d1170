import Foundation
import IR
@testable import ONNXImport
import Passes
import Runtime
import XCTest

/// Storage dtypes at the import boundary, the bool ops and Quantize/DequantizeLinear: what
/// the node cases do not pin down (per-op rounding of a chain, per-axis scales on a real
/// layout) and the errors for operands that do not fit.
final class DTypeConverterTests: XCTestCase {
    private func run(_ m: ONNXModelBuilder, _ inputs: [Tensor]) throws -> [Tensor] {
        let graph = try m.load().standaloneGraph()
        try Verifier.verify(graph)
        return try Executable(graph: graph).run(inputs: inputs).outputs
    }

    /// f16 in, f16 out, and each op's result rounded to f16 as ONNX Runtime computes it:
    /// (1 + 2⁻¹¹) rounds to 1 in f16 before the second add, so adding it twice gives 1, not
    /// the 1 + 2⁻¹⁰ a chain kept in f32 would give.
    func testFloat16ResultsRoundPerOp() throws {
        var m = ONNXModelBuilder(opset: 13)
        m.input("x", .float16, [2])
        m.input("d", .float16, [2])
        m.node("Add", ["x", "d"], ["s"])
        m.node("Add", ["s", "d"], ["y"])
        m.outputs = ["y"]
        let tiny = Float16(Float(1) / 2048)
        let y = try run(m, [Tensor(shape: [2], data: .f16([1, 2])), Tensor(shape: [2], data: .f16([tiny, 0.5]))])[0]
        XCTAssertEqual(y, Tensor(shape: [2], data: .f16([1, 3])))
    }

    /// int8 arithmetic wraps in int8 (127 + 1 = −128), though it runs in i32.
    func testInt8AddWraps() throws {
        var m = ONNXModelBuilder(opset: 14)
        m.input("a", .int8, [2])
        m.input("b", .int8, [2])
        m.node("Add", ["a", "b"], ["y"])
        m.outputs = ["y"]
        let y = try run(m, [Tensor(shape: [2], data: .i8([127, -5])), Tensor(shape: [2], data: .i8([1, 3]))])[0]
        XCTAssertEqual(y, Tensor(shape: [2], data: .i8([-128, -2])))
    }

    func testComparisonFeedsWhere() throws {
        var m = ONNXModelBuilder(opset: 16)
        m.input("x", .float, [2, 3])
        m.initializer(floatTensor("limit", [3], [0, 1, 2]))
        m.node("Greater", ["x", "limit"], ["above"])
        m.node("Where", ["above", "x", "limit"], ["y"])
        m.outputs = ["y", "above"]
        let outputs = try run(m, [Tensor(shape: [2, 3], floats: [-1, 5, 2, 3, 0, 1])])
        XCTAssertEqual(outputs[0], Tensor(shape: [2, 3], floats: [0, 5, 2, 3, 1, 2]))
        XCTAssertEqual(outputs[1], Tensor(shape: [2, 3], data: .bool([false, true, false, true, false, false])))
    }

    /// Exported shape arithmetic: a Reshape target computed as `Where(Equal(t, 0), Shape(x), t)`
    /// (ONNX's "0 copies the input dim", spelled out) is known at import and folds at -O0,
    /// leaving a reshape to a constant shape.
    func testComparisonAndWhereFoldInShapeArithmetic() throws {
        var m = ONNXModelBuilder(opset: 16)
        m.input("x", .float, [2, 3])
        m.initializer(int64Tensor("t", [2], [0, 3]))
        m.initializer(int64Tensor("zero", [], [0]))
        m.node("Shape", ["x"], ["s"])
        m.node("Equal", ["t", "zero"], ["copy"])
        m.node("Where", ["copy", "s", "t"], ["target"])
        m.node("Reshape", ["x", "target"], ["y"])
        m.outputs = ["y"]
        let graph = try m.load().standaloneGraph()
        XCTAssertEqual(graph.knownValue(of: graph.values.indices.map(ValueID.init).first { graph[$0].name == "target" }!),
                       Tensor(shape: [2], int64s: [2, 3]))
        let (folded, _) = try PassManager(passes: OptimizationLevel.passes(for: .O0), verifyEach: true).run(graph)
        XCTAssertEqual(folded.type(of: folded.outputs[0]), TensorType(.f32, [2, 3]))
        XCTAssertFalse(folded.nodes.contains { [.equal, .select].contains($0.op) }, IRPrinter.print(folded))
    }

    func testWhereNeedsABoolConditionAndNamesTheNode() throws {
        var m = ONNXModelBuilder(opset: 16)
        m.input("c", .float, [2])
        m.input("x", .float, [2])
        m.node("Where", ["c", "x", "x"], ["y"], name: "pick")
        m.outputs = ["y"]
        let error = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        XCTAssertEqual(error.node, "node 'pick' (#0, Where)")
        XCTAssertTrue("\(error)".contains("expected a bool condition"), "\(error)")
    }

    func testComparisonOfMixedDTypesIsAnImportError() throws {
        var m = ONNXModelBuilder(opset: 13)
        m.input("a", .float, [2])
        m.input("b", .int64, [2])
        m.node("Equal", ["a", "b"], ["y"], name: "same")
        m.outputs = ["y"]
        let error = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        XCTAssertEqual(error.node, "node 'same' (#0, Equal)")
        XCTAssertTrue("\(error)".contains("operands must share a dtype"), "\(error)")
    }

    /// Per-axis (axis 1 of NCHW) i8 weights with zero points, dequantized, then quantized back
    /// to u8 per tensor: every value checked against the formula.
    func testPerAxisDequantizeAndPerTensorQuantize() throws {
        var m = ONNXModelBuilder(opset: 13)
        m.input("q", .int8, [1, 2, 1, 2])
        m.initializer(floatTensor("scale", [2], [0.5, 0.25]))
        var zero = Onnx_TensorProto()
        zero.name = "zero"
        zero.dataType = Int32(Onnx_TensorProto.DataType.int8.rawValue)
        zero.dims = [2]
        zero.int32Data = [1, -2]
        m.initializer(zero)
        m.initializer(floatTensor("out_scale", [], [0.1]))
        var outZero = Onnx_TensorProto()
        outZero.name = "out_zero"
        outZero.dataType = Int32(Onnx_TensorProto.DataType.uint8.rawValue)
        outZero.int32Data = [10]
        m.initializer(outZero)
        m.node("DequantizeLinear", ["q", "scale", "zero"], ["x"], name: "dq", [attr("axis", int: 1)])
        m.node("QuantizeLinear", ["x", "out_scale", "out_zero"], ["y"], name: "q2")
        m.outputs = ["x", "y"]
        let outputs = try run(m, [Tensor(shape: [1, 2, 1, 2], data: .i8([3, -128, 6, 127]))])
        // channel 0: (3 − 1)·0.5 = 1, (−128 − 1)·0.5 = −64.5; channel 1: (6 + 2)·0.25 = 2, (127 + 2)·0.25 = 32.25
        XCTAssertEqual(outputs[0], Tensor(shape: [1, 2, 1, 2], floats: [1, -64.5, 2, 32.25]))
        // round(x / 0.1) + 10, saturated to u8: 20, −635 → 0, 30, about 332 → 255
        XCTAssertEqual(outputs[1], Tensor(shape: [1, 2, 1, 2], bytes: [20, 0, 30, 255]))
    }

    func testQuantizingToInt4IsAnImportErrorNamingTheNode() throws {
        var m = ONNXModelBuilder(opset: 21)
        m.input("x", .float, [2])
        m.initializer(floatTensor("scale", [], [0.5]))
        var zero = Onnx_TensorProto()
        zero.name = "zero"
        zero.dataType = Int32(Onnx_TensorProto.DataType.int4.rawValue)
        zero.int32Data = [0]
        m.initializer(zero)
        m.node("QuantizeLinear", ["x", "scale", "zero"], ["y"], name: "to4")
        m.outputs = ["y"]
        let error = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        XCTAssertEqual(error.node, "node 'to4' (#0, QuantizeLinear)")
        XCTAssertTrue("\(error)".contains("INT4"), "\(error)")
    }
}
