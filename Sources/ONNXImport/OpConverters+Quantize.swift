import IR

/// QuantizeLinear and DequantizeLinear in terms of the IR's f32 arithmetic, so a QDQ model
/// runs dequantized: every Conv reads `(q − zero_point) · scale` in f32, as ONNX defines the
/// pair (and as ONNX Runtime computes it with its QDQ fusions turned off). Per-tensor and
/// per-axis scales (opset 13+); the blocked form (opset 21 `block_size`) is not supported.
extension OpConverters {
    /// DequantizeLinear: `(f32(x) − f32(zero_point)) · scale`, scale and zero point broadcast
    /// along `axis` when they are 1-D of that axis's extent.
    static func dequantizeLinear(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(2...3)
        let x = try importer.input(node, 0)
        let name = node.resultName
        let (scale, zeroPoint) = try quantizationParameters(&importer, node)
        var value = try importer.emit(.cast, [x], ["to": .string(DType.f32.rawValue)], name: name + "_f32")
        if let zeroPoint {
            let offset = try importer.emit(.cast, [zeroPoint], ["to": .string(DType.f32.rawValue)], name: name + "_zero_point_f32")
            value = try importer.emit(.sub, [value, offset], name: name + "_centred")
        }
        return [try importer.emit(.mul, [value, scale], name: name)]
    }

    /// QuantizeLinear: `saturate(round_half_even(x / scale) + zero_point)` in the zero point's
    /// type (`output_dtype`, else u8): u8, i8, u16 or i16.
    static func quantizeLinear(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> [ValueID] {
        try node.expectInputs(2...3)
        let x = try importer.input(node, 0)
        let name = node.resultName
        let target: DType
        if node.proto.input.count > 2, !node.proto.input[2].isEmpty {
            target = try importer.storageType(of: node.proto.input[2])
        } else if let raw = try node.int("output_dtype"), raw != 0 {
            target = try TensorDecoding.dtype(Int32(clamping: raw))
        } else {
            target = .u8
        }
        let range: ClosedRange<Float>
        switch target {
        case .u8: range = 0...255
        case .i8: range = -128...127
        case .u16: range = 0...65535
        case .i16: range = -32768...32767
        default:
            throw ONNXImportError(.unsupportedDType("\(target.rawValue) quantized values (expected u8, i8, u16 or i16)"))
        }
        if try node.int("saturate", default: 1) == 0 {
            throw ONNXImportError(.unsupportedAttribute(name: "saturate", "applies to float8 outputs only, which are not supported"))
        }
        let (scale, zeroPoint) = try quantizationParameters(&importer, node)
        let scaled = try importer.emit(.div, [x, scale], name: name + "_scaled")
        var value = try importer.emit(.round, [scaled], name: name + "_rounded")
        if let zeroPoint {
            let offset = try importer.emit(.cast, [zeroPoint], ["to": .string(DType.f32.rawValue)], name: name + "_zero_point_f32")
            value = try importer.emit(.add, [value, offset], name: name + "_shifted")
        }
        let clipped = try importer.emit(
            .clip, [value], ["min": .float(range.lowerBound), "max": .float(range.upperBound)], name: name + "_saturated")
        return [try importer.emit(.cast, [clipped], ["to": .string(target.arithmetic.rawValue)], name: name)]
    }

    /// Scale (f32) and zero point of a Quantize/DequantizeLinear node, shaped to broadcast onto
    /// its input: as given when per-tensor (one element), else `[C, 1, …]` for `axis`.
    private static func quantizationParameters(_ importer: inout ModelImporter, _ node: ONNXNode) throws -> (ValueID, ValueID?) {
        if try node.int("block_size", default: 0) != 0 {
            throw ONNXImportError(.unsupportedAttribute(name: "block_size", "blocked quantization is not supported; per-tensor and per-axis are"))
        }
        let x = try importer.input(node, 0)
        var scale = try importer.input(node, 1)
        var zeroPoint = try importer.optionalInput(node, 2)
        let xType = importer.graph.type(of: x), scaleType = importer.graph.type(of: scale)
        guard scaleType.dtype == .f32 else {
            throw ONNXImportError(.unsupportedInput(index: 1, "scale is \(scaleType); expected a float tensor"))
        }
        if let zeroPoint, importer.graph.type(of: zeroPoint).elementCount != scaleType.elementCount {
            throw ONNXImportError(.unsupportedInput(
                index: 2, "zero point \(importer.graph.type(of: zeroPoint)) and scale \(scaleType) must have as many elements"))
        }
        if scaleType.elementCount == 1 { return (scale, zeroPoint) }
        var axis = try node.int("axis", default: 1)
        if axis < 0 { axis += xType.rank }
        guard scaleType.rank == 1, (0..<xType.rank).contains(axis), scaleType.shape[0] == xType.shape[axis] || xType.shape[axis].value == nil else {
            throw ONNXImportError(.unsupportedInput(
                index: 1, "per-axis scale \(scaleType) must be 1-D with the extent of axis \(axis) of the input \(xType)"))
        }
        let trailing = Array(1..<(xType.rank - axis))
        guard !trailing.isEmpty else { return (scale, zeroPoint) }
        let name = node.resultName
        scale = try importer.emit(.unsqueeze, [scale], ["axes": .ints(trailing)], name: name + "_scale_per_axis")
        if let z = zeroPoint, importer.graph.type(of: z).rank == 1 {
            zeroPoint = try importer.emit(.unsqueeze, [z], ["axes": .ints(trailing)], name: name + "_zero_point_per_axis")
        }
        return (scale, zeroPoint)
    }
}
