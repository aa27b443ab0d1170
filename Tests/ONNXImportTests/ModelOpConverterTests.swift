import IR
@testable import ONNXImport
import Passes
import Runtime
import XCTest

/// The converters of the ops real models need beyond the classic CNN set (Resize, Slice,
/// Shape with start/end, ConvTranspose, PRelu, Dropout): the IR they produce, their errors
/// (each naming the node), and shapes computed per request when the input size is dynamic.
final class ModelOpConverterTests: XCTestCase {
    private func importText(_ model: ONNXModelBuilder, inputShapes: [String: [Int]] = [:]) throws -> String {
        let graph = try model.load().standaloneGraph(inputShapes: inputShapes)
        try Verifier.verify(graph)
        return IRPrinter.print(graph)
    }

    func testResizeTakesConstantScalesOrSizesAndRejectsWhatIsNotImplemented() throws {
        var m = ONNXModelBuilder(opset: 13)
        m.input("x", .float, [1, 2, 3, 4])
        m.initializer(floatTensor("roi", [0], []))
        m.initializer(floatTensor("scales", [4], [1, 1, 2, 2]))
        m.node("Resize", ["x", "roi", "scales"], ["y"], name: "up", [
            attr("mode", string: "nearest"), attr("coordinate_transformation_mode", string: "asymmetric"),
            attr("nearest_mode", string: "floor"),
        ])
        m.outputs = ["y"]
        let text = try importText(m)
        XCTAssertTrue(text.contains(
            "%y : f32[1,2,6,8] = interpolate(%x) {coordinate_transformation_mode=\"asymmetric\", mode=\"nearest\", nearest_mode=\"floor\", scales=[1.0,1.0,2.0,2.0]}\n"), text)

        m.nodes[0].attribute[0] = attr("mode", string: "cubic")
        let cubic = try importText(m)
        XCTAssertTrue(cubic.contains("cubic_coeff_a=-0.75, exclude_outside=0, mode=\"cubic\""), cubic)
        m.nodes[0].attribute[0] = attr("mode", string: "lanczos")
        let unknown = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        XCTAssertEqual(unknown.node, "node 'up' (#0, Resize)")
        guard case .unsupportedAttribute(name: "mode", _) = unknown.kind else { return XCTFail("\(unknown)") }

        // tf_crop_and_resize reads its region from the roi operand, here empty.
        m.nodes[0].attribute[0] = attr("mode", string: "linear")
        m.nodes[0].attribute[1] = attr("coordinate_transformation_mode", string: "tf_crop_and_resize")
        let crop = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        guard case .unsupportedInput(index: 1, _) = crop.kind else { return XCTFail("\(crop)") }
        m.initializers[0] = floatTensor("roi", [8], [0, 0, 0.25, 0, 1, 1, 0.75, 1])
        m.nodes[0].attribute.append(attr("extrapolation_value", float: 2))
        XCTAssertTrue(try importText(m).contains("extrapolation_value=2.0, mode=\"linear\", nearest_mode=\"floor\", roi=[0.0,0.0,0.25,0.0,1.0,1.0,0.75,1.0]"))
    }

    /// PyTorch's `interpolate(x, size=y.shape[2:])` exports sizes computed from Shape → Slice →
    /// Concat: folded at import when the shapes are known, an error naming them when not.
    func testResizeSizesComputedFromKnownShapesAreFolded() throws {
        func model(_ yDims: [Int64?]) -> ONNXModelBuilder {
            var m = ONNXModelBuilder(opset: 11)
            m.input("x", .float, [1, 2, 3, 4])
            m.input("y", .float, yDims)
            m.initializer(floatTensor("roi", [0], []))
            m.initializer(floatTensor("scales", [0], []))
            m.initializer(int64Tensor("zero", [1], [0]))
            m.initializer(int64Tensor("two", [1], [2]))
            m.initializer(int64Tensor("four", [1], [4]))
            m.node("Shape", ["x"], ["x_dims"])
            m.node("Slice", ["x_dims", "zero", "two"], ["batch_channels"])
            m.node("Shape", ["y"], ["y_dims"])
            m.node("Slice", ["y_dims", "two", "four"], ["height_width"])
            m.node("Concat", ["batch_channels", "height_width"], ["sizes"], [attr("axis", int: 0)])
            m.node("Resize", ["x", "roi", "scales", "sizes"], ["up"], name: "up", [attr("mode", string: "linear")])
            m.outputs = ["up"]
            return m
        }
        let text = try importText(model([1, 5, 6, 8]))
        XCTAssertTrue(text.contains("%up : f32[1,2,6,8] = interpolate(%x) {"), text)
        XCTAssertTrue(text.contains("sizes=[1,2,6,8]"), text)

        let error = try XCTUnwrap(importError { _ = try model([1, 5, nil, nil]).load().standaloneGraph() })
        XCTAssertEqual(error.node, "node 'up' (#5, Resize)")
        guard case .unsupportedInput(index: 3, let message) = error.kind else { return XCTFail("\(error)") }
        XCTAssertTrue(message.contains("computed from known shapes"), message)
    }

