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

    /// IR dtype of an ONNX element type, for graph inputs and tensors (a storage type where
    /// the IR computes the values in a wider one: `DType.arithmetic`).
    static func dtype(_ raw: Int32) throws -> DType {
        switch ElementType(rawValue: Int(raw)) {
        case .float: .f32
        case .int64: .i64
        case .int32: .i32
        case .uint8: .u8
        case .bool: .bool
        case .int8: .i8
        case .int16: .i16
        case .uint16: .u16
        case .uint32: .u32
        case .uint64: .u64
        case .float16: .f16
        case .double: .f64
        case .bfloat16: .bf16
        // float8, int4 and the rest: packed formats with no IR storage (see the README).
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

    /// Decodes a tensor stored in the model (typed fields or little-endian `raw_data`) in its
    /// type's arithmetic type (`DType.arithmetic`): f16 and bf16 widen to f32 exactly, DOUBLE
    /// rounds to f32, the narrow integers widen to i32 or i64, as every op computes them.
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
        case .bool, .int8, .int16, .uint16, .float16, .bfloat16:
            // Typed data of these is widened to int32 in the proto (f16 and bf16 as bit patterns).
            let storage = try dtype(proto.dataType)
            let words: [Int32]
            if storage.byteSize == 1, let bytes = try elements(field: proto.int32Data, fieldName: "int32_data", stored: UInt8.self) {
                words = bytes.map { Int32(storage == .i8 ? Int32(Int8(bitPattern: $0)) : Int32($0)) }
            } else if storage.byteSize == 2, let halves = try elements(field: proto.int32Data, fieldName: "int32_data", stored: UInt16.self) {
                words = halves.map { storage == .i16 ? Int32(Int16(bitPattern: $0)) : Int32($0) }
            } else {
                words = proto.int32Data
            }
            return Tensor(shape: shape, data: try widened(words, storage, bad))
        case .uint32, .uint64:
            let storage = try dtype(proto.dataType)
            let values: [UInt64]
            if storage == .u32, let raw32 = try elements(field: proto.uint64Data, fieldName: "uint64_data", stored: UInt32.self) {
                values = raw32.map(UInt64.init)
            } else {
                values = try elements(field: proto.uint64Data, fieldName: "uint64_data", stored: UInt64.self) ?? proto.uint64Data
            }
            let data: TensorData = storage == .u32 ? .u32(try values.map { v in
                guard let w = UInt32(exactly: v) else { throw bad("UINT32 element \(v) out of range") }
                return w
            }) : .u64(values)
            return Tensor(shape: shape, data: data.converted(to: storage.arithmetic))
        default:
            throw ONNXImportError(.unsupportedDType("\(self.name(proto.dataType)) tensor '\(name)'"))
        }
    }

    /// The int32 words a proto holds for a type of at most 16 bits, checked to fit it, as its
    /// arithmetic type (bf16 bit patterns straight to f32, the rest through their own type).
    private static func widened(_ words: [Int32], _ storage: DType, _ bad: (String) -> ONNXImportError) throws -> TensorData {
        func narrowed<T: FixedWidthInteger>(_: T.Type) throws -> [T] {
            try words.map { w in
                guard let v = T(exactly: w) else { throw bad("\(storage.rawValue) element \(w) out of range") }
                return v
            }
        }
        let data: TensorData = switch storage {
        case .bool: .bool(try narrowed(UInt8.self).map { $0 != 0 })
        case .i8: .i8(try narrowed(Int8.self))
        case .i16: .i16(try narrowed(Int16.self))
        case .u16: .u16(try narrowed(UInt16.self))
        case .f16: .f16(try narrowed(UInt16.self).map(Float16.init(bitPattern:)))
        default: .f32(try narrowed(UInt16.self).map { Float(bitPattern: UInt32($0) << 16) })  // bf16
        }
        return data.converted(to: storage.arithmetic)
    }
}
