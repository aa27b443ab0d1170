import Foundation
import IR

/// ONNX `TensorProto` → IR `Tensor`, and ONNX element types → IR dtypes.
///
/// Element counts are checked against the dims before anything is allocated, so a
/// malformed or hostile file cannot make the importer allocate more than its data holds.
enum TensorDecoding {
    /// Largest tensor accepted (elements): beyond it the dims are corrupt, not a real weight.
    static let maxElements = 1 << 31

    typealias ElementType = Onnx_TensorProto.DataType

    /// IR dtype of an ONNX element type, for graph inputs and tensors.
    static func dtype(_ raw: Int32) throws -> DType {
        switch ElementType(rawValue: Int(raw)) {
        case .float: .f32
        case .int64: .i64
        case .int32: .i32
        case .uint8: .u8
        default: throw ONNXImportError(.unsupportedDType(name(raw)))
        }
    }

    /// ONNX's spelling of an element type (`FLOAT`, `INT8`, …) for messages.
    static func name(_ raw: Int32) -> String {
        guard let type = ElementType(rawValue: Int(raw)) else { return "element type \(raw)" }
        return String(describing: type).uppercased()
    }

    /// Element count of `dims`, rejecting negative dims, overflow and absurd sizes.
    static func elementCount(_ dims: [Int64], tensor: String) throws -> Int {
        var count = 1
        for d in dims {
            guard d >= 0 else { throw ONNXImportError(.badTensorData(tensor: tensor, "negative dim in \(dims)")) }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, product <= maxElements else {
                throw ONNXImportError(.badTensorData(tensor: tensor, "dims \(dims) exceed \(maxElements) elements"))
            }
            count = product
        }
        return count
    }

    /// Decodes a tensor stored in the model (typed fields or little-endian `raw_data`).
    /// DOUBLE tensors are narrowed to f32, the only float type the IR has.
    static func tensor(_ proto: Onnx_TensorProto, name: String) throws -> Tensor {
        func bad(_ message: String) -> ONNXImportError { ONNXImportError(.badTensorData(tensor: name, message)) }
        guard proto.dataLocation != .external else {
            throw bad("its data is stored in an external file, which is not supported; re-save the model with the weights inside")
        }
        guard !proto.hasSegment else { throw bad("segmented tensors are not supported") }
        let count = try elementCount(proto.dims, tensor: name)
        let shape = proto.dims.map { Int($0) }
        let raw = proto.hasRawData ? proto.rawData : nil

        /// The typed field, or `raw_data` read as little-endian elements of `Stored`.
        func elements<Stored: FixedWidthInteger, Field>(
            field: [Field], fieldName: String, stored: Stored.Type
        ) throws -> [Stored]? {
            if let raw {
                guard raw.count == count * MemoryLayout<Stored>.size else {
                    throw bad("raw_data has \(raw.count) bytes, dims \(proto.dims) need \(count * MemoryLayout<Stored>.size)")
                }
                return raw.withUnsafeBytes { bytes in
                    (0..<count).map { Stored(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<Stored>.size, as: Stored.self)) }
                }
            }
            guard field.count == count else {
                throw bad("\(fieldName) has \(field.count) elements, dims \(proto.dims) need \(count)")
            }
            return nil
        }

        let type = ElementType(rawValue: Int(proto.dataType))
        switch type {
        case .float:
            let floats = try elements(field: proto.floatData, fieldName: "float_data", stored: UInt32.self)?
                .map(Float.init(bitPattern:)) ?? proto.floatData
            return Tensor(shape: shape, data: .f32(floats))
        case .double:
            let doubles = try elements(field: proto.doubleData, fieldName: "double_data", stored: UInt64.self)?
                .map(Double.init(bitPattern:)) ?? proto.doubleData
            return Tensor(shape: shape, data: .f32(doubles.map(Float.init)))
        case .int64:
            let ints = try elements(field: proto.int64Data, fieldName: "int64_data", stored: Int64.self) ?? proto.int64Data
            return Tensor(shape: shape, data: .i64(ints))
        case .int32:
            let ints = try elements(field: proto.int32Data, fieldName: "int32_data", stored: Int32.self) ?? proto.int32Data
            return Tensor(shape: shape, data: .i32(ints))
        case .uint8:
            if let bytes = try elements(field: proto.int32Data, fieldName: "int32_data", stored: UInt8.self) {
                return Tensor(shape: shape, data: .u8(bytes))
            }
            // Typed u8 data is widened to int32 in the proto; each must still fit a byte.
            var bytes: [UInt8] = []
            bytes.reserveCapacity(count)
            for v in proto.int32Data {
                guard let b = UInt8(exactly: v) else { throw bad("UINT8 element \(v) out of range") }
                bytes.append(b)
            }
            return Tensor(shape: shape, data: .u8(bytes))
        case .int8:
            throw ONNXImportError(.unsupportedDType("INT8 tensor '\(name)' (quantized models are not supported yet)"))
        default:
            throw ONNXImportError(.unsupportedDType("\(self.name(proto.dataType)) tensor '\(name)'"))
        }
    }
}
