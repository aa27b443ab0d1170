import PipelineSpec
import XCTest

/// Each invalid spec must fail with one `SpecError` at the exact key or value, saying what
/// was found and what was expected.
final class PipelineSpecErrorTests: XCTestCase {
    private let path = "/pipelines/bad.yaml"

    /// The opening lines shared by most cases; nodes start on line 4.
    private let header = """
        pipeline: p
        inputs: {image: jpeg}
        nodes:

        """

    private func assertError(
        _ yaml: String, at line: Int, _ column: Int, _ fragments: String..., suggestion: String? = nil,
        file: StaticString = #filePath, line testLine: UInt = #line
    ) {
        do {
            let spec = try PipelineSpec.parse(yaml: yaml, path: path)
            XCTFail("expected an error, parsed \(spec)", file: file, line: testLine)
        } catch {
            XCTAssertEqual(
                error.location, SourceLocation(file: path, line: line, column: column), "\(error)", file: file,
                line: testLine)
            XCTAssertTrue(
                error.description.hasPrefix("\(path):\(line):\(column): error: "), "\(error)", file: file,
                line: testLine)
            for fragment in fragments {
                XCTAssertTrue(
                    error.description.contains(fragment), "'\(fragment)' missing from: \(error)", file: file,
                    line: testLine)
            }
            XCTAssertEqual(error.suggestion, suggestion, "\(error)", file: file, line: testLine)
            if let suggestion {
                XCTAssertTrue(
                    error.description.hasSuffix(" (did you mean '\(suggestion)'?)"), "\(error)", file: file,
                    line: testLine)
            }
        }
    }

    // MARK: - YAML and document shape

    func testYAMLSyntaxErrorKeepsYamsPositionAndMessage() {
        assertError(
            "pipeline: p\ninputs: [a, b\nnodes: []\n", at: 3, 6, "invalid YAML", "expected ',' or ']'",
            "; expected valid YAML")
        assertError("pipeline: p\n\tinputs: {}\n", at: 2, 1, "invalid YAML", "tab")
    }

    func testDuplicateYAMLKey() {
        assertError(
            header + "  - {name: a, ops: [softmax]}\ninputs: {x: jpeg}\n", at: 2, 1,
            "the key 'inputs' appears more than once", "expected each key once")
    }

    func testEmptyDocumentAndNonMappingRoot() {
        assertError(
            "# nothing here\n", at: 1, 1, "the file has no YAML document",
            "expected a mapping with keys pipeline, inputs, nodes")
        assertError(
            "- pipeline: p\n", at: 1, 1, "the pipeline is a list of 1 item",
            "expected a mapping with keys pipeline, inputs, nodes")
    }

    func testUnreadableFile() {
        let missing = "/nonexistent/visionc/p.yaml"
        XCTAssertThrowsError(try PipelineSpec.load(path: missing)) { error in
            let description = String(describing: error)
            XCTAssertTrue(description.hasPrefix("\(missing):1:1: error: the file cannot be read"), description)
            XCTAssertTrue(description.hasSuffix("; expected a readable UTF-8 YAML file"), description)
        }
    }

    // MARK: - Unknown and missing keys

    func testUnknownKeysAtEveryLevelSuggestTheClosestKey() {
        assertError(
            "pipeline: p\ninputs: {image: jpeg}\nnodse: []\n", at: 3, 1, "unknown key 'nodse' in the pipeline",
            "expected one of pipeline, description, inputs, nodes, outputs", suggestion: "nodes")
        assertError(
            header + "  - name: a\n    inptu: image\n    ops: [decode]\n", at: 5, 5, "unknown key 'inptu' in node 'a'",
            "expected one of name, input, inputs, ops, model, model_input", suggestion: "input")
        assertError(
            header + "  - name: a\n    ops:\n      - resize: {size: 3, interpolaton: nearest}\n", at: 6, 27,
            "unknown key 'interpolaton' in resize", "expected one of size, shorter, longer, letterbox, longer_at_most, shorter_at_least, multiple_of, height, max_size",
            suggestion: "interpolation")
        assertError(
            header + "  - name: a\n    ops: [softmax: {dim: 1}]\n", at: 5, 21, "unknown key 'dim' in softmax",
            "expected one of axis")
    }