    func testSplitBecomesOneSlicePerOutputAndChecksItsSizes() throws {
        var m = ONNXModelBuilder(opset: 13)
        m.input("x", .float, [1, 10, 4])
        m.initializer(int64Tensor("sizes", [2], [6, 4]))
        m.node("Split", ["x", "sizes"], ["scores", "boxes"], name: "head", [attr("axis", int: 1)])
        m.outputs = ["scores", "boxes"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%scores : f32[1,6,4] = slice(%x) {axes=[1], ends=[6], starts=[0]}\n"), text)
        XCTAssertTrue(text.contains("%boxes : f32[1,4,4] = slice(%x) {axes=[1], ends=[10], starts=[6]}\n"), text)

        m.initializers[0] = int64Tensor("sizes", [2], [6, 5])
        let wrong = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        XCTAssertEqual(wrong.node, "node 'head' (#0, Split)")
        XCTAssertTrue("\(wrong)".contains("split sizes [6, 5] must be 2 sizes ≥ 0 adding up to the axis extent 10"), "\(wrong)")
    }

    func testSliceNeedsConstantBoundsAndShapeStartEndBecomesASlice() throws {
        var m = ONNXModelBuilder(opset: 15)
        m.input("x", .float, [2, 3, 4, 5])
        m.node("Shape", ["x"], ["dims"], [attr("start", int: 1), attr("end", int: -1)])
        m.outputs = ["dims"]
        let text = try importText(m)
        XCTAssertTrue(text.contains("%dims : i64[2] = slice(%dims_all) {ends=[-1], starts=[1]}\n"), text)

        var computed = ONNXModelBuilder(opset: 13)
        computed.input("x", .float, [4, 4])
        computed.input("starts", .int64, [1])
        computed.initializer(int64Tensor("ends", [1], [3]))
        computed.node("Slice", ["x", "starts", "ends"], ["y"], name: "window")
        computed.outputs = ["y"]
        let error = try XCTUnwrap(importError { _ = try computed.load().standaloneGraph() })
        XCTAssertEqual(error.node, "node 'window' (#0, Slice)")
        guard case .unsupportedInput(index: 1, let message) = error.kind else { return XCTFail("\(error)") }
        XCTAssertTrue(message.contains("must be a constant"), message)
    }

    func testConvTransposeResolvesOutputShapeIntoPads() throws {
        var m = ONNXModelBuilder(opset: 13)
        m.input("x", .float, [1, 2, 3, 3])
        m.initializer(rampTensor("w", [2, 4, 3, 3]))
        m.node("ConvTranspose", ["x", "w"], ["y"], [attr("strides", ints: [2, 2]), attr("output_shape", ints: [6, 6])])
        m.outputs = ["y"]
        // total padding 2*(3-1) + 3 - 6 = 1 per axis: 1 at the end (ONNX puts the odd one there unless SAME_UPPER).
        XCTAssertTrue(try importText(m).contains("%y : f32[1,4,6,6] = conv_transpose(%x, %w) {pads=[1,1,0,0], strides=[2,2]}\n"))
    }

    func testShapeMismatchNamesTheNode() throws {
        var m = ONNXModelBuilder(opset: 13)
        m.input("x", .float, [1, 3, 4, 4])
        m.initializer(rampTensor("slope", [5, 1, 1]))
        m.node("PRelu", ["x", "slope"], ["y"], name: "act")
        m.outputs = ["y"]
        let error = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        XCTAssertEqual(error.node, "node 'act' (#0, PRelu)")
        guard case .invalidNode(let message) = error.kind else { return XCTFail("\(error)") }
        XCTAssertTrue(message.contains("do not broadcast"), message)
    }

    func testDropoutIsTheIdentityAndItsMaskAllTrue() throws {
        var m = ONNXModelBuilder(opset: 13)
        m.input("x", .float, [1, 4])
        m.node("Dropout", ["x"], ["y", "mask"])
        m.outputs = ["y"]
        let unread = try importText(m)
        XCTAssertTrue(unread.contains("%y : f32[1,4] = identity(%x)\n"), unread)
        XCTAssertFalse(unread.contains("mask"), unread)

        m.outputs = ["y", "mask"]
        let graph = try m.load().standaloneGraph()
        let outputs = try Executable(graph: graph).run(inputs: [Tensor(shape: [1, 4], floats: [1, 2, 3, 4])]).outputs
        XCTAssertEqual(outputs[1], Tensor(shape: [1, 4], data: .bool([true, true, true, true])))
    }

    /// A detector-style model with a dynamic H×W: depthwise conv, nearest 2× upsampling and a
    /// reshape whose target comes from Shape → Slice → Concat. One executable plans each size
    /// at run time; its outputs equal those of the model compiled for that size.
    func testDynamicSizesArePlannedPerRequestLikeAFixedCompile() throws {
        var m = ONNXModelBuilder(opset: 13)
        m.input("x", .float, [1, 2, nil, nil])
        m.initializer(rampTensor("w", [2, 1, 3, 3]))
        m.initializer(floatTensor("roi", [0], []))
        m.initializer(floatTensor("scales", [4], [1, 1, 2, 2]))
        m.initializer(int64Tensor("start", [1], [0]))
        m.initializer(int64Tensor("end", [1], [2]))
        m.initializer(int64Tensor("rest", [1], [-1]))
        m.node("Conv", ["x", "w"], ["c"], [attr("group", int: 2), attr("pads", ints: [1, 1, 1, 1])])
        m.node("Resize", ["c", "roi", "scales"], ["u"], [attr("coordinate_transformation_mode", string: "asymmetric"), attr("nearest_mode", string: "floor")])
        m.node("Shape", ["u"], ["s"])
        m.node("Slice", ["s", "start", "end"], ["head"])
        m.node("Concat", ["head", "rest"], ["target"], [attr("axis", int: 0)])
        m.node("Reshape", ["u", "target"], ["y"])
        m.outputs = ["y"]
        let model = try m.load()
        let dynamic = try Executable(graph: try PassManager(passes: OptimizationLevel.passes(for: .O2)).run(model.standaloneGraph()).0)
        for (h, w) in [(4, 6), (8, 3)] {
            let x = Tensor(shape: [1, 2, h, w], floats: (0..<(2 * h * w)).map { Float($0 % 7) - 3 })
            let got = try dynamic.run(inputs: [x]).outputs[0]
            XCTAssertEqual(got.shape, [1, 2, 4 * h * w])
            let fixedGraph = try PassManager(passes: OptimizationLevel.passes(for: .O0)).run(model.standaloneGraph(inputShapes: ["x": [1, 2, h, w]])).0
            XCTAssertEqual(got, try Executable(graph: fixedGraph).run(inputs: [x]).outputs[0])
        }
        XCTAssertEqual(dynamic.cachedPlanCount, 2)
    }

    func testGatherIndexOutOfRangeFailsTheRunNamingTheNode() throws {
        var m = ONNXModelBuilder(opset: 13)
        m.input("x", .float, [3, 2])
        m.input("i", .int64, [2])
        m.node("Gather", ["x", "i"], ["y"], [attr("axis", int: 0)])
        m.outputs = ["y"]
        let executable = try Executable(graph: try m.load().standaloneGraph())
        let x = Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try executable.run(inputs: [x, Tensor(shape: [2], int64s: [-1, 0])]).outputs[0].floats, [5, 6, 1, 2])
        XCTAssertThrowsError(try executable.run(inputs: [x, Tensor(shape: [2], int64s: [0, 3])])) { error in
            XCTAssertEqual("\(error)", "runtime: %y: gather index 3 is out of range for axis 0 of extent 3")
        }
    }
}
