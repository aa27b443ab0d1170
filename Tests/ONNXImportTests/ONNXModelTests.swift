import Foundation
import IR
@testable import ONNXImport
import Runtime
import TestSupport
import XCTest

/// Loading, the model's interface, inlining into a pipeline, tensor decoding and errors.
final class ONNXModelTests: XCTestCase {
    /// x: f32[1,3,4,4] → Conv(w, 2 filters 1×1) → Relu → y.
    private func convReluModel() -> ONNXModelBuilder {
        var m = ONNXModelBuilder(opset: 11)
        m.metadata = ["author": "tests", "task": "demo"]
        m.input("x", .float, [1, 3, 4, 4])
        m.input("w", .float, [2, 3, 1, 1])  // also an initializer: not a real input
        m.initializer(rampTensor("w", [2, 3, 1, 1]))
        m.node("Conv", ["x", "w"], ["c"], name: "conv")
        m.node("Relu", ["c"], ["y"], name: "relu")
        m.outputs = ["y"]
        return m
    }

    func testLoadDescribesTheInterface() throws {
        let model = try convReluModel().load()
        XCTAssertEqual(model.opsetVersion, 11)
        XCTAssertEqual(model.producerName, "visionc-tests")
        XCTAssertEqual(model.metadata, ["author": "tests", "task": "demo"])
        XCTAssertEqual(model.inputs.map(\.name), ["x"])
        XCTAssertEqual(model.inputs.map(\.type), [TensorType(.f32, [1, 3, 4, 4])])
        XCTAssertEqual(model.outputs.map(\.name), ["y"])
        XCTAssertTrue(ONNXModel.supportedOps.contains("Conv"))
        XCTAssertEqual(ONNXModel.supportedOps, ONNXModel.supportedOps.sorted())
    }