    func testMissingRequiredKeys() {
        assertError(
            "pipeline: p\ninputs: {image: jpeg}\n", at: 1, 1, "the pipeline has no 'nodes'",
            "expected 'nodes': a list of nodes")
        assertError(
            "inputs: {image: jpeg}\nnodes: []\n", at: 1, 1, "the pipeline has no 'pipeline'",
            "expected 'pipeline': the pipeline's name")
        assertError(
            header + "  - ops: [decode]\n", at: 4, 5, "node 1 has no 'name'", "expected 'name': a unique node name")
        assertError(
            header + "  - name: a\n    ops: [decode, {topk: {axis: 0}}]\n", at: 5, 20, "topk has no 'k'",
            "expected 'k': an integer > 0")
        assertError(
            header + "  - name: a\n    ops: [decode, topk]\n", at: 5, 19, "topk has no 'k'",
            "expected 'k': an integer > 0")
        assertError(
            header + "  - name: a\n    ops: [layout]\n", at: 5, 11, "layout has no value",
            "expected one of NCHW, NHWC, CHW, HWC")
        assertError(
            header + "  - name: a\n    ops: [cast]\n", at: 5, 11, "cast has no 'to'",
            "expected 'to': one of f32, u8, i32, i64")
    }

    // MARK: - Ops

    func testUnknownOpSuggestsTheClosestName() {
        assertError(
            header + "  - name: a\n    ops:\n      - softmx: {axis: 1}\n", at: 6, 9, "unknown op 'softmx'",
            "expected one of decode, resize, center_crop, crop, convert_color, cast, normalize, layout, pad, to_tensor, softmax, topk",
            suggestion: "softmax")
        assertError(
            header + "  - name: a\n    ops: [center]\n", at: 5, 11, "unknown op 'center'", suggestion: "center_crop")
        assertError(header + "  - name: a\n    ops: [fft]\n", at: 5, 11, "unknown op 'fft'")
    }

    func testOpItemWithArgumentsNotIndentedUnderIt() {
        assertError(
            header + "  - name: a\n    ops:\n      - resize:\n        shorter: 256\n", at: 7, 9,
            "an op item with 2 keys ('resize', 'shorter')", "expected one op per list item")
    }

    func testWrongValueTypes() {
        assertError(
            header + "  - name: a\n    ops:\n      - topk: {k: five}\n", at: 6, 19, "'k' of topk is 'five'",
            "expected an integer > 0")
        assertError(
            header + "  - name: a\n    ops:\n      - topk: {k: \"5\"}\n", at: 6, 19,
            "'k' of topk is the quoted string '5'", "expected an integer > 0")
        assertError(
            header + "  - name: a\n    ops:\n      - softmax: {axis: 1.5}\n", at: 6, 25, "'axis' of softmax is '1.5'",
            "expected an integer")
        assertError(
            header + "  - name: a\n    ops:\n      - normalize: {scale: [1]}\n", at: 6, 28,
            "'scale' of normalize is a list of 1 item", "expected a nonzero number")
        assertError(
            header + "  - name: a\n    ops:\n      - decode: rgb\n", at: 6, 17, "decode is 'rgb'",
            "expected a mapping of its arguments (color, orientation, max_pixels, on_corrupt)")
        assertError(
            header + "  - name: a\n    ops: softmax\n", at: 5, 10, "'ops' of node 'a' is 'softmax'",
            "expected a non-empty list of ops")
        assertError(header + "  - name: a\n    ops: [[softmax]]\n", at: 5, 11, "an op item that is a list of 1 item")
    }

    func testBadEnumValuesSuggestTheClosestValue() {
        assertError(
            header + "  - name: a\n    ops: [decode: {color: rbg}]\n", at: 5, 27, "'color' of decode is 'rbg'",
            "expected one of rgb, bgr, gray", suggestion: "rgb")
        assertError(
            header + "  - name: a\n    ops: [layout: nchw]\n", at: 5, 19, "layout is 'nchw'",
            "expected one of NCHW, NHWC, CHW, HWC", suggestion: "NCHW")
        assertError(
            header + "  - name: a\n    ops: [cast: {to: float32}]\n", at: 5, 22, "'to' of cast is 'float32'",
            "expected one of f32, u8, i32, i64")
        assertError(
            "pipeline: p\ninputs: {image: jpg}\nnodes: []\n", at: 2, 17, "kind of input 'image' is 'jpg'",
            "expected one of jpeg, image, tensor", suggestion: "jpeg")
        assertError(
            header + "  - name: a\n    ops: [resize: {size: 9, interpolation: bicubic}]\n", at: 5, 44,
            "'interpolation' of resize is 'bicubic'", "expected one of bilinear, nearest")
    }

