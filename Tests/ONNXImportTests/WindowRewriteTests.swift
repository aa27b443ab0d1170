import IR
@testable import ONNXImport
import Passes
import Runtime
import TestSupport
import XCTest

/// The rewrites that run 1-D and 3-D windows on the 2-D kernels, and Resize's antialiased and
/// cropping forms, checked against direct loops written here (no shared code with the
/// importer or the kernels) at every checked compile configuration, over shapes, paddings,
/// strides and dilations the ONNX node cases do not reach.
final class WindowRewriteTests: XCTestCase {
    /// The model's outputs at every checked configuration (-O0, -O2, -O2 on this host's backends).
    private func outputs(_ m: ONNXModelBuilder, _ inputs: [Tensor]) throws -> [(String, [Tensor])] {
        let model = try m.load()
        let graph = try model.standaloneGraph()
        try Verifier.verify(graph)
        return try CompileConfiguration.checked.map { level in
            let (optimized, _) = try PassManager(passes: level.passes, verifyEach: true).run(graph)
            return ("\(level)", try Executable(graph: optimized, options: RuntimeOptions(threads: 2)).run(inputs: inputs).outputs)
        }
    }

    private func ramp(_ count: Int, seed: Int) -> [Float] {
        // Distinct values, not monotone, so a max or a misplaced tap shows.
        (0..<count).map { Float(($0 * 37 + seed * 11) % 101) / 10 - 5 }
    }

    // MARK: - 1-D

    func testOneDimensionalConvMatchesDirectSum() throws {
        let (n, c, l, m, k) = (2, 4, 13, 6, 3)
        let (stride, dilation, padBegin, padEnd, group) = (2, 2, 3, 1, 2)
        let x = ramp(n * c * l, seed: 1), w = ramp(m * (c / group) * k, seed: 2), b = ramp(m, seed: 3)
        var model = ONNXModelBuilder()
        model.input("x", .float, [Int64(n), Int64(c), Int64(l)])
        model.initializer(floatTensor("w", [Int64(m), Int64(c / group), Int64(k)], w))
        model.initializer(floatTensor("b", [Int64(m)], b))
        model.node("Conv", ["x", "w", "b"], ["y"], [
            attr("strides", ints: [Int64(stride)]), attr("dilations", ints: [Int64(dilation)]),
            attr("pads", ints: [Int64(padBegin), Int64(padEnd)]), attr("group", int: Int64(group)),
        ])
        model.outputs = ["y"]
        let ol = (l + padBegin + padEnd - dilation * (k - 1) - 1) / stride + 1
        var expected = [Float]()
        for i in 0..<n {
            for o in 0..<m {
                let g = o / (m / group)
                for p in 0..<ol {
                    var sum = b[o]
                    for ci in 0..<(c / group) {
                        for t in 0..<k {
                            let at = p * stride + t * dilation - padBegin
                            guard (0..<l).contains(at) else { continue }
                            sum += x[(i * c + g * (c / group) + ci) * l + at] * w[(o * (c / group) + ci) * k + t]
                        }
                    }
                    expected.append(sum)
                }
            }
        }
        for (level, got) in try outputs(model, [Tensor(shape: [n, c, l], floats: x)]) {
            XCTAssertEqual(got[0].shape, [n, m, ol], level)
            XCTAssertNil(allcloseFailure(got[0].floats, expected, rtol: 1e-5, atol: 1e-4), level)
        }
    }

