import IR

/// Which operand dtypes each op runs on. Checked once when an `Executable` is created, from
/// the graph's declared types (dtypes never change per request), so a graph the runtime
/// cannot run fails before any request, naming the op and its value.
enum OpSupport {
    static func unsupportedReason(_ node: Node, inputTypes: [TensorType]) -> String? {
        if [.conv, .convTranspose, .maxPool, .averagePool, .globalAveragePool].contains(node.op), node.backend != .dnnl,
           ShapeInference.channelsLast(node.attributes) || node.attributes["residual"] != nil {
            return "channels-last and residual forms run on the dnnl backend only (this node is on \(node.backend.rawValue))"
        }
        let dtypes = inputTypes.map(\.dtype)
        // bf16 values exist only between convolutions oneDNN runs in bf16 (and views of them).
        // cast converts between any two dtypes, bf16 included.
        if node.op != .cast, dtypes.contains(.bf16) || node.attributes.string("result_dtype") != nil {
            let dnnlConv = node.op == .conv && node.backend == .dnnl && dtypes.dropFirst().allSatisfy { $0 == .f32 }
            if !dnnlConv && !Planner.viewOps.contains(node.op) {
                return "operands are \(dtypes.map(\.rawValue).joined(separator: ", ")); bf16 runs only in dnnl convolutions"
            }
            return nil
        }
        func all(_ allowed: Set<DType>, _ what: String) -> String? {
            dtypes.allSatisfy(allowed.contains) ? nil
                : "operands are \(dtypes.map(\.rawValue).joined(separator: ", ")); expected \(what)"
        }
        switch node.op {
        case .queue, .forEach, .collect:
            return "a stage boundary (batching queue, fan-out or fan-in): StagedExecutable runs such graphs, one plan per stage"
        case .nms, .dbBoxes, .perspectiveCrop, .textLines, .resizeByScale, .mtcnnPNetBoxes, .mtcnnMerge, .mtcnnRefine, .mtcnnFaces, .detections:
            return "its result size depends on the data, so no plan can size it: StagedExecutable runs it between plans"
        case .const, .decodeJPEG, .cast, .shape, .reshape, .flatten, .squeeze, .unsqueeze, .identity, .transpose:
            return nil
        case .resize, .preprocess, .letterbox:
            return all([.u8], "u8 images")
        case .resizeLike:
            return dtypes[0] == .u8 ? nil : "expected a u8 image to resize (and any HWC image to take the size of)"
        case .divideByMax:
            return all([.u8, .f32], "u8 or f32")
        case .cutout:
            return all([.u8], "a u8 image and a u8 mask")
        case .padSpatial:
            return all([.u8, .f32], "u8 or f32 images")
        case .crop, .convertColor, .tileBoxes:
            return all([.u8, .f32], "u8 or f32 images")
        case .pyramidScales:
            return all([.u8], "a u8 image")
        case .mtcnnCrop, .cropResize:
            return dtypes == [.u8, .f32] ? nil : "expected a u8 image and an f32 box"
        case .rotate180If:
            return dtypes == [.u8, .f32] ? nil : "expected a u8 image and f32 probabilities"
        case .ctcDecode, .mapBoxes:
            return all([.f32, .u8], "f32 values (and u8 images for map_boxes' sizes)")
        case .cropBox:
            return dtypes.count == 2 && [.u8, .f32].contains(dtypes[0]) && dtypes[1] == .f32 ? nil : "expected a u8 or f32 image and an f32 box"
        case .concat:
            return Set(dtypes).count <= 1 ? nil : "operands mix dtypes \(dtypes.map(\.rawValue).joined(separator: ", "))"
        case .add, .sub, .mul, .div, .sum, .min, .max:
            guard Set(dtypes).count <= 1 else { return "operands mix dtypes \(dtypes.map(\.rawValue).joined(separator: ", "))" }
            return all([.f32, .i32, .i64, .u8], "f32, i32, i64 or u8")
        case .equal, .less, .greater, .lessOrEqual, .greaterOrEqual:
            return all([.f32, .i32, .i64, .u8, .bool], "f32, i32, i64, u8 or bool (other types compute in these)")
        case .and, .or, .xor, .not:
            return all([.bool], "bool")
        case .select:
            return Set(dtypes.dropFirst()).count == 1 && dtypes[0] == .bool && [1, 2, 4, 8].contains(dtypes[1].byteSize) ? nil
                : "operands are \(dtypes.map(\.rawValue).joined(separator: ", ")); expected a bool condition and two branches of one dtype"
        case .constantOfShape:
            return all([.i64, .i32], "an integer shape operand")
        case .slice:
            return nil
        case .gather:
            return [.i32, .i64].contains(dtypes[1]) ? nil : "indices are \(dtypes[1].rawValue); expected i32 or i64"
        case .pow:
            return [.f32, .i32, .i64].contains(dtypes[0]) ? nil : "base is \(dtypes[0].rawValue); expected f32, i32 or i64 (the exponent may be f32, i32, i64 or u8)"
        case .dflBoxes, .gridDecode, .topCells:
            return all([.f32], "f32 per-cell maps")
        case .convTranspose, .prelu, .hardSigmoid, .hardSwish, .sqrt, .round, .reduceMean, .interpolate, .lrn, .minMaxNormalize:
            return all([.f32], "f32")
        case .clip:
            // Integer clip (ONNX Clip on int8 and the rest) takes its bounds from attributes.
            return dtypes.count == 1 && [.i32, .i64, .u8].contains(dtypes[0]) ? nil : all([.f32], "f32 (or one i32, i64 or u8 operand)")
        case .normalize, .conv, .gemm, .matmul, .batchNorm, .relu, .sigmoid,
             .maxPool, .averagePool, .globalAveragePool, .softmax, .topk:
            return all([.f32], "f32")
        }
    }
}