    func testOutOfRangeNumbers() {
        assertError(
            header + "  - name: a\n    ops: [topk: {k: 0}]\n", at: 5, 21, "'k' of topk is '0'",
            "expected an integer > 0")
        assertError(
            header + "  - name: a\n    ops: [center_crop: {size: 0}]\n", at: 5, 31, "'size' of center_crop is '0'",
            "expected a side N or [height, width], each an integer from 1 to 65535")
        assertError(
            header + "  - name: a\n    ops: [center_crop: {size: [224, 70000]}]\n", at: 5, 37,
            "width in 'size' of center_crop is '70000'", "expected an integer from 1 to 65535")
        assertError(
            header + "  - name: a\n    ops: [resize: {size: [1, 2, 3]}]\n", at: 5, 26,
            "'size' of resize is a list of 3 items", "expected a side N or [height, width]")
        assertError(
            header + "  - name: a\n    ops: [decode: {max_pixels: -1}]\n", at: 5, 32, "'max_pixels' of decode is '-1'",
            "expected an integer from 1 to 4294836225")
        assertError(
            header + "  - name: a\n    ops: [resize: {shorter: 256, max_size: 200}]\n", at: 5, 44,
            "'max_size' of resize is '200'", "expected an integer larger than 'shorter' (256)")
        assertError(
            header + "  - name: a\n    ops: [crop: {box: [-1, 0, 5, 5]}]\n", at: 5, 24, "y in 'box' of crop is '-1'",
            "expected an integer from 0 to 65534")
        assertError(
            header + "  - name: a\n    ops: [crop: {box: [0, 0, 5]}]\n", at: 5, 23,
            "'box' of crop is a list of 3 items", "expected [y, x, height, width]")
        assertError(
            header + "  - name: a\n    ops: [normalize: {std: [0.2, 0, 0.2]}]\n", at: 5, 34,
            "item 2 of 'std' of normalize is '0'", "expected a number > 0")
        assertError(
            header + "  - name: a\n    ops: [normalize: {scale: 0}]\n", at: 5, 30, "'scale' of normalize is '0'",
            "expected a nonzero number")
        assertError(
            header + "  - name: a\n    ops: [normalize: {mean: .nan}]\n", at: 5, 29, "'mean' of normalize is '.nan'",
            "expected a number, or a list of them")
    }

    func testMeanAndStdLengthMismatch() {
        assertError(
            header + "  - name: a\n    ops: [normalize: {mean: [0.4, 0.5, 0.6], std: [0.2, 0.3]}]\n", at: 5, 51,
            "'std' of normalize has 2 values and 'mean' has 3", "expected as many values as 'mean'")
    }

    func testResizeTargetMustBeExactlyOne() {
        assertError(
            header + "  - name: a\n    ops: [resize: {size: 3, shorter: 4}]\n", at: 5, 29,
            "resize has both 'size' and 'shorter'", "expected exactly one of size, shorter, longer")
        assertError(
            header + "  - name: a\n    ops: [resize: {interpolation: nearest}]\n", at: 5, 11,
            "resize has none of size, shorter, longer, letterbox, longer_at_most, shorter_at_least, height, multiple_of", "expected exactly one of them")
        assertError(
            header + "  - name: a\n    ops: [resize: {shorter: 4, multiple_of: 32}]\n", at: 5, 32,
            "resize has 'multiple_of' with 'shorter'", "expected 'multiple_of' alone or with 'longer_at_most' / 'shorter_at_least'")
        assertError(
            header + "  - name: a\n    ops: [resize: {longer_at_most: 960, min_width: 8}]\n", at: 5, 41,
            "resize has 'min_width' with 'longer_at_most'", "expected 'min_width' only together with 'height'")
        assertError(
            header + "  - name: a\n    ops: [resize: {height: 48, min_width: 320, max_width: 192}]\n", at: 5, 59,
            "'max_width' of resize is '192'", "expected an integer from min_width (320) to 65535")
        assertError(
            header + "  - name: a\n    ops: [resize: {longer: 4, max_size: 8}]\n", at: 5, 31,
            "resize has 'max_size' with 'longer'", "expected 'max_size' only together with 'shorter'")
    }