    func testOneDimensionalConvTransposeMatchesScatter() throws {
        let (c, l, m, k) = (2, 5, 3, 3)
        let (stride, padBegin, padEnd, outputPadding) = (2, 1, 0, 1)
        let x = ramp(c * l, seed: 4), w = ramp(c * m * k, seed: 5)
        var model = ONNXModelBuilder()
        model.input("x", .float, [1, Int64(c), Int64(l)])
        model.initializer(floatTensor("w", [Int64(c), Int64(m), Int64(k)], w))
        model.node("ConvTranspose", ["x", "w"], ["y"], [
            attr("strides", ints: [Int64(stride)]), attr("pads", ints: [Int64(padBegin), Int64(padEnd)]),
            attr("output_padding", ints: [Int64(outputPadding)]),
        ])
        model.outputs = ["y"]
        let full = (l - 1) * stride + k + outputPadding
        var scattered = [Float](repeating: 0, count: m * full)
        for ci in 0..<c {
            for o in 0..<m {
                for i in 0..<l {
                    for t in 0..<k { scattered[o * full + i * stride + t] += x[ci * l + i] * w[(ci * m + o) * k + t] }
                }
            }
        }
        let ol = full - padBegin - padEnd
        let expected = (0..<m).flatMap { o in scattered[(o * full + padBegin)..<(o * full + padBegin + ol)] }
        for (level, got) in try outputs(model, [Tensor(shape: [1, c, l], floats: x)]) {
            XCTAssertEqual(got[0].shape, [1, m, ol], level)
            XCTAssertNil(allcloseFailure(got[0].floats, expected, rtol: 1e-5, atol: 1e-4), level)
        }
    }

    // MARK: - 3-D pooling

    /// One ONNX pooling over [1, C, D, H, W] by direct loops: taps inside the explicit padding
    /// count for count_include_pad, those a ceil-mode window reaches past it never do.
    private func pool3d(
        _ x: [Float], channels: Int, dims: [Int], kernel: [Int], strides: [Int], dilations: [Int], pads: [Int],
        ceil: Bool, max isMax: Bool, countIncludePad: Bool
    ) -> (shape: [Int], values: [Float]) {
        let out = (0..<3).map { a -> Int in
            let span = dims[a] + pads[a] + pads[a + 3] - (dilations[a] * (kernel[a] - 1) + 1)
            var o = (ceil ? (span + strides[a] - 1) / strides[a] : span / strides[a]) + 1
            if ceil, (o - 1) * strides[a] >= dims[a] + pads[a] { o -= 1 }
            return o
        }
        var values = [Float]()
        for ch in 0..<channels {
            for od in 0..<out[0] {
                for oh in 0..<out[1] {
                    for ow in 0..<out[2] {
                        var acc: Float = isMax ? -.infinity : 0
                        var inside = 0, padded = 0
                        for kd in 0..<kernel[0] {
                            for kh in 0..<kernel[1] {
                                for kw in 0..<kernel[2] {
                                    let at = [od * strides[0] + kd * dilations[0] - pads[0],
                                              oh * strides[1] + kh * dilations[1] - pads[1],
                                              ow * strides[2] + kw * dilations[2] - pads[2]]
                                    if (0..<3).allSatisfy({ at[$0] < dims[$0] + pads[$0 + 3] }) { padded += 1 }
                                    guard (0..<3).allSatisfy({ (0..<dims[$0]).contains(at[$0]) }) else { continue }
                                    let v = x[((ch * dims[0] + at[0]) * dims[1] + at[1]) * dims[2] + at[2]]
                                    acc = isMax ? Swift.max(acc, v) : acc + v
                                    inside += 1
                                }
                            }
                        }
                        values.append(isMax ? acc : acc / Float(countIncludePad ? padded : inside))
                    }
                }
            }
        }
        return ([1, channels] + out, values)
    }

