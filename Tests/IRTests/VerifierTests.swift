import IR
import XCTest

final class VerifierTests: XCTestCase {
    func testRejectsWrongDeclaredShape() throws {
        let text = "graph g(%x: f32[1,3,8,8] NCHW) {\n  %y : f32[1,3,4,4] NCHW = max_pool(%x) {kernel_shape=[2,2], strides=[1,1]}\n  return %y\n}\n"
        let g = try IRParser.parse(text)
        XCTAssertThrowsError(try Verifier.verify(g)) { error in
            XCTAssertTrue("\(error)".contains("inferred f32[1,3,7,7] NCHW"), "\(error)")
        }
    }

    func testRejectsActivationOnOpWithoutEpilogue() throws {
        let text = "graph g(%x: f32[1,4]) {\n  %y : f32[1,4] = softmax(%x) {activation=\"relu\"}\n  return %y\n}\n"
        XCTAssertThrowsError(try Verifier.verify(try IRParser.parse(text)))
    }

    func testRejectsShapeMismatchInConv() throws {
        var g = Graph(name: "g")
        let x = g.addInput(name: "x", type: TensorType(.f32, [1, 4, 8, 8], layout: .nchw))
        let w = g.addConstant(name: "w", tensor: Tensor(shape: [2, 3, 3, 3], floats: Array(repeating: 0, count: 54)))
        XCTAssertThrowsError(try g.append(.conv, [x, w], name: "y")) { error in
            XCTAssertTrue("\(error)".contains("input has 4 channels, weight expects 3"), "\(error)")
        }
    }

    func testShapeInferenceOfPipelineOps() throws {
        let img = TensorType(.u8, [480, 640, 3], layout: .hwc)
        let resized = try ShapeInference.resultTypes(op: .resize, inputs: [img], attributes: ["shorter": .int(256)])
        XCTAssertEqual(resized[0], TensorType(.u8, [256, 341, 3], layout: .hwc))
        let box = try ImageGeometry.cropBox(height: 256, width: 341, attributes: ["size": .ints([224, 224])])
        XCTAssertEqual(box.y, 16)
        XCTAssertEqual(box.x, 58, "torchvision rounds (341-224)/2 = 58.5 half to even")
        let pre = try ShapeInference.resultTypes(op: .preprocess, inputs: [img], attributes: [
            "shorter": .int(256), "crop_size": .ints([224, 224]), "channels": .ints([0, 1, 2]), "layout": .string("NCHW"),
        ])
        XCTAssertEqual(pre[0], TensorType(.f32, [1, 3, 224, 224], layout: .nchw))
    }
}