    func testTextOpArguments() {
        assertError(
            header + "  - name: a\n    ops: [db_boxes: {unclip_ratio: 20}]\n", at: 5, 36,
            "'unclip_ratio' of db_boxes is '20'", "expected a number in 0…10")
        assertError(
            header + "  - name: a\n    ops: [ctc_decode: {max_length: 8}]\n", at: 5, 11,
            "ctc_decode has no 'labels'", "'model' (the decoded model's metadata entry")
        assertError(
            header + "  - name: a\n    ops: [ctc_decode: {labels: chars.txt, metadata_key: x}]\n", at: 5, 43,
            "ctc_decode has 'metadata_key' with a labels file", "expected 'metadata_key' only with labels: model")
        assertError(
            header + "  - name: a\n    ops: [rotate_180_if: {threshold: 2}]\n", at: 5, 38,
            "'threshold' of rotate_180_if is '2'", "expected a probability in 0…1")
        assertError(
            header + "  - name: a\n    ops: [pad: {min_width: 8, pads: [0, 0, 0, 0]}]\n", at: 5, 31,
            "pad has both 'pads' and 'min_width'", "expected exactly one of multiple_of, pads, min_height/min_width")
    }

    func testDetectionOpArguments() {
        assertError(
            header + "  - name: a\n    ops: [dfl_boxes: {input_size: 8}]\n", at: 5, 11,
            "dfl_boxes has no 'strides'", "a list of strides, one per level")
        assertError(
            header + "  - name: a\n    ops: [dfl_boxes: {strides: [8, 0], input_size: 8}]\n", at: 5, 36,
            "item 2 of 'strides' of dfl_boxes is '0'", "expected an integer from 1 to 4096")
        assertError(
            header + "  - name: a\n    ops: [detections: {model: det}]\n", at: 5, 24,
            "detections has 'model' without 'labels'", "expected labels: model with it")
        assertError(
            header + "  - name: a\n    ops: [nms: {classes: each}]\n", at: 5, 26,
            "'classes' of nms is 'each'", "one of separate, agnostic")
    }

    // MARK: - Nodes

    func testDuplicateNodeNames() {
        assertError(
            header + "  - name: a\n    ops: [decode]\n  - name: a\n    ops: [softmax]\n", at: 6, 11,
            "node name 'a' is already used by the node at line 4", "expected a name no other node or input uses")
        assertError(
            header + "  - name: image\n    ops: [decode]\n", at: 4, 11,
            "node name 'image' is already a pipeline input (line 2)")
    }

    func testNodeNamesMustBeIdentifiers() {
        assertError(
            header + "  - name: 1st\n    ops: [decode]\n", at: 4, 11, "'name' of node '1st' is '1st'",
            "expected a name of letters, digits and '_'")
        assertError(header + "  - name: a.b\n    ops: [decode]\n", at: 4, 11, "'name' of node 'a.b' is 'a.b'")
    }

    func testOpsAndModelExcludeEachOther() {
        assertError(
            header + "  - name: a\n    ops: [decode]\n    model: m.onnx\n", at: 6, 5,
            "node 'a' has both 'ops' and 'model'", "expected either an 'ops' list or a 'model' path")
        assertError(
            header + "  - name: a\n    input: image\n", at: 4, 5, "node 'a' has neither 'ops' nor 'model'",
            "expected an 'ops' list or a 'model' path")
        assertError(
            header + "  - name: a\n    ops: [decode]\n    model_input: x\n", at: 6, 5,
            "node 'a' has 'model_input' but runs ops", "expected 'model_input' only in a node with 'model'")
    }

    func testEmptyOpsList() {
        assertError(
            header + "  - name: a\n    ops: []\n", at: 5, 10, "'ops' of node 'a' is an empty list",
            "expected a non-empty list of ops")
        assertError(
            header + "  - name: a\n    ops:\n", at: 5, 9, "'ops' of node 'a' is empty",
            "expected a non-empty list of ops")
    }