    func testThreeDimensionalPoolsMatchDirectWindows() throws {
        let (channels, dims) = (2, [5, 6, 7])
        let x = ramp(channels * dims.reduce(1, *), seed: 6)
        let settings: [(kernel: [Int], strides: [Int], dilations: [Int], pads: [Int], ceil: Bool)] = [
            ([2, 3, 2], [2, 1, 2], [1, 2, 1], [1, 0, 1, 1, 1, 0], true),
            ([3, 2, 3], [1, 2, 3], [2, 1, 1], [0, 1, 1, 0, 0, 1], false),
            ([1, 1, 1], [1, 1, 1], [1, 1, 1], [0, 0, 0, 0, 0, 0], false),
        ]
        for s in settings {
            for (op, countIncludePad) in [("MaxPool", false), ("AveragePool", false), ("AveragePool", true)] {
                var model = ONNXModelBuilder()
                model.input("x", .float, [1, Int64(channels)] + dims.map(Int64.init))
                var attributes = [
                    attr("kernel_shape", ints: s.kernel.map(Int64.init)), attr("strides", ints: s.strides.map(Int64.init)),
                    attr("dilations", ints: s.dilations.map(Int64.init)), attr("pads", ints: s.pads.map(Int64.init)),
                    attr("ceil_mode", int: s.ceil ? 1 : 0),
                ]
                if countIncludePad { attributes.append(attr("count_include_pad", int: 1)) }
                model.node(op, ["x"], ["y"], attributes)
                model.outputs = ["y"]
                let expected = pool3d(
                    x, channels: channels, dims: dims, kernel: s.kernel, strides: s.strides, dilations: s.dilations,
                    pads: s.pads, ceil: s.ceil, max: op == "MaxPool", countIncludePad: countIncludePad)
                for (level, got) in try outputs(model, [Tensor(shape: [1, channels] + dims, floats: x)]) {
                    let what = "\(op) \(s) count_include_pad=\(countIncludePad) at \(level)"
                    XCTAssertEqual(got[0].shape, expected.shape, what)
                    // Max is exact; an average divides twice (per-axis counts), within rounding.
                    if op == "MaxPool" {
                        XCTAssertEqual(got[0].floats, expected.values, what)
                    } else {
                        XCTAssertNil(allcloseFailure(got[0].floats, expected.values, rtol: 1e-5, atol: 1e-6), what)
                    }
                }
            }
        }
    }

    func testThreeDimensionalMaxPoolIndicesAreRefused() throws {
        var model = ONNXModelBuilder()
        model.input("x", .float, [1, 1, 4, 4, 4])
        model.node("MaxPool", ["x"], ["y", "i"], name: "pool", [attr("kernel_shape", ints: [2, 2, 2])])
        model.outputs = ["y", "i"]
        let error = try XCTUnwrap(importError { _ = try model.load().standaloneGraph() })
        XCTAssertEqual(error.node, "node 'pool' (#0, MaxPool)")
        guard case .unsupportedOutput(index: 1, _) = error.kind else { return XCTFail("\(error)") }
    }

    func testFourDimensionalConvIsRefusedNamingTheNode() throws {
        var model = ONNXModelBuilder()
        model.input("x", .float, [1, 1, 2, 2, 2, 2])
        model.initializer(floatTensor("w", [1, 1, 1, 1, 1, 1], [1]))
        model.node("Conv", ["x", "w"], ["y"], name: "conv4d")
        model.outputs = ["y"]
        let error = try XCTUnwrap(importError { _ = try model.load().standaloneGraph() })
        XCTAssertEqual(error.node, "node 'conv4d' (#0, Conv)")
        guard case .unsupportedInput(index: 1, let message) = error.kind else { return XCTFail("\(error)") }
        XCTAssertTrue(message.contains("1-D, 2-D or 3-D"), message)
    }

    // MARK: - 3-D convolution

    /// Index of (a, b, c, d, e) in a row-major tensor of `dims`.
    private func flat(_ index: [Int], _ dims: [Int]) -> Int {
        zip(index, dims).reduce(0) { $0 * $1.1 + $1.0 }
    }