    func testSymbolicDimsStaySymbolicUntilOverridden() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [nil, 3, nil, nil])
        m.node("Relu", ["x"], ["y"])
        m.outputs = ["y"]
        let model = try m.load()
        XCTAssertEqual(model.inputs[0].type.description, "f32[?d0,3,?d2,?d3]")
        let graph = try model.standaloneGraph(inputShapes: ["x": [1, 3, 32, 48]])
        XCTAssertEqual(graph.type(of: graph.outputs[0]), TensorType(.f32, [1, 3, 32, 48]))

        let wrongChannels = try XCTUnwrap(importError { _ = try model.standaloneGraph(inputShapes: ["x": [1, 4, 32, 48]]) })
        guard case .bindingMismatch(input: "x", _, _) = wrongChannels.kind else { return XCTFail("\(wrongChannels)") }
        let unknown = try XCTUnwrap(importError { _ = try model.standaloneGraph(inputShapes: ["data": [1, 3, 2, 2]]) })
        XCTAssertEqual(unknown.kind, .unknownInput("data", available: ["x"]))
    }

    /// MTCNN's P-Net pools with `auto_pad: SAME_UPPER` over an input whose height and width
    /// come per request: imported once with symbolic dims, the pads are resolved for each
    /// plan's size, and the outputs equal those of imports specialized to each size.
    func testSamePaddingOverSymbolicDimsIsResolvedPerPlan() throws {
        let path = TestPaths.asset("models/mtcnn_pnet.onnx")
        guard TestPaths.exists(path) else { throw XCTSkip("\(path.path) missing (run scripts/setup)") }
        let model = try ONNXModel.load(path: path.path)
        let generic = try model.standaloneGraph()
        XCTAssertTrue(generic.nodes.contains { $0.attributes.string("auto_pad") == "SAME_UPPER" })
        let executable = try Executable(graph: generic, options: RuntimeOptions(threads: 1))
        for shape in [[1, 31, 40, 3], [1, 17, 12, 3]] {
            let input = Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { Float(($0 * 37) % 255) / 128 - 1 })
            let specialized = try model.standaloneGraph(inputShapes: [model.inputs[0].name: shape])
            XCTAssertFalse(specialized.nodes.contains { $0.attributes["auto_pad"] != nil }, "known dims resolve at import")
            let expected = try Executable(graph: specialized, options: RuntimeOptions(threads: 1)).run(inputs: [input]).outputs
            let actual = try executable.run(inputs: [input]).outputs
            XCTAssertEqual(actual.map(\.shape), expected.map(\.shape))
            XCTAssertEqual(actual.map(\.floats), expected.map(\.floats))
        }
    }

    func testInlineIntoAPipelineGraph() throws {
        let model = try convReluModel().load()
        var pipeline = Graph(name: "pipeline")
        let image = pipeline.addInput(name: "x", type: TensorType(.f32, [.known(3), .known(4), .known(4)], layout: .chw))
        let batch = try pipeline.append(.unsqueeze, [image], attributes: ["axes": .ints([0])], name: "batch")[0]
        let outputs = try model.inline(into: &pipeline, binding: ["x": batch])
        pipeline.outputs = outputs.map(\.value)
        try Verifier.verify(pipeline)

        XCTAssertEqual(outputs.map(\.name), ["y"])
        let text = IRPrinter.print(pipeline)
        // The pipeline already has a value named x; the model's names do not clash with it.
        XCTAssertTrue(text.contains("%w : f32[2,3,1,1] = const @w\n"), text)
        XCTAssertTrue(text.contains("%c : f32[1,2,4,4] NCHW = conv(%batch, %w)\n"), text)
        XCTAssertTrue(text.contains("%y : f32[1,2,4,4] NCHW = relu(%c)\n"), text)
        XCTAssertEqual(pipeline.weights["w"]?.floats, [0, 0.5, 1, 1.5, 2, 2.5])
    }

    func testInlineChecksTheBindingAndLeavesTheGraphUnchangedOnError() throws {
        let path = try convReluModel().write(named: "classifier")
        let model = try ONNXModel.load(path: path)
        var pipeline = Graph(name: "pipeline")
        let small = pipeline.addInput(name: "image", type: TensorType(.f32, [1, 3, 8, 8]))
        let before = IRPrinter.print(pipeline)

        let mismatch = try XCTUnwrap(importError { _ = try model.inline(into: &pipeline, binding: ["x": small]) })
        XCTAssertEqual(mismatch.kind, .bindingMismatch(input: "x", expected: TensorType(.f32, [1, 3, 4, 4]), given: TensorType(.f32, [1, 3, 8, 8])))
        XCTAssertEqual(mismatch.description, "\(path): input 'x' expects f32[1,3,4,4], but the value bound to it is f32[1,3,8,8]")
        XCTAssertEqual(IRPrinter.print(pipeline), before)

        let unbound = try XCTUnwrap(importError { _ = try model.inline(into: &pipeline, binding: [:]) })
        XCTAssertEqual(unbound.kind, .unboundInput("x"))
        XCTAssertTrue(unbound.description.hasPrefix(path), unbound.description)

        let bytes = pipeline.addInput(name: "bytes", type: TensorType(.u8, [1, 3, 4, 4]))
        let wrongType = try XCTUnwrap(importError { _ = try model.inline(into: &pipeline, binding: ["x": bytes]) })
        guard case .bindingMismatch = wrongType.kind else { return XCTFail("\(wrongType)") }
    }

    // MARK: - Errors

    func testUnsupportedOpNamesOpNodeAndFile() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 4])
        m.node("Relu", ["x"], ["r"])
        m.node("Frobnicate", ["r"], ["y"], name: "mystery")
        m.outputs = ["y"]
        let path = try m.write(named: "weird")
        let error = try XCTUnwrap(importError { _ = try ONNXModel.load(path: path).standaloneGraph() })
        XCTAssertEqual(error.kind, .unsupportedOp("Frobnicate"))
        XCTAssertEqual(error.description,
                       "\(path): node 'mystery' (#1, Frobnicate): unsupported ONNX op 'Frobnicate' (run `visionc ops` for the supported ones)")

        m.nodes[1].name = ""
        let unnamed = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        XCTAssertEqual(unnamed.node, "node #1 (Frobnicate)")
    }

    func testNodesOfOtherDomainsAreRejected() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 4])
        m.node("Relu", ["x"], ["y"])
        m.nodes[0].domain = "com.microsoft"
        m.outputs = ["y"]
        XCTAssertEqual(try XCTUnwrap(importError { _ = try m.load().standaloneGraph() }).kind, .nonDefaultDomain("com.microsoft"))
    }

    func testMissingFileCorruptBytesAndMissingGraph() throws {
        let missing = try XCTUnwrap(importError { _ = try ONNXModel.load(path: "/nonexistent/model.onnx") })
        XCTAssertEqual(missing.kind, .unreadableFile("no such file"))
        XCTAssertEqual(missing.description, "/nonexistent/model.onnx: cannot read the model: no such file")

        let garbage = try ONNXModelBuilder.write(Data([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]), named: "garbage")
        let corrupt = try XCTUnwrap(importError { _ = try ONNXModel.load(path: garbage) })
        guard case .invalidModel(let message) = corrupt.kind else { return XCTFail("\(corrupt)") }
        XCTAssertTrue(message.contains("not an ONNX protobuf"), message)

        let empty = try ONNXModelBuilder.write(Data(), named: "empty")
        XCTAssertEqual(try XCTUnwrap(importError { _ = try ONNXModel.load(path: empty) }).kind, .invalidModel("it has no graph (ir_version 0)"))

        let directory = URL(fileURLWithPath: garbage).deletingLastPathComponent().path
        XCTAssertEqual(try XCTUnwrap(importError { _ = try ONNXModel.load(path: directory) }).kind, .unreadableFile("is a directory"))
    }

    func testTruncatedModelNeverCrashes() throws {
        let bytes = try convReluModel().proto.serializedData()
        for length in stride(from: 1, to: bytes.count, by: 7) {
            let path = try ONNXModelBuilder.write(bytes.prefix(length), named: "truncated")
            // Any outcome but a crash is fine: a prefix may still decode as a smaller model.
            do {
                _ = try ONNXModel.load(path: path).standaloneGraph()
            } catch is ONNXImportError {}
        }
    }

    func testUndefinedValuesAndUnsupportedInputTypes() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [4])
        m.node("Relu", ["nowhere"], ["y"])
        m.outputs = ["y"]
        let undefined = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        guard case .invalidModel(let message) = undefined.kind else { return XCTFail("\(undefined)") }
        XCTAssertTrue(message.contains("'nowhere'"), message)

        var strings = ONNXModelBuilder()
        strings.input("text", .string, [1])
        XCTAssertEqual(try XCTUnwrap(importError { _ = try strings.load() }).kind, .unsupportedDType("STRING for graph value 'text'"))
    }

    func testShapeErrorsFromTheIRNameTheNode() throws {
        var m = ONNXModelBuilder()
        m.input("a", .float, [2, 3])
        m.input("b", .float, [4, 5])
        m.node("MatMul", ["a", "b"], ["y"], name: "mm")
        m.outputs = ["y"]
        let error = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        guard case .invalidNode(let message) = error.kind else { return XCTFail("\(error)") }
        XCTAssertTrue(message.contains("inner dimensions differ"), message)
        XCTAssertEqual(error.node, "node 'mm' (#0, MatMul)")
    }

    func testWrongAttributeTypeIsAnErrorNotADefault() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 4])
        m.node("Flatten", ["x"], ["y"], [attr("axis", string: "one")])
        m.outputs = ["y"]
        let error = try XCTUnwrap(importError { _ = try m.load().standaloneGraph() })
        XCTAssertEqual(error.kind, .unsupportedAttribute(name: "axis", "expected an int, found \"one\""))
    }

    // MARK: - Tensor data

    func testRawDataAndTypedFieldsDecodeAlike() throws {
        let values: [Float] = [1.5, -2, 0.25, 3e-8, .infinity, -0.0]
        XCTAssertEqual(try TensorDecoding.tensor(floatTensor("f", [2, 3], values, raw: true), name: "f"), Tensor(shape: [2, 3], floats: values))
        XCTAssertEqual(try TensorDecoding.tensor(floatTensor("f", [2, 3], values), name: "f"), Tensor(shape: [2, 3], floats: values))
        let ints: [Int64] = [1, -1, .max, .min]
        XCTAssertEqual(try TensorDecoding.tensor(int64Tensor("i", [4], ints, raw: true), name: "i"), Tensor(shape: [4], int64s: ints))
        XCTAssertEqual(try TensorDecoding.tensor(int64Tensor("i", [4], ints), name: "i"), Tensor(shape: [4], int64s: ints))
    }

    func testOtherElementTypes() throws {
        var int32 = Onnx_TensorProto()
        int32.dataType = Int32(Onnx_TensorProto.DataType.int32.rawValue)
        int32.dims = [2]
        int32.int32Data = [-5, 7]
        XCTAssertEqual(try TensorDecoding.tensor(int32, name: "i32"), Tensor(shape: [2], data: .i32([-5, 7])))

        var bytes = Onnx_TensorProto()
        bytes.dataType = Int32(Onnx_TensorProto.DataType.uint8.rawValue)
        bytes.dims = [3]
        bytes.int32Data = [0, 128, 255]
        XCTAssertEqual(try TensorDecoding.tensor(bytes, name: "u8"), Tensor(shape: [3], bytes: [0, 128, 255]))
        bytes.int32Data = [0, 128, 256]
        XCTAssertEqual(try XCTUnwrap(importError { _ = try TensorDecoding.tensor(bytes, name: "u8") }).kind,
                       .badTensorData(tensor: "u8", "UINT8 element 256 out of range"))
        bytes.rawData = Data([9, 8, 7])
        XCTAssertEqual(try TensorDecoding.tensor(bytes, name: "u8"), Tensor(shape: [3], bytes: [9, 8, 7]))

        var double = Onnx_TensorProto()
        double.dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
        double.dims = [2]
        double.doubleData = [0.5, -1.25]
        XCTAssertEqual(try TensorDecoding.tensor(double, name: "d"), Tensor(shape: [2], floats: [0.5, -1.25]))

        // Storage types decode in their arithmetic type: INT8 widens to i32, FLOAT16 to f32.
        var int8 = Onnx_TensorProto()
        int8.dataType = Int32(Onnx_TensorProto.DataType.int8.rawValue)
        int8.dims = [2]
        int8.int32Data = [-3, 127]
        XCTAssertEqual(try TensorDecoding.tensor(int8, name: "q"), Tensor(shape: [2], data: .i32([-3, 127])))
        int8.int32Data = [-3, 200]
        XCTAssertEqual(try XCTUnwrap(importError { _ = try TensorDecoding.tensor(int8, name: "q") }).kind,
                       .badTensorData(tensor: "q", "i8 element 200 out of range"))
        int8.rawData = Data([0xFD, 0x7F])
        XCTAssertEqual(try TensorDecoding.tensor(int8, name: "q"), Tensor(shape: [2], data: .i32([-3, 127])))

        var half = Onnx_TensorProto()
        half.dataType = Int32(Onnx_TensorProto.DataType.float16.rawValue)
        half.dims = [2]
        half.int32Data = [0x3C00, 0xC100]  // 1, -2.5
        XCTAssertEqual(try TensorDecoding.tensor(half, name: "h"), Tensor(shape: [2], floats: [1, -2.5]))

        var float8 = Onnx_TensorProto()
        float8.dataType = Int32(Onnx_TensorProto.DataType.float8E4M3Fn.rawValue)
        float8.dims = [1]
        float8.int32Data = [1]
        guard case .unsupportedDType(let m)? = importError { _ = try TensorDecoding.tensor(float8, name: "q") }?.kind else {
            return XCTFail("FLOAT8 must be rejected")
        }
        XCTAssertTrue(m.hasPrefix("FLOAT8E4M3FN tensor 'q'"), m)
    }

    func testDoubleInitializersAreNarrowedWithANote() throws {
        var bias = Onnx_TensorProto()
        bias.name = "bias"
        bias.dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
        bias.dims = [2]
        bias.doubleData = [0.5, 2]
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 2])
        m.initializer(bias)
        m.node("Add", ["x", "bias"], ["y"])
        m.outputs = ["y"]
        let model = try m.load()
        XCTAssertEqual(model.notes, ["initializer 'bias' is DOUBLE; computed in f32"])
        let graph = try model.standaloneGraph()
        try Verifier.verify(graph)
        XCTAssertEqual(graph.weights["bias"], Tensor(shape: [2], floats: [0.5, 2]))
    }

    func testBadTensorDataIsRejectedBeforeAllocating() throws {
        XCTAssertEqual(try XCTUnwrap(importError { _ = try TensorDecoding.tensor(floatTensor("short", [2, 3], [1, 2]), name: "short") }).kind,
                       .badTensorData(tensor: "short", "float_data has 2 elements, dims [2, 3] need 6"))
        XCTAssertEqual(try XCTUnwrap(importError { _ = try TensorDecoding.tensor(floatTensor("raw", [4], [1, 2], raw: true), name: "raw") }).kind,
                       .badTensorData(tensor: "raw", "raw_data has 8 bytes, dims [4] need 16"))

        let huge = floatTensor("huge", [1 << 20, 1 << 20, 1 << 20], [])
        guard case .badTensorData(tensor: "huge", _)? = importError { _ = try TensorDecoding.tensor(huge, name: "huge") }?.kind else {
            return XCTFail("absurd dims must be rejected")
        }
        let negative = floatTensor("neg", [-1, 2], [])
        guard case .badTensorData(tensor: "neg", _)? = importError { _ = try TensorDecoding.tensor(negative, name: "neg") }?.kind else {
            return XCTFail("negative dims must be rejected")
        }

        var external = floatTensor("ext", [2], [])
        external.dataLocation = .external
        guard case .badTensorData(tensor: "ext", let m)? = importError { _ = try TensorDecoding.tensor(external, name: "ext") }?.kind else {
            return XCTFail("external data must be rejected")
        }
        XCTAssertTrue(m.contains("external file"), m)
    }

    func testBadInitializerNamesTheTensorAndTheFile() throws {
        var m = ONNXModelBuilder()
        m.input("x", .float, [1, 2])
        m.initializer(floatTensor("bias", [2], [1]))
        m.node("Add", ["x", "bias"], ["y"], name: "add")
        m.outputs = ["y"]
        let path = try m.write(named: "broken")
        let error = try XCTUnwrap(importError { _ = try ONNXModel.load(path: path).standaloneGraph() })
        XCTAssertEqual(error.description, "\(path): node 'add' (#0, Add): tensor 'bias': float_data has 1 elements, dims [2] need 2")
    }

    // MARK: - Real model

    func testLightResNet50ImportsStandalone() throws {
        let url = TestPaths.asset("models/light_resnet50.onnx")
        guard TestPaths.exists(url) else { throw XCTSkip("asset \(url.path) not fetched (run scripts/setup)") }
        let model = try ONNXModel.load(path: url.path)
        XCTAssertEqual(model.inputs.map(\.name), ["gpu_0/data_0"])
        XCTAssertEqual(model.inputs.map(\.type), [TensorType(.f32, [1, 3, 224, 224])])
        XCTAssertEqual(model.opsetVersion, 9)

        let graph = try model.standaloneGraph()
        try Verifier.verify(graph)
        XCTAssertEqual(graph.inputs.map { graph[$0].name }, ["gpu_0/data_0"])
        XCTAssertEqual(graph.outputs.map { graph.type(of: $0) }, [TensorType(.f32, [1, 1000])])
        let counts = Dictionary(graph.nodes.map { ($0.op, 1) }, uniquingKeysWith: +)
        XCTAssertEqual(counts, [
            .conv: 53, .batchNorm: 53, .relu: 49, .add: 16, .maxPool: 1, .averagePool: 1,
            .reshape: 1, .gemm: 1, .softmax: 1,
            // The light model replaces each weight by ConstantOfShape of a stored shape.
            .constantOfShape: 239,
            // 239 weight shapes + the reshape target + 28 stored tensors; one unused initializer is dropped.
            .const: 268,
        ])
    }
}