    func testModelPathMustNotBeEmpty() {
        assertError(
            header + "  - name: m\n    model: ''\n", at: 5, 12, "'model' of node 'm' is the quoted string ''",
            "expected a file path")
    }

    func testModelNodeTakesExactlyOneInput() {
        let yaml =
            "pipeline: p\ninputs: {a: tensor, b: tensor}\nnodes:\n  - name: m\n    inputs: [a, b]\n    model: m.onnx\n"
        assertError(yaml, at: 5, 13, "model node 'm' has 2 inputs", "expected exactly one input")
    }

    // MARK: - References

    func testUnknownReferenceSuggestsTheClosestName() {
        assertError(
            header
                + "  - name: preprocess\n    ops: [decode]\n  - name: post\n    input: preprocss\n    ops: [softmax]\n",
            at: 7, 12, "'input' of node 'post' is 'preprocss', which names no pipeline input or node",
            "expected a pipeline input or an earlier node (image, preprocess)", suggestion: "preprocess")
        assertError(
            header + "  - name: a\n    inputs: [image, imagee.x]\n    ops: [decode]\n", at: 5, 21,
            "input of node 'a' is 'imagee.x', which names no pipeline input or node", suggestion: "image")
    }

    func testForwardReferenceAndSelfReferenceAreRejected() {
        assertError(
            header + "  - name: a\n    input: b\n    ops: [decode]\n  - name: b\n    input: image\n    ops: [decode]\n",
            at: 5, 12, "node 'a' reads node 'b', which is declared later (line 7)",
            "expected a pipeline input or an earlier node (image); nodes may only read nodes above them")
        assertError(
            header + "  - name: a\n    ops: [decode]\n  - name: b\n    inputs: [a, b.out]\n    ops: [softmax]\n",
            at: 7, 17, "node 'b' reads its own result", "expected a pipeline input or an earlier node (image, a)")
    }

    func testInputAndInputsExcludeEachOther() {
        assertError(
            header + "  - name: a\n    inputs: [image]\n    input: image\n    ops: [decode]\n", at: 6, 5,
            "node 'a' has both 'input' and 'inputs'", "expected either 'input: name' or 'inputs: [names]'")
        assertError(
            header + "  - name: a\n    input: [image]\n    ops: [decode]\n", at: 5, 12,
            "'input' of node 'a' is a list of 1 item",
            "(use 'inputs: [a, b]' for several)")
        assertError(
            header + "  - name: a\n    inputs: []\n    ops: [decode]\n", at: 5, 13,
            "'inputs' of node 'a' is an empty list")
    }

    func testFirstNodeMustNameItsInputWhenThePipelineHasSeveral() {
        let yaml = "pipeline: p\ninputs: {a: tensor, b: tensor}\nnodes:\n  - name: n\n    ops: [softmax]\n"
        assertError(
            yaml, at: 4, 5, "node 'n' has no 'input' and the pipeline has 2 inputs (a, b)",
            "expected 'input:' or 'inputs:'")
    }

    func testReferenceSyntax() {
        assertError(
            header + "  - name: a\n    input: image.pixels\n    ops: [decode]\n", at: 5, 12,
            "'input' of node 'a' is 'image.pixels', output 'pixels' of pipeline input 'image'", "expected 'image' alone"
        )
        assertError(
            header + "  - name: a\n    ops: [decode]\n  - name: b\n    input: a.\n    ops: [decode]\n", at: 7, 12,
            "'input' of node 'b' is 'a.', with nothing after '.'", "expected node.output")
    }

    func testOutputsMustBeDistinctNodeResults() {
        let nodes = header + "  - name: a\n    ops: [decode]\n"
        assertError(
            nodes + "outputs: [b]\n", at: 6, 11, "'outputs' of the pipeline is 'b', which names no node",
            "expected a node (a)")
        assertError(
            nodes + "outputs: [a, a]\n", at: 6, 14, "'outputs' of the pipeline lists 'a' twice",
            "expected each output once")
        assertError(
            nodes + "outputs: [image]\n", at: 6, 11, "'outputs' of the pipeline names pipeline input 'image'",
            "expected a node's result")
        assertError(nodes + "outputs: []\n", at: 6, 10, "'outputs' of the pipeline is an empty list")
    }