    func testThreeDimensionalConvMatchesDirectSum() throws {
        let (c, m, group) = (4, 6, 2)
        let dims = [5, 6, 4], kernel = [3, 2, 3]
        let strides = [2, 1, 2], dilations = [1, 2, 1], pads = [1, 0, 1, 2, 1, 0]
        let x = ramp(c * dims.reduce(1, *), seed: 10), w = ramp(m * (c / group) * kernel.reduce(1, *), seed: 11)
        let b = ramp(m, seed: 12)
        var model = ONNXModelBuilder()
        model.input("x", .float, [1, Int64(c)] + dims.map(Int64.init))
        model.initializer(floatTensor("w", [Int64(m), Int64(c / group)] + kernel.map(Int64.init), w))
        model.initializer(floatTensor("b", [Int64(m)], b))
        model.node("Conv", ["x", "w", "b"], ["y"], [
            attr("strides", ints: strides.map(Int64.init)), attr("dilations", ints: dilations.map(Int64.init)),
            attr("pads", ints: pads.map(Int64.init)), attr("group", int: Int64(group)),
        ])
        model.outputs = ["y"]
        let out = (0..<3).map { (a: Int) -> Int in
            let extent = dilations[a] * (kernel[a] - 1) + 1
            return (dims[a] + pads[a] + pads[a + 3] - extent) / strides[a] + 1
        }
        let perGroup = c / group
        var expected = [Float]()
        for o in 0..<m {
            for od in 0..<out[0] {
                for oh in 0..<out[1] {
                    for ow in 0..<out[2] {
                        var sum = b[o]
                        for ci in 0..<perGroup {
                            for kd in 0..<kernel[0] {
                                for kh in 0..<kernel[1] {
                                    for kw in 0..<kernel[2] {
                                        let at = [od * strides[0] + kd * dilations[0] - pads[0],
                                                  oh * strides[1] + kh * dilations[1] - pads[1],
                                                  ow * strides[2] + kw * dilations[2] - pads[2]]
                                        guard (0..<3).allSatisfy({ (0..<dims[$0]).contains(at[$0]) }) else { continue }
                                        let channel = o / (m / group) * perGroup + ci
                                        sum += x[flat([channel] + at, [c] + dims)] * w[flat([o, ci, kd, kh, kw], [m, perGroup] + kernel)]
                                    }
                                }
                            }
                        }
                        expected.append(sum)
                    }
                }
            }
        }
        for (level, got) in try outputs(model, [Tensor(shape: [1, c] + dims, floats: x)]) {
            XCTAssertEqual(got[0].shape, [1, m] + out, level)
            XCTAssertNil(allcloseFailure(got[0].floats, expected, rtol: 1e-5, atol: 1e-4), level)
        }
    }

