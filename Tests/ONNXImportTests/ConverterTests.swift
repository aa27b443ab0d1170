import IR
@testable import ONNXImport
import XCTest

/// Each converter on a tiny model: the IR text it produces, and the Verifier accepting it.
final class ConverterTests: XCTestCase {
    /// Imports the model standalone, verifies the graph and returns its text.
    private func importText(_ model: ONNXModelBuilder, inputShapes: [String: [Int]] = [:]) throws -> String {
        let graph = try model.load().standaloneGraph(inputShapes: inputShapes)
        try Verifier.verify(graph)
        return IRPrinter.print(graph)
    }

    func testConvKeepsStridesPadsGroupAndBias() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 4, 8, 8])
        m.initializer(rampTensor("w", [8, 2, 3, 3]))
        m.initializer(rampTensor("b", [8]))
        m.node("Conv", ["x", "w", "b"], ["y"], [
            attr("strides", ints: [2, 2]), attr("pads", ints: [1, 1, 1, 1]), attr("group", int: 2),
            attr("kernel_shape", ints: [3, 3]), attr("dilations", ints: [1, 1]),
        ])
        m.outputs = ["y"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%w : f32[8,2,3,3] = const @w\n"), text)
        XCTAssertTrue(text.contains("%y : f32[1,8,4,4] = conv(%x, %w, %b) {group=2, pads=[1,1,1,1], strides=[2,2]}\n"), text)
    }

    func testConvRejectsKernelShapeThatContradictsTheWeight() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 1, 8, 8])
        m.initializer(rampTensor("w", [1, 1, 3, 3]))
        m.node("Conv", ["x", "w"], ["y"], [attr("kernel_shape", ints: [5, 5])])
        m.outputs = ["y"]
        let error = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        guard case .unsupportedAttribute(name: "kernel_shape", _) = error.kind else { return XCTFail("\(error)") }
    }

    func testAutoPadResolvesToExplicitPads() throws {
        func convText(autoPad: String, input: Int64, kernel: Int64, stride: Int64) throws -> String {
            var m = ONNXModelBuilder()
            m.input("x", .float, [1, 1, input, input])
            m.initializer(rampTensor("w", [1, 1, kernel, kernel]))
            m.node("Conv", ["x", "w"], ["y"], [attr("auto_pad", string: autoPad), attr("strides", ints: [stride, stride])])
            m.outputs = ["y"]
            return try importText(m)
        }
        // 5 wide, kernel 2, stride 1: one pixel of padding, at the end (UPPER) or the start (LOWER).
        XCTAssertTrue(try convText(autoPad: "SAME_UPPER", input: 5, kernel: 2, stride: 1)
            .contains("%y : f32[1,1,5,5] = conv(%x, %w) {pads=[0,0,1,1]}"))
        XCTAssertTrue(try convText(autoPad: "SAME_LOWER", input: 5, kernel: 2, stride: 1)
            .contains("%y : f32[1,1,5,5] = conv(%x, %w) {pads=[1,1,0,0]}"))
        // 5 wide, kernel 3, stride 2: output ceil(5/2) = 3 needs 2 pixels, one each side.
        XCTAssertTrue(try convText(autoPad: "SAME_UPPER", input: 5, kernel: 3, stride: 2)
            .contains("%y : f32[1,1,3,3] = conv(%x, %w) {pads=[1,1,1,1], strides=[2,2]}"))
        XCTAssertTrue(try convText(autoPad: "VALID", input: 5, kernel: 3, stride: 1)
            .contains("%y : f32[1,1,3,3] = conv(%x, %w)\n"))
    }

    func testSamePaddingOverUnknownSpatialDimsStaysAutoPad() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 1, nil, nil])
        m.initializer(rampTensor("w", [1, 1, 3, 3]))
        m.node("MaxPool", ["x"], ["y"], name: "pool", [attr("kernel_shape", ints: [3, 3]), attr("auto_pad", string: "SAME_UPPER")])
        m.outputs = ["y"]
        let model = try m.load()
        // Sizes known per request only: the IR keeps auto_pad (each plan resolves it).
        XCTAssertTrue(IRPrinter.print(try model.standaloneGraph()).contains("= max_pool(%x) {auto_pad=\"SAME_UPPER\", kernel_shape=[3,3]}"))
        // Known dims resolve it at import.
        let graph = try model.standaloneGraph(inputShapes: ["x": [1, 1, 7, 7]])
        XCTAssertTrue(IRPrinter.print(graph).contains("= max_pool(%x) {kernel_shape=[3,3], pads=[1,1,1,1]}"))
        // An unknown auto_pad is still an error naming the node.
        var bad = ONNXModelBuilder()
        bad.input("x", .float, [1, 1, 7, 7])
        bad.node("MaxPool", ["x"], ["y"], name: "pool", [attr("kernel_shape", ints: [3, 3]), attr("auto_pad", string: "SAME_MIDDLE")])
        bad.outputs = ["y"]
        let error = try XCTUnwrap(importError { _ = try bad.load().standaloneGraph() })
        guard case .unsupportedAttribute(name: "auto_pad", _) = error.kind else { return XCTFail("\(error)") }
        XCTAssertEqual(error.node, "node 'pool' (#0, MaxPool)")
    }

    func testBatchNormalizationKeepsEpsilonAndRejectsTrainingOutputs() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 2, 4, 4])
        for name in ["s", "b", "mean", "var"] { m.initializer(rampTensor(name, [2])) }
        m.node("BatchNormalization", ["x", "s", "b", "mean", "var"], ["y"], [attr("epsilon", float: 1e-3)])
        m.outputs = ["y"]
        XCTAssertTrue(try importText(m).contains("%y : f32[1,2,4,4] = batch_norm(%x, %s, %b, %mean, %var) {epsilon=0.001}"))

        m.nodes[0].output = ["y", "running_mean"]
        m.outputs = ["y", "running_mean"]  // an optional output nobody reads is dropped, not an error
        let error = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        XCTAssertEqual(error.kind, .unsupportedOutput(index: 1, name: "running_mean"))
    }

    func testPoolsKeepTheirFlagsAndSkipUnnamedOptionalOutputs() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 3, 8, 8])
        m.node("MaxPool", ["x"], ["m", ""], [attr("kernel_shape", ints: [3, 3]), attr("strides", ints: [2, 2]), attr("ceil_mode", int: 1)])
        m.node("AveragePool", ["x"], ["a"], [attr("kernel_shape", ints: [2, 2]), attr("pads", ints: [1, 1, 1, 1]), attr("count_include_pad", int: 1)])
        m.node("GlobalAveragePool", ["a"], ["g"])
        m.outputs = ["m", "g"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%m : f32[1,3,4,4] = max_pool(%x) {ceil_mode=1, kernel_shape=[3,3], strides=[2,2]}"), text)
        XCTAssertTrue(text.contains("%a : f32[1,3,9,9] = average_pool(%x) {count_include_pad=1, kernel_shape=[2,2], pads=[1,1,1,1]}"), text)
        XCTAssertTrue(text.contains("%g : f32[1,3,1,1] = global_average_pool(%a)"), text)
    }

    func testMaxPoolIndicesBecomeASecondResult() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 3, 8, 8])
        m.node("MaxPool", ["x"], ["m", "indices"], [attr("kernel_shape", ints: [2, 2]), attr("storage_order", int: 1)])
        m.outputs = ["m", "indices"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%m : f32[1,3,7,7], %m.1 : i64[1,3,7,7] = max_pool(%x) {indices=1, kernel_shape=[2,2], storage_order=1}"), text)

        // Without the Indices result, storage_order means nothing and is dropped.
        m.nodes[0].output = ["m"]
        m.outputs = ["m"]
        XCTAssertTrue(try importText(m).contains("%m : f32[1,3,7,7] = max_pool(%x) {kernel_shape=[2,2]}\n"))
        m.nodes[0].attribute[1] = attr("storage_order", int: 2)
        let error = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        guard case .unsupportedAttribute(name: "storage_order", _) = error.kind else { return XCTFail("\(error)") }
    }

    /// RotaryEmbedding's expansion reshapes to a Concat of constants and splits the result:
    /// the target is folded at import, so the split axis has a known extent.
    func testReshapeToATargetComputedFromConstantsHasKnownDims() throws {
        var m = ONNXModelBuilder(opset: 18)
        m.input("x", .float, [2, 3, 32])
        m.initializer(int64Tensor("zero", [1], [0]))
        m.initializer(int64Tensor("heads", [1], [4]))
        m.initializer(int64Tensor("rest", [1], [-1]))
        m.node("Concat", ["zero", "zero", "heads", "rest"], ["target"], [attr("axis", int: 0)])
        m.node("Reshape", ["x", "target"], ["heads_x"])
        m.node("Split", ["heads_x"], ["a", "b"], [attr("axis", int: -1), attr("num_outputs", int: 2)])
        m.outputs = ["a", "b"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%heads_x : f32[2,3,4,8] = reshape(%x, %heads_x_shape)"), text)
        XCTAssertTrue(text.contains("%a : f32[2,3,4,4] = slice(%heads_x) {axes=[3], ends=[4], starts=[0]}"), text)
    }

    func testOneDimensionalWindowsRunOverAUnitAxis() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 2, 9])
        m.initializer(rampTensor("w", [4, 2, 3]))
        m.node("Conv", ["x", "w"], ["c"], [attr("pads", ints: [1, 0]), attr("strides", ints: [2])])
        m.node("AveragePool", ["c"], ["a"], [attr("kernel_shape", ints: [2]), attr("auto_pad", string: "SAME_UPPER")])
        m.outputs = ["a"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%c_2d : f32[1,2,1,9] = unsqueeze(%x) {axes=[2]}"), text)
        XCTAssertTrue(text.contains("%c_weight_2d : f32[4,2,1,3] = unsqueeze(%w) {axes=[2]}"), text)
        XCTAssertTrue(text.contains("%c_conv2d : f32[1,4,1,4] = conv(%c_2d, %c_weight_2d) {pads=[0,1,0,0], strides=[1,2]}"), text)
        XCTAssertTrue(text.contains("%c : f32[1,4,4] = squeeze(%c_conv2d) {axes=[2]}"), text)
        XCTAssertTrue(text.contains("%a_pool2d : f32[1,4,1,4] = average_pool(%a_2d) {kernel_shape=[1,2], pads=[0,0,0,1]}"), text)
        XCTAssertTrue(text.contains("%a : f32[1,4,4] = squeeze(%a_pool2d) {axes=[2]}"), text)
    }

    func testSumBecomesIdentityAddOrNarySum() throws {
        var m = ONNXModelBuilder()
        m.input("a", .float, [2, 3])
        m.input("b", .float, [2, 3])
        m.input("c", .float, [3])
        m.node("Sum", ["a"], ["one"])
        m.node("Sum", ["a", "b"], ["two"])
        m.node("Sum", ["a", "b", "c"], ["three"])
        m.outputs = ["one", "two", "three"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%one : f32[2,3] = identity(%a)"), text)
        XCTAssertTrue(text.contains("%two : f32[2,3] = add(%a, %b)"), text)
        XCTAssertTrue(text.contains("%three : f32[2,3] = sum(%a, %b, %c)"), text)
    }

    func testElementwiseAndMatrixOps() throws {
        var m = ONNXModelBuilder()
        m.input("a", .float, [2, 3])
        m.input("b", .float, [3, 4])
        m.node("MatMul", ["a", "b"], ["ab"])
        m.node("Relu", ["ab"], ["r"])
        m.node("Sigmoid", ["r"], ["s"])
        m.node("Mul", ["s", "r"], ["mul"])
        m.node("Sub", ["mul", "s"], ["sub"])
        m.node("Div", ["sub", "r"], ["div"])
        m.node("Add", ["div", "s"], ["add"])
        m.node("Identity", ["add"], ["id"])
        m.node("Transpose", ["id"], ["t"], [attr("perm", ints: [1, 0])])
        m.outputs = ["t"]
        let text = try importText(m)
        for line in [
            "%ab : f32[2,4] = matmul(%a, %b)", "%r : f32[2,4] = relu(%ab)", "%s : f32[2,4] = sigmoid(%r)",
            "%mul : f32[2,4] = mul(%s, %r)", "%sub : f32[2,4] = sub(%mul, %s)", "%div : f32[2,4] = div(%sub, %r)",
            "%add : f32[2,4] = add(%div, %s)", "%id : f32[2,4] = identity(%add)", "%t : f32[4,2] = transpose(%id) {perm=[1,0]}",
        ] {
            XCTAssertTrue(text.contains(line), "missing \(line) in\n\(text)")
        }
    }

    func testGemmKeepsOnlyNonDefaultAttributes() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 8])
        m.initializer(rampTensor("w", [4, 8]))
        m.initializer(rampTensor("c", [4]))
        m.node("Gemm", ["x", "w", "c"], ["plain"], [attr("transB", int: 1), attr("alpha", float: 1)])
        m.node("Gemm", ["x", "w", "c"], ["scaled"], [attr("transB", int: 1), attr("alpha", float: 0.5), attr("beta", float: 2)])
        m.outputs = ["plain", "scaled"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%plain : f32[1,4] = gemm(%x, %w, %c) {transB=1}"), text)
        XCTAssertTrue(text.contains("%scaled : f32[1,4] = gemm(%x, %w, %c) {alpha=0.5, beta=2.0, transB=1}"), text)
    }

    func testReshapeKeepsShapeOperandAndFlattenKeepsAxis() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 2, 3, 4])
        m.initializer(int64Tensor("target", [2], [1, -1]))
        m.node("Reshape", ["x", "target"], ["r"])
        m.node("Flatten", ["x"], ["f"], [attr("axis", int: 2)])
        m.outputs = ["r", "f"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%target : i64[2] = const @target"), text)
        XCTAssertTrue(text.contains("%r : f32[1,24] = reshape(%x, %target)"), text)
        XCTAssertTrue(text.contains("%f : f32[2,12] = flatten(%x) {axis=2}"), text)
    }

    func testReshapeBeforeOpset5TakesTheShapeAttribute() throws {
        var m = ONNXModelBuilder(opset: 1)
        m.input("x", .float, [2, 6])
        m.node("Reshape", ["x"], ["r"], [attr("shape", ints: [3, 4])])
        m.outputs = ["r"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%r_shape : i64[2] = const @r_shape"), text)
        XCTAssertTrue(text.contains("%r : f32[3,4] = reshape(%x, %r_shape)"), text)
    }

    func testSoftmaxBeforeOpset13CoercesTo2D() throws {
        var m = ONNXModelBuilder(opset: 11)
        m.input("x", .float, [1, 3, 2, 2])
        m.input("logits", .float, [1, 10])
        m.node("Softmax", ["x"], ["p"])
        m.node("Softmax", ["logits"], ["q"])
        m.outputs = ["p", "q"]
        let text = try importText(m)
        // Default axis 1 of a 4-D input: normalized over C×H×W together, not over C alone.
        XCTAssertTrue(text.contains("%p_2d : f32[1,12] = flatten(%x) {axis=1}\n"), text)
        XCTAssertTrue(text.contains("%p_2d_softmax : f32[1,12] = softmax(%p_2d) {axis=-1}\n"), text)
        XCTAssertTrue(text.contains("%p_shape : i64[4] = const @p_shape\n"), text)
        XCTAssertTrue(text.contains("%p : f32[1,3,2,2] = reshape(%p_2d_softmax, %p_shape)\n"), text)
        // Axis 1 of a 2-D input is its last axis: one plain softmax.
        XCTAssertTrue(text.contains("%q : f32[1,10] = softmax(%logits) {axis=-1}\n"), text)
    }

    func testSoftmaxBeforeOpset13WithDynamicDimsReshapesToTheRuntimeShape() throws {
        var m = ONNXModelBuilder(opset: 11)
        m.input("x", .float, [nil, 3, 2, 2])
        m.node("Softmax", ["x"], ["p"])
        m.outputs = ["p"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%p_shape : i64[4] = shape(%x)\n"), text)
        XCTAssertTrue(text.contains("= reshape(%p_2d_softmax, %p_shape)\n"), text)
    }

    func testSoftmaxFromOpset13NormalizesOneAxis() throws {
        var m = ONNXModelBuilder(opset: 13)
        m.input("x", .float, [1, 3, 2, 2])
        m.node("Softmax", ["x"], ["last"])
        m.node("Softmax", ["x"], ["channels"], [attr("axis", int: 1)])
        m.outputs = ["last", "channels"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%last : f32[1,3,2,2] = softmax(%x) {axis=-1}\n"), text)
        XCTAssertTrue(text.contains("%channels : f32[1,3,2,2] = softmax(%x) {axis=1}\n"), text)
        XCTAssertFalse(text.contains("flatten"), text)
    }

    func testConstantOfShapeTakesDTypeAndValueFromItsTensor() throws {
        var m = ONNXModelBuilder()
        m.initializer(int64Tensor("dims", [2], [2, 3]))
        m.node("ConstantOfShape", ["dims"], ["zeros"])
        m.node("ConstantOfShape", ["dims"], ["sevens"], [attr("value", tensor: int64Tensor("", [1], [7]))])
        m.outputs = ["zeros", "sevens"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%zeros : f32[2,3] = constant_of_shape(%dims) {dtype=\"f32\", value=0.0}"), text)
        XCTAssertTrue(text.contains("%sevens : i64[2,3] = constant_of_shape(%dims) {dtype=\"i64\", value=7.0}"), text)
    }

    func testConstantNodesBecomeWeights() throws {
        var m = ONNXModelBuilder()
        m.node("Constant", [], ["t"], [attr("value", tensor: floatTensor("", [2, 2], [1, 2, 3, 4]))])
        m.node("Constant", [], ["f"], [attr("value_float", float: 0.25)])
        m.node("Constant", [], ["axes"], [attr("value_ints", ints: [0, 2])])
        m.node("Unsqueeze", ["t", "axes"], ["u"])
        m.outputs = ["u", "f"]
        let graph = try m.load().standaloneGraph()
        try Verifier.verify(graph)
        let text = IRPrinter.print(graph)
        XCTAssertTrue(text.contains("%t : f32[2,2] = const @t"), text)
        XCTAssertTrue(text.contains("%f : f32[] = const @f"), text)
        XCTAssertTrue(text.contains("%u : f32[1,2,1,2] = unsqueeze(%t) {axes=[0,2]}"), text)
        XCTAssertEqual(graph.weights["t"], Tensor(shape: [2, 2], floats: [1, 2, 3, 4]))
        XCTAssertEqual(graph.weights["axes"], Tensor(shape: [2], int64s: [0, 2]))
    }

    func testClipBoundsFromAttributesOrConstantInputs() throws {
        var old = ONNXModelBuilder(opset: 6)
        old.input("x", .float, [4])
        old.node("Clip", ["x"], ["y"], [attr("min", float: 0), attr("max", float: 6)])
        old.outputs = ["y"]
        XCTAssertTrue(try importText(old).contains("%y : f32[4] = clip(%x) {max=6.0, min=0.0}"))

        var new = ONNXModelBuilder(opset: 13)
        new.input("x", .float, [4])
        new.initializer(floatTensor("hi", [], [6]))
        new.node("Clip", ["x", "", "hi"], ["y"])
        new.outputs = ["y"]
        XCTAssertTrue(try importText(new).contains("%y : f32[4] = clip(%x) {max=6.0}"))

        new.input("bound", .float, [])
        new.nodes[0].input = ["x", "bound"]
        let error = try XCTUnwrap(importError { _ = try new.load().standaloneGraph() })
        guard case .unsupportedInput(index: 1, _) = error.kind else { return XCTFail("\(error)") }
    }

    func testSqueezeAndUnsqueezeAxesFromAttributeOrInput() throws {
        var old = ONNXModelBuilder(opset: 11)
        old.input("x", .float, [1, 3, 1])
        old.node("Squeeze", ["x"], ["s"], [attr("axes", ints: [0])])
        old.node("Squeeze", ["x"], ["all"])
        old.node("Unsqueeze", ["s"], ["u"], [attr("axes", ints: [-1])])
        old.outputs = ["u", "all"]
        let oldText = try importText(old)
        XCTAssertTrue(oldText.contains("%s : f32[3,1] = squeeze(%x) {axes=[0]}"), oldText)
        XCTAssertTrue(oldText.contains("%all : f32[3] = squeeze(%x)\n"), oldText)
        XCTAssertTrue(oldText.contains("%u : f32[3,1,1] = unsqueeze(%s) {axes=[-1]}"), oldText)

        var new = ONNXModelBuilder(opset: 13)
        new.input("x", .float, [1, 3, 1])
        new.initializer(int64Tensor("axes", [1], [2]))
        new.node("Squeeze", ["x", "axes"], ["s"])
        new.outputs = ["s"]
        XCTAssertTrue(try importText(new).contains("%s : f32[1,3] = squeeze(%x) {axes=[2]}"))
    }

    func testConcatAndShape() throws {
        var m = ONNXModelBuilder()
        m.input("a", .float, [1, 2, 4])
        m.input("b", .float, [1, 3, 4])
        m.node("Concat", ["a", "b"], ["c"], [attr("axis", int: 1)])
        m.node("Shape", ["c"], ["s"])
        m.outputs = ["s"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%c : f32[1,5,4] = concat(%a, %b) {axis=1}"), text)
        XCTAssertTrue(text.contains("%s : i64[3] = shape(%c)"), text)
    }

    func testONNXNamesAreSanitizedButReadable() throws {
        var m = ONNXModelBuilder()
        m.input("input:0", .float, [2])
        m.node("Relu", ["input:0"], ["relu out"])
        m.outputs = ["relu out"]
        let graph = try m.load().standaloneGraph()
        XCTAssertEqual(graph[graph.inputs[0]].name, "input_0")
        XCTAssertTrue(IRPrinter.print(graph).contains("%relu_out : f32[2] = relu(%input_0)"))
    }
}

/// The `ONNXImportError` thrown by `body`, or nil (failing the test) when it throws nothing
/// or something else.
func importError(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) -> ONNXImportError? {
    do {
        try body()
        XCTFail("expected an ONNXImportError", file: file, line: line)
    } catch let error as ONNXImportError {
        return error
    } catch {
        XCTFail("expected an ONNXImportError, got \(error)", file: file, line: line)
    }
    return nil
}
