import IR
import TestSupport
import XCTest

final class IRRoundTripTests: XCTestCase {
    /// A graph touching every printable feature: symbolic dims, layouts, placement,
    /// multi-result nodes, every attribute kind, weights.
    private func sampleGraph() throws -> Graph {
        var g = Graph(name: "sample")
        let bytes = g.addInput(name: "image", type: TensorType(.u8, [.symbol("n")]))
        let img = try g.append(.decodeJPEG, [bytes], attributes: ["color": .string("rgb")], name: "decode")[0]
        let resized = try g.append(.resize, [img], attributes: ["shorter": .int(256), "interpolation": .string("bilinear")], name: "resize")[0]
        let crop = try g.append(.crop, [resized], attributes: ["size": .ints([224, 224])], name: "crop")[0]
        let f = try g.append(.cast, [crop], attributes: ["to": .string("f32")], name: "cast")[0]
        let n = try g.append(.normalize, [f], attributes: [
            "scale": .float(1.0 / 255), "mean": .floats([0.485, 0.456, 0.406]), "std": .floats([0.229, 0.224, 0.225]),
        ], name: "normalize")[0]
        let chw = try g.append(.transpose, [n], attributes: ["perm": .ints([2, 0, 1])], name: "chw")[0]
        let x = try g.append(.unsqueeze, [chw], attributes: ["axes": .ints([0])], name: "x")[0]
        let w = g.addConstant(name: "conv1/w", tensor: Tensor(shape: [8, 3, 3, 3], floats: (0..<216).map { Float($0) * 0.01 }))
        let conv = try g.append(.conv, [x, w], attributes: [
            "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "activation": .string("relu"), "label": .strings(["a \"q\"", "b"]),
        ], name: "conv")[0]
        let pooled = try g.append(.globalAveragePool, [conv], name: "pool")[0]
        let flat = try g.append(.flatten, [pooled], attributes: ["axis": .int(1)], name: "flat")[0]
        let probs = try g.append(.softmax, [flat], attributes: ["axis": .int(-1), "clip_min": .float(-.infinity)], name: "probs")[0]
        let top = try g.append(.topk, [probs], attributes: ["k": .int(5)], name: "top")
        g.outputs = top
        return g
    }

    func testPrintParseRoundTripIsExact() throws {
        let g = try sampleGraph()
        try Verifier.verify(g)
        let text = IRPrinter.print(g)
        let parsed = try IRParser.parse(text, weights: g.weights)
        try Verifier.verify(parsed)
        XCTAssertEqual(IRPrinter.print(parsed), text)
        XCTAssertEqual(parsed.nodes, g.nodes)
        XCTAssertEqual(parsed.values, g.values)
        XCTAssertEqual(parsed.weights, g.weights)
        XCTAssertEqual(parsed.outputs, g.outputs)
    }

    func testTextFormShowsTypesAndWeightReferences() throws {
        let text = IRPrinter.print(try sampleGraph())
        XCTAssertTrue(text.hasPrefix("graph sample(%image: u8[?n]) {\n"), text)
        XCTAssertTrue(text.contains("%decode : u8[?h,?w,3] HWC = decode_jpeg(%image) {color=\"rgb\"}"), text)
        XCTAssertTrue(text.contains("%crop : u8[224,224,3] HWC = crop(%resize) {size=[224,224]}"), text)
        XCTAssertTrue(text.contains("%x : f32[1,3,224,224] NCHW = unsqueeze(%chw) {axes=[0]}"), text)
        XCTAssertTrue(text.contains("%conv1/w : f32[8,3,3,3] = const @conv1/w"), text)
        XCTAssertTrue(text.contains("%top : f32[1,5], %top.1 : i64[1,5] = topk(%probs) {k=5}"), text)
        XCTAssertFalse(text.contains("0.01"), "weights must print as references, never numbers")
    }

    func testParseErrorsSayWhereAndWhat() {
        let cases: [(String, String)] = [
            ("graph g() {\n  %a : f32[1] = bogus()\n  return %a\n}", "2:17: unknown op 'bogus'"),
            ("graph g() {\n  %a : f32[1] = relu(%b)\n  return %a\n}", "2:22: use of undefined value %b"),
            ("graph g() {\n  %a : f33[1] = relu()\n  return %a\n}", "2:8: expected a dtype"),
            ("graph g() {\n  %w : f32[2] = const @w\n  return %w\n}", "2:23: no data for weight @w"),
            ("graph g(%x: f32[2]) {\n  return %x\n} extra", "3:3: expected end of input"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try IRParser.parse(text)) { error in
                XCTAssertTrue("\(error)".hasPrefix(expected), "\(error) does not start with \(expected)")
            }
        }
    }

    func testSynthesizedWeightsAreDeterministic() throws {
        let text = "graph g(%x: f32[1,2]) {\n  %w : f32[2,2] = const @w\n  %y : f32[1,2] = matmul(%x, %w)\n  return %y\n}\n"
        let a = try IRParser.parse(text, synthesizeMissingWeights: true)
        let b = try IRParser.parse(text, synthesizeMissingWeights: true)
        XCTAssertEqual(a.weights["w"], b.weights["w"])
        XCTAssertTrue(a.weights["w"]!.floats.allSatisfy { $0 >= 0.1 && $0 <= 1.0 })
        XCTAssertEqual(IRPrinter.print(a), text)
    }
}