    func testThreeDimensionalConvTransposeMatchesScatter() throws {
        let (c, m, group) = (2, 4, 2)
        let dims = [3, 4, 2], kernel = [2, 3, 2]
        let strides = [2, 1, 3], dilations = [2, 1, 1], pads = [1, 0, 1, 0, 1, 0], outputPadding = [1, 0, 2]
        let x = ramp(c * dims.reduce(1, *), seed: 13), w = ramp(c * (m / group) * kernel.reduce(1, *), seed: 14)
        let b = ramp(m, seed: 15)
        var model = ONNXModelBuilder()
        model.input("x", .float, [1, Int64(c)] + dims.map(Int64.init))
        model.initializer(floatTensor("w", [Int64(c), Int64(m / group)] + kernel.map(Int64.init), w))
        model.initializer(floatTensor("b", [Int64(m)], b))
        model.node("ConvTranspose", ["x", "w", "b"], ["y"], [
            attr("strides", ints: strides.map(Int64.init)), attr("dilations", ints: dilations.map(Int64.init)),
            attr("pads", ints: pads.map(Int64.init)), attr("output_padding", ints: outputPadding.map(Int64.init)),
            attr("group", int: Int64(group)),
        ])
        model.outputs = ["y"]
        let full = (0..<3).map { (a: Int) -> Int in
            let extent = dilations[a] * (kernel[a] - 1) + 1
            return strides[a] * (dims[a] - 1) + outputPadding[a] + extent
        }
        var scattered = [Float](repeating: 0, count: m * full.reduce(1, *))
        let (inPerGroup, outPerGroup) = (c / group, m / group)
        for ci in 0..<c {
            for mo in 0..<outPerGroup {
                let o = ci / inPerGroup * outPerGroup + mo
                for id in 0..<dims[0] {
                    for ih in 0..<dims[1] {
                        for iw in 0..<dims[2] {
                            let v = x[flat([ci, id, ih, iw], [c] + dims)]
                            for kd in 0..<kernel[0] {
                                for kh in 0..<kernel[1] {
                                    for kw in 0..<kernel[2] {
                                        let at = [id * strides[0] + kd * dilations[0], ih * strides[1] + kh * dilations[1],
                                                  iw * strides[2] + kw * dilations[2]]
                                        scattered[flat([o] + at, [m] + full)] += v * w[flat([ci, mo, kd, kh, kw], [c, outPerGroup] + kernel)]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let out = (0..<3).map { (a: Int) -> Int in full[a] - pads[a] - pads[a + 3] }
        var expected = [Float]()
        for o in 0..<m {
            for od in 0..<out[0] {
                for oh in 0..<out[1] {
                    for ow in 0..<out[2] {
                        expected.append(scattered[flat([o, od + pads[0], oh + pads[1], ow + pads[2]], [m] + full)] + b[o])
                    }
                }
            }
        }
        for (level, got) in try outputs(model, [Tensor(shape: [1, c] + dims, floats: x)]) {
            XCTAssertEqual(got[0].shape, [1, m] + out, level)
            XCTAssertNil(allcloseFailure(got[0].floats, expected, rtol: 1e-5, atol: 1e-4), level)
        }
    }

    // MARK: - MaxPool on u8, with indices

    func testMaxPoolOnU8AndItsIndices() throws {
        let x: [UInt8] = [3, 250, 7, 7, 0, 9, 255, 1, 4, 4, 2, 8]
        var model = ONNXModelBuilder()
        model.input("x", .uint8, [1, 1, 3, 4])
        model.node("MaxPool", ["x"], ["y"], [attr("kernel_shape", ints: [2, 2]), attr("pads", ints: [0, 0, 1, 0])])
        model.outputs = ["y"]
        for (level, got) in try outputs(model, [Tensor(shape: [1, 1, 3, 4], bytes: x)]) {
            XCTAssertEqual(got[0].dtype, .u8, level)
            XCTAssertEqual(got[0].integers, [250, 255, 255, 9, 255, 255, 4, 4, 8], level)
        }

        // Indices into the whole input: the second plane's start at 12.
        let f: [Float] = (0..<24).map { Float(($0 * 7) % 24) }
        var indexed = ONNXModelBuilder()
        indexed.input("x", .float, [1, 2, 3, 4])
        indexed.node("MaxPool", ["x"], ["y", "i"], [
            attr("kernel_shape", ints: [2, 2]), attr("strides", ints: [1, 2]), attr("storage_order", int: 1),
        ])
        indexed.outputs = ["y", "i"]
        var expectedValues = [Float](), expectedIndices = [Int]()
        for plane in 0..<2 {
            for oy in 0..<2 {
                for ox in 0..<2 {
                    let taps = [(oy, 2 * ox), (oy, 2 * ox + 1), (oy + 1, 2 * ox), (oy + 1, 2 * ox + 1)]
                    let best = taps.max { f[plane * 12 + $0.0 * 4 + $0.1] < f[plane * 12 + $1.0 * 4 + $1.1] }!
                    expectedValues.append(f[plane * 12 + best.0 * 4 + best.1])
                    expectedIndices.append(plane * 12 + best.1 * 3 + best.0)  // column-major: w·H + h
                }
            }
        }
        for (level, got) in try outputs(indexed, [Tensor(shape: [1, 2, 3, 4], floats: f)]) {
            XCTAssertEqual(got[0].floats, expectedValues, level)
            XCTAssertEqual(got[1].dtype, .i64, level)
            XCTAssertEqual(got[1].integers, expectedIndices, level)
        }
    }

    // MARK: - Resize

    private func resizeModel(_ x: [Int64], roi: [Float], sizes: [Int64], _ attributes: [Onnx_AttributeProto]) -> ONNXModelBuilder {
        var m = ONNXModelBuilder(opset: 19)
        m.input("x", .float, x)
        m.initializer(floatTensor("roi", [Int64(roi.count)], roi))
        m.initializer(floatTensor("scales", [0], []))
        m.initializer(int64Tensor("sizes", [Int64(sizes.count)], sizes))
        m.node("Resize", ["x", "roi", "scales", "sizes"], ["y"], name: "resize", attributes)
        m.outputs = ["y"]
        return m
    }

    /// Antialiased linear downscaling is a triangle filter stretched by 1/scale and
    /// normalized: written out here for a 9 → 4 axis (scale 4/9, half-pixel centres).
    func testAntialiasedLinearDownscaleIsTheStretchedTriangleFilter() throws {
        let x = ramp(2 * 9, seed: 7)
        let model = resizeModel([1, 1, 2, 9], roi: [], sizes: [1, 1, 2, 4], [attr("mode", string: "linear"), attr("antialias", int: 1)])
        let scale = 4.0 / 9.0
        var expected = [Float]()
        for row in 0..<2 {
            for o in 0..<4 {
                let centre = (Double(o) + 0.5) / scale - 0.5
                var sum = 0.0, total = 0.0
                for i in -4..<13 {
                    let weight = max(0, 1 - abs(Double(i) - centre) * scale)
                    sum += weight * Double(x[row * 9 + min(max(i, 0), 8)])
                    total += weight
                }
                expected.append(Float(sum / total))
            }
        }
        for (level, got) in try outputs(model, [Tensor(shape: [1, 1, 2, 9], floats: x)]) {
            XCTAssertNil(allcloseFailure(got[0].floats, expected, rtol: 1e-5, atol: 1e-6), level)
        }
    }

    /// When upscaling, antialias changes nothing (the kernel is not stretched; its weights
    /// already sum to 1).
    func testAntialiasLeavesUpscalingAsItIs() throws {
        let x = ramp(3 * 4, seed: 8)
        for mode in ["linear", "cubic"] {
            let plain = try outputs(resizeModel([1, 1, 3, 4], roi: [], sizes: [1, 1, 7, 9], [attr("mode", string: mode)]), [Tensor(shape: [1, 1, 3, 4], floats: x)])
            let antialiased = try outputs(
                resizeModel([1, 1, 3, 4], roi: [], sizes: [1, 1, 7, 9], [attr("mode", string: mode), attr("antialias", int: 1)]),
                [Tensor(shape: [1, 1, 3, 4], floats: x)])
            for ((level, a), (_, b)) in zip(plain, antialiased) {
                XCTAssertNil(allcloseFailure(b[0].floats, a[0].floats, rtol: 1e-6, atol: 1e-6), "\(mode) at \(level)")
            }
        }
    }

    /// tf_crop_and_resize over the whole input is align_corners; a region reaching past the
    /// input fills the outputs whose source is outside with extrapolation_value.
    func testCropAndResizeOverTheWholeInputIsAlignCornersAndExtrapolates() throws {
        let x = ramp(4 * 5, seed: 9)
        let input = [Tensor(shape: [1, 1, 4, 5], floats: x)]
        for mode in ["linear", "cubic"] {
            let whole = resizeModel([1, 1, 4, 5], roi: [0, 0, 0, 0, 1, 1, 1, 1], sizes: [1, 1, 7, 3], [
                attr("mode", string: mode), attr("coordinate_transformation_mode", string: "tf_crop_and_resize"),
            ])
            let corners = resizeModel([1, 1, 4, 5], roi: [], sizes: [1, 1, 7, 3], [
                attr("mode", string: mode), attr("coordinate_transformation_mode", string: "align_corners"),
            ])
            for ((level, a), (_, b)) in zip(try outputs(whole, input), try outputs(corners, input)) {
                XCTAssertNil(allcloseFailure(a[0].floats, b[0].floats, rtol: 1e-6, atol: 1e-6), "\(mode) at \(level)")
            }
        }
        // Rows from 0.5·3 to 1.5·3 in 3 steps: 1.5, 3, 4.5 — the last is outside. Columns
        // (axis 3, given through `axes`) from 0 to 0.5·4 = 2 in 2 steps: 0 and 2.
        let outside = resizeModel([1, 1, 4, 5], roi: [0.5, 0, 1.5, 0.5], sizes: [3, 2], [
            attr("mode", string: "linear"), attr("coordinate_transformation_mode", string: "tf_crop_and_resize"),
            attr("extrapolation_value", float: -7), attr("axes", ints: [2, 3]),
        ])
        let at = { (r: Int, c: Int) in x[r * 5 + c] }
        let expected: [Float] = [
            (at(1, 0) + at(2, 0)) / 2, (at(1, 2) + at(2, 2)) / 2, at(3, 0), at(3, 2), -7, -7,
        ]
        for (level, got) in try outputs(outside, input) {
            XCTAssertEqual(got[0].shape, [1, 1, 3, 2], level)
            XCTAssertNil(allcloseFailure(got[0].floats, expected, rtol: 1e-6, atol: 1e-6), level)
        }
    }

    /// Nearest cropping rounds the same source coordinates (round_prefer_floor by default).
    func testCropAndResizeWithNearest() throws {
        let x = ramp(4 * 5, seed: 9)
        let model = resizeModel([1, 1, 4, 5], roi: [0.5, 0, 1.5, 0.5], sizes: [3, 2], [
            attr("mode", string: "nearest"), attr("coordinate_transformation_mode", string: "tf_crop_and_resize"),
            attr("extrapolation_value", float: -7), attr("axes", ints: [2, 3]),
        ])
        // Rows 1.5 → 1, 3 → 3, 4.5 outside; columns 0 and 2.
        let expected: [Float] = [x[1 * 5], x[1 * 5 + 2], x[3 * 5], x[3 * 5 + 2], -7, -7]
        for (level, got) in try outputs(model, [Tensor(shape: [1, 1, 4, 5], floats: x)]) {
            XCTAssertEqual(got[0].floats, expected, level)
        }

        // After a convolution oneDNN runs channels-last, the resize runs on NHWC with its
        // region permuted (assign-layouts): an identity 1×1 convolution keeps the values.
        let channels = ramp(2 * 4 * 5, seed: 16)
        var nhwc = ONNXModelBuilder(opset: 19)
        nhwc.input("x", .float, [1, 2, 4, 5])
        nhwc.initializer(floatTensor("w", [2, 2, 1, 1], [1, 0, 0, 1]))
        nhwc.initializer(floatTensor("roi", [4], [0.5, 0, 1.5, 0.5]))
        nhwc.initializer(floatTensor("scales", [0], []))
        nhwc.initializer(int64Tensor("sizes", [2], [3, 2]))
        nhwc.node("Conv", ["x", "w"], ["c"])
        nhwc.node("Resize", ["c", "roi", "scales", "sizes"], ["y"], [
            attr("mode", string: "nearest"), attr("coordinate_transformation_mode", string: "tf_crop_and_resize"),
            attr("extrapolation_value", float: -7), attr("axes", ints: [2, 3]),
        ])
        nhwc.outputs = ["y"]
        let perChannel = (0..<2).flatMap { c -> [Float] in
            let at = { (r: Int, col: Int) in channels[(c * 4 + r) * 5 + col] }
            return [at(1, 0), at(1, 2), at(3, 0), at(3, 2), -7, -7]
        }
        for (level, got) in try outputs(nhwc, [Tensor(shape: [1, 2, 4, 5], floats: channels)]) {
            XCTAssertEqual(got[0].shape, [1, 2, 3, 2], level)
            XCTAssertEqual(got[0].floats, perChannel, level)
        }
        if Target.host.backends.contains(.dnnl) {
            let passes = OptimizationLevel.passes(for: .O2, target: .host)
            let (optimized, _) = try PassManager(passes: passes).run(try nhwc.load().standaloneGraph())
            let text = IRPrinter.print(optimized)
            XCTAssertTrue(text.contains("%y : f32[1,3,2,2] = interpolate(%c)"), text)
            XCTAssertTrue(text.contains("roi=[0.0,0.5,0.0,0.0,1.0,1.5,0.5,1.0]"), text)
        }
    }
}
