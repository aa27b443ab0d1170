import Foundation
import PipelineSpec
import XCTest

final class PipelineSpecParsingTests: XCTestCase {
    private let path = "/pipelines/vision/test.yaml"

    private func location(_ line: Int, _ column: Int) -> SourceLocation {
        SourceLocation(file: path, line: line, column: column)
    }

    func testCompleteSpecParsesToExpectedStructure() throws {
        let yaml = """
            pipeline: classify
            description: ResNet-50 classifier
            inputs:
              image: jpeg
            nodes:
              - name: preprocess
                input: image
                ops:
                  - decode: {color: bgr, orientation: ignore, max_pixels: 5000000, on_corrupt: warn}
                  - resize: {shorter: 256, max_size: 512, interpolation: nearest}
                  - center_crop: {size: [224, 200]}
                  - crop: {box: [1, 2, 3, 4]}
                  - convert_color: {from: bgr, to: gray}
                  - cast: {to: f32}
                  - normalize: {scale: 0.00392156862745098, mean: [0.485, 0.456, 0.406], std: 0.5}
                  - layout: NCHW
              - name: classifier
                model: ../models/resnet.onnx
                model_input: gpu_0/data_0
              - name: postprocess
                ops:
                  - softmax: {axis: 1}
                  - topk: {k: 5, axis: 0, labels: labels.txt}
            outputs: [postprocess]
            """
        let spec = try PipelineSpec.parse(yaml: yaml, path: path)

        XCTAssertEqual(spec.name, "classify")
        XCTAssertEqual(spec.description, "ResNet-50 classifier")
        XCTAssertEqual(spec.sourcePath, path)
        XCTAssertEqual(spec.inputs, [InputSpec(name: "image", kind: .jpeg, location: location(4, 3))])
        XCTAssertEqual(spec.nodes.map(\.name), ["preprocess", "classifier", "postprocess"])
        XCTAssertEqual(spec.outputs, [ValueReference(.node("postprocess", output: nil), at: location(24, 11))])

        let preprocess = spec.nodes[0]
        XCTAssertEqual(preprocess.location, location(6, 5))
        XCTAssertEqual(preprocess.inputs, [ValueReference(.graphInput("image"), at: location(7, 12))])
        XCTAssertEqual(
            preprocess.body,
            .ops([
                OpSpec(
                    .decode(DecodeSpec(color: .bgr, orientation: .ignore, maxPixels: 5_000_000, onCorrupt: .warn)),
                    at: location(9, 9)),
                OpSpec(
                    .resize(ResizeSpec(target: .shorter(256, maxSize: 512), interpolation: .nearest)),
                    at: location(10, 9)),
                OpSpec(.centerCrop(CenterCropSpec(height: 224, width: 200)), at: location(11, 9)),
                OpSpec(.crop(CropSpec(y: 1, x: 2, height: 3, width: 4)), at: location(12, 9)),
                OpSpec(.convertColor(ConvertColorSpec(from: .bgr, to: .gray)), at: location(13, 9)),
                OpSpec(.cast(CastSpec(to: .f32)), at: location(14, 9)),
                OpSpec(
                    .normalize(NormalizeSpec(scale: 0.00392156862745098, mean: [0.485, 0.456, 0.406], std: [0.5])),
                    at: location(15, 9)),
                OpSpec(.layout(.nchw), at: location(16, 9)),
            ]))

        let classifier = spec.nodes[1]
        XCTAssertEqual(classifier.inputs, [ValueReference(.node("preprocess", output: nil), at: location(17, 5))])
        XCTAssertEqual(
            classifier.body,
            .model(
                ModelSpec(
                    path: Located("/pipelines/models/resnet.onnx", at: location(18, 12)),
                    input: Located("gpu_0/data_0", at: location(19, 18)))))

        let postprocess = spec.nodes[2]
        XCTAssertEqual(postprocess.inputs, [ValueReference(.node("classifier", output: nil), at: location(20, 5))])
        XCTAssertEqual(
            postprocess.body,
            .ops([
                OpSpec(.softmax(SoftmaxSpec(axis: 1)), at: location(22, 9)),
                OpSpec(
                    .topk(
                        TopKSpec(k: 5, axis: 0, labels: Located("/pipelines/vision/labels.txt", at: location(23, 39)))),
                    at: location(23, 9)),
            ]))
    }