    func testInputsSection() {
        assertError(
            "pipeline: p\ninputs: {}\nnodes: []\n", at: 2, 9, "'inputs' of the pipeline is an empty mapping",
            "expected a mapping of input names to kinds")
        assertError(
            "pipeline: p\ninputs: [image]\nnodes: []\n", at: 2, 9, "'inputs' of the pipeline is a list of 1 item")
        assertError("pipeline: p\ninputs: {my-image: jpeg}\nnodes: []\n", at: 2, 10, "input name is 'my-image'")
        assertError(
            "pipeline: p\ninputs: {image: jpeg}\nnodes: []\n", at: 3, 8, "'nodes' of the pipeline is an empty list",
            "expected a non-empty list of nodes")
    }
}

/// `queue:` on a node: what it accepts and the errors for what it does not.
final class QueueSpecTests: XCTestCase {
    private let path = "/pipelines/queue.yaml"

    private func yaml(_ queue: String) -> String {
        """
        pipeline: p
        inputs: {image: jpeg}
        nodes:
          - {name: pre, ops: [decode]}
          - name: post
            ops: [softmax]
            queue: \(queue)
        """
    }

    func testQueueKeysAndDefaults() throws {
        let spec = try PipelineSpec.parse(yaml: yaml("{max_batch: 8, max_delay_us: 2000, workers: 2, threads: 1, timeout_us: 50000}"), path: path)
        let queue = try XCTUnwrap(spec.nodes[1].queue)
        XCTAssertEqual([queue.maxBatch, queue.maxDelayMicroseconds, queue.capacity, queue.workers, queue.timeoutMicroseconds], [8, 2000, 64, 2, 50000])
        XCTAssertEqual(queue.threads, 1)
        XCTAssertEqual(queue.location.line, 7)
        XCTAssertNil(spec.nodes[0].queue)
        let defaults = try XCTUnwrap(try PipelineSpec.parse(yaml: yaml("{}"), path: path).nodes[1].queue)
        XCTAssertEqual([defaults.maxBatch, defaults.maxDelayMicroseconds, defaults.capacity, defaults.workers, defaults.timeoutMicroseconds], [1, 0, 64, 1, 0])
        XCTAssertNil(defaults.threads)
    }

    func testBrokerEdge() throws {
        let spec = try PipelineSpec.parse(yaml: yaml("{broker: \"redis://10.0.0.5:6380/cls.v1\", max_deliveries: 5}"), path: path)
        let broker = try XCTUnwrap(spec.nodes[1].queue?.broker)
        XCTAssertEqual(broker.address, BrokerAddress(host: "10.0.0.5", port: 6380, stream: "cls.v1"))
        XCTAssertEqual([broker.claimAfterMilliseconds, broker.maxDeliveries], [10_000, 5])
        XCTAssertEqual(BrokerAddress(url: "redis://redis.internal/s")?.port, 6379)
        XCTAssertEqual(BrokerAddress(server: "redis://127.0.0.1:7000")?.description, "redis://127.0.0.1:7000/_")
        XCTAssertEqual(broker.address.on(server: try XCTUnwrap(BrokerAddress(server: "redis://other:1"))).description, "redis://other:1/cls.v1")
        XCTAssertNil(BrokerAddress(server: "127.0.0.1:6379"))
        let secured = try XCTUnwrap(BrokerAddress(url: "redis://worker:p%40ss@10.0.0.5:6380/s"))
        XCTAssertEqual([secured.user, secured.password], ["worker", "p@ss"])
        XCTAssertEqual(secured.description, "redis://worker:***@10.0.0.5:6380/s", "the password never prints")
        XCTAssertEqual(BrokerAddress(server: "redis://:secret@h")?.password, "secret")
        XCTAssertNil(BrokerAddress(url: "redis://user@h/s"), "credentials need a password")
    }