    func testDefaultsApplyWhenArgumentsAreOmitted() throws {
        let yaml = """
            pipeline: defaults
            inputs: {photo: jpeg}
            nodes:
              - name: pre
                ops:
                  - decode
                  - resize: {size: 300}
                  - normalize
                  - convert_color: {to: bgr}
              - name: post
                ops:
                  - softmax:
                  - topk: {k: 1}
            """
        let spec = try PipelineSpec.parse(yaml: yaml, path: path)
        XCTAssertNil(spec.description)
        XCTAssertEqual(spec.nodes[0].inputs, [ValueReference(.graphInput("photo"), at: location(4, 5))])
        XCTAssertEqual(spec.nodes[1].inputs, [ValueReference(.node("pre", output: nil), at: location(10, 5))])
        XCTAssertEqual(spec.outputs, [ValueReference(.node("post", output: nil), at: location(10, 5))])
        guard case .ops(let preOps) = spec.nodes[0].body, case .ops(let postOps) = spec.nodes[1].body else {
            return XCTFail("expected two op nodes, got \(spec.nodes.map(\.body))")
        }
        XCTAssertEqual(
            preOps.map(\.operation),
            [
                .decode(DecodeSpec(color: .rgb, orientation: .apply, maxPixels: 100_000_000, onCorrupt: .error)),
                .resize(ResizeSpec(target: .size(height: 300, width: 300), interpolation: .bilinear)),
                .normalize(NormalizeSpec(scale: 1, mean: [0], std: [1])),
                .convertColor(ConvertColorSpec(from: .rgb, to: .bgr)),
            ])
        XCTAssertEqual(
            postOps.map(\.operation),
            [.softmax(SoftmaxSpec(axis: -1)), .topk(TopKSpec(k: 1, axis: -1, labels: nil))])
    }

    func testDAGWithSeveralInputsAndNamedOutputs() throws {
        let yaml = """
            pipeline: detect_and_classify
            inputs:
              frame: image
              boxes: tensor
            nodes:
              - name: detector
                input: frame
                model: /abs/detector.onnx
              - name: crops
                inputs: [frame, detector.boxes]
                ops:
                  - resize: {size: [64, 32]}
              - name: scores
                inputs:
                  - detector.scores
                  - boxes
                ops: [softmax]
              - name: merged
                inputs: [crops, scores, detector.out.with.dots]
                ops: [{resize: {longer: 128}}]
            outputs: [merged, detector.boxes]
            """
        let spec = try PipelineSpec.parse(yaml: yaml, path: path)
        XCTAssertEqual(spec.inputs.map(\.name), ["frame", "boxes"])
        XCTAssertEqual(spec.inputs.map(\.kind), [.image, .tensor])
        XCTAssertEqual(
            spec.nodes.map(\.inputs),
            [
                [ValueReference(.graphInput("frame"), at: location(7, 12))],
                [
                    ValueReference(.graphInput("frame"), at: location(10, 14)),
                    ValueReference(.node("detector", output: "boxes"), at: location(10, 21)),
                ],
                [
                    ValueReference(.node("detector", output: "scores"), at: location(15, 9)),
                    ValueReference(.graphInput("boxes"), at: location(16, 9)),
                ],
                [
                    ValueReference(.node("crops", output: nil), at: location(19, 14)),
                    ValueReference(.node("scores", output: nil), at: location(19, 21)),
                    ValueReference(.node("detector", output: "out.with.dots"), at: location(19, 29)),
                ],
            ])
        XCTAssertEqual(spec.nodes[3].inputs.map(\.description), ["crops", "scores", "detector.out.with.dots"])
        XCTAssertEqual(
            spec.nodes[0].body, .model(ModelSpec(path: Located("/abs/detector.onnx", at: location(8, 12)), input: nil)))
        XCTAssertEqual(
            spec.nodes[3].body, .ops([OpSpec(.resize(ResizeSpec(target: .longer(128))), at: location(20, 12))]))
        XCTAssertEqual(
            spec.outputs,
            [
                ValueReference(.node("merged", output: nil), at: location(21, 11)),
                ValueReference(.node("detector", output: "boxes"), at: location(21, 19)),
            ])
    }

    func testSingleOutputMayBeWrittenWithoutAList() throws {
        let yaml = """
            pipeline: p
            inputs: {x: tensor}
            nodes:
              - {name: a, ops: [softmax]}
              - {name: b, ops: [softmax]}
            outputs: a
            """
        let spec = try PipelineSpec.parse(yaml: yaml, path: path)
        XCTAssertEqual(spec.outputs, [ValueReference(.node("a", output: nil), at: location(6, 10))])
    }

    func testLeadingByteOrderMarkIsIgnored() throws {
        let spec = try PipelineSpec.parse(
            yaml: "\u{FEFF}pipeline: p\ninputs: {x: jpeg}\nnodes:\n  - {name: a, ops: [decode]}\n", path: path)
        XCTAssertEqual(spec.name, "p")
        XCTAssertEqual(spec.nodes.first?.location, location(4, 5))
    }

    func testRelativePathsResolveAgainstTheYAMLFolder() throws {
        let yaml = """
            pipeline: p
            inputs: {x: tensor}
            nodes:
              - name: m
                model: ./sub/../models/./m.onnx
            """
        let spec = try PipelineSpec.parse(yaml: yaml, path: "relative/dir/p.yaml")
        let folder = FileManager.default.currentDirectoryPath + "/relative/dir"
        XCTAssertEqual(spec.sourcePath, folder + "/p.yaml")
        guard case .model(let model) = spec.nodes[0].body else { return XCTFail("expected a model node") }
        XCTAssertEqual(model.path.value, folder + "/models/m.onnx")
        XCTAssertEqual(model.path.location, SourceLocation(file: "relative/dir/p.yaml", line: 5, column: 12))
    }

    func testRepositoryClassifyGraphLoads() throws {
        let graphs = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Graphs")
        let file = graphs.appendingPathComponent("classify.yaml").path
        let spec = try PipelineSpec.load(path: file)
        XCTAssertEqual(spec.name, "classify")
        XCTAssertEqual(spec.inputs.map(\.kind), [.jpeg])
        XCTAssertEqual(spec.nodes.map(\.name), ["preprocess", "classifier", "postprocess"])
        guard case .ops(let preprocess) = spec.nodes[0].body,
            case .model(let classifier) = spec.nodes[1].body,
            case .ops(let postprocess) = spec.nodes[2].body
        else { return XCTFail("unexpected node kinds: \(spec.nodes.map(\.body))") }
        XCTAssertEqual(preprocess.map(\.operation.name), ["decode", "resize", "center_crop", "normalize", "layout"])
        XCTAssertEqual(postprocess.map(\.operation.name), ["softmax", "topk"])
        let repository = graphs.deletingLastPathComponent()
        XCTAssertEqual(
            classifier.path.value, repository.appendingPathComponent("assets/models/efficientnet_lite0.onnx").path)
        XCTAssertEqual(classifier.input?.value, "input")
        guard case .topk(let topk) = postprocess[1].operation else { return XCTFail("expected topk") }
        XCTAssertEqual(topk.labels?.value, repository.appendingPathComponent("assets/imagenet_labels.txt").path)
    }
}