    func testBadQueuesNameTheKeyAndTheRange() {
        let cases: [(String, [String])] = [
            ("{max_batch: 0}", ["'max_batch' of the queue of node 'post' is '0'", "an integer in 1…4096"]),
            ("{max_batch: 8, capacity: 4}", ["'capacity'", "at least max_batch"]),
            ("{max_delay_us: -1}", ["'max_delay_us'", "0…10000000"]),
            ("{workers: 0}", ["'workers'", "1…64"]),
            ("{timeout_us: -5}", ["'timeout_us'", "0…600000000"]),
            ("{batch: 4}", ["unknown key 'batch' in the queue of node 'post'"]),
            ("{broker: \"http://h:1/s\"}", ["'broker'", "redis://127.0.0.1:6379/classify"]),
            ("{broker: \"redis://h:99999/s\"}", ["'broker'", "port 1…65535"]),
            ("{broker: \"redis://h:1/\"}", ["'broker'", "a stream name"]),
            ("{broker: \"redis://h/s\", max_deliveries: 0}", ["'max_deliveries'", "1…100"]),
            ("{broker: \"redis://h/s\", claim_after_ms: 5}", ["'claim_after_ms'", "100…3600000"]),
            ("{claim_after_ms: 500}", ["'claim_after_ms' on a queue without 'broker'"]),
            ("8", ["the queue of node 'post' is", "a mapping like {max_batch: 8"]),
        ]
        for (queue, fragments) in cases {
            do {
                _ = try PipelineSpec.parse(yaml: yaml(queue), path: path)
                XCTFail("\(queue): expected an error")
            } catch {
                XCTAssertEqual(error.location.line, 7, "\(queue): \(error)")
                for fragment in fragments { XCTAssertTrue(error.description.contains(fragment), "\(queue): '\(fragment)' missing from \(error)") }
            }
        }
    }
}

/// The fan-out, fan-in and region ops of the YAML vocabulary: what they parse to, their errors.
final class RegionOpSpecTests: XCTestCase {
    private let path = "/pipelines/regions.yaml"

    func testOpsParse() throws {
        let spec = try PipelineSpec.parse(yaml: """
            pipeline: p
            inputs: {image: jpeg}
            nodes:
              - {name: img, ops: [decode]}
              - {name: tiles, ops: [{tile_boxes: {size: [32, 48], rows: 2, cols: 3}}]}
              - {name: tile, ops: [for_each]}
              - {name: crop, inputs: [img, tile], ops: [{crop_box: {size: 16}}]}
              - {name: all, ops: [collect, {mean: {axis: 0}}]}
              - {name: kept, inputs: [tiles, scores], ops: [{nms: {iou_threshold: 0.3, mode: minimum, max_output: 5, pixel_inclusive: true}}]}
              - {name: scores, ops: [softmax]}
            """.replacingOccurrences(of: "inputs: [tiles, scores]", with: "inputs: [tiles, all]"), path: path)
        let ops = spec.nodes.flatMap { node -> [OpSpec.Operation] in
            if case .ops(let ops) = node.body { return ops.map(\.operation) }
            return []
        }
        XCTAssertEqual(ops[1], .tileBoxes(TileBoxesSpec(height: 32, width: 48, rows: 2, cols: 3)))
        XCTAssertEqual(ops[2], .forEach)
        XCTAssertEqual(ops[3], .cropBox(CenterCropSpec(height: 16, width: 16)))
        XCTAssertEqual(ops[3].operandCount, 2)
        XCTAssertEqual(ops[4], .collect)
        XCTAssertEqual(ops[5], .mean(axis: 0))
        XCTAssertEqual(ops[6], .nms(NMSSpec(iouThreshold: 0.3, overlap: .minimum, maxOutput: 5, pixelInclusive: true)))
    }

    func testBadArgumentsNameTheOp() {
        let cases: [(String, String)] = [
            ("[{for_each: {axis: 0}}]", "unknown key 'axis' in for_each"),
            ("[{tile_boxes: {size: 8, rows: 0}}]", "'rows' of tile_boxes is '0'; expected an integer in 1…64"),
            ("[{nms: {iou_threshold: 2}}]", "'iou_threshold' of nms is '2'; expected a number in 0…1"),
            ("[{nms: {mode: max}}]", "'mode' of nms is 'max'"),
            ("[{crop_box: {}}]", "crop_box has no 'size'"),
        ]
        for (ops, fragment) in cases {
            do {
                _ = try PipelineSpec.parse(yaml: "pipeline: p\ninputs: {image: jpeg}\nnodes:\n  - {name: a, ops: \(ops)}\n", path: path)
                XCTFail("\(ops): expected an error")
            } catch {
                XCTAssertTrue(error.description.contains(fragment), "\(ops): '\(fragment)' missing from \(error)")
            }
        }
    }
}
