/// The NumPy `.npy` file format (version 1.0 written; 1.0, 2.0 and 3.0 read), for `visionc run
/// --save`, reference files made by the project's Python scripts, and tests. Bytes in, bytes
/// out: callers do the file I/O. Only what a `Tensor` holds is supported: little-endian
/// `b1`, `u1`, `i1`, `i2`, `u2`, `i4`, `u4`, `i8`, `u8`, `f2`, `f4`, `f8` in C order.
///
/// Layout: magic `\x93NUMPY`, major and minor version bytes, the header length (u16 for 1.0,
/// u32 after), then an ASCII Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 224, 224), }` padded with spaces
/// and a newline so the data starts at a multiple of 64 bytes.
public enum NumPyFormat {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    static let alignment = 64

    /// The `.npy` bytes of `tensor`.
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        let shape: String = switch tensor.shape.count {
        case 0: "()"
        case 1: "(\(tensor.shape[0]),)"
        default: "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = Array("{'descr': '\(descriptor(of: tensor.dtype))', 'fortran_order': False, 'shape': \(shape), }".utf8)
        // Version 1.0 prefix: magic (6) + version (2) + u16 length (2).
        let prefixLength = magic.count + 4
        let padded = (prefixLength + header.count + 1 + alignment - 1) / alignment * alignment
        header += Array(repeating: UInt8(ascii: " "), count: padded - prefixLength - header.count - 1)
        header.append(UInt8(ascii: "\n"))
        var bytes = magic + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
        bytes.reserveCapacity(bytes.count + tensor.count * tensor.dtype.byteSize)
        tensor.data.withUnsafeBytes { bytes += $0 }  // every host this runs on is little-endian
        return bytes
    }

    /// The tensor stored in `.npy` bytes.
    /// - Throws: `NumPyFormatError` naming what is wrong: not an .npy file, an unsupported
    ///   dtype or Fortran order, a malformed header, or fewer data bytes than the shape needs.
    public static func decode(_ bytes: [UInt8]) throws(NumPyFormatError) -> Tensor {
        guard bytes.count >= magic.count + 4, Array(bytes[0..<magic.count]) == magic else {
            throw NumPyFormatError("not a NumPy .npy file (it does not start with \\x93NUMPY)")
        }
        let major = bytes[magic.count]
        let lengthOffset = magic.count + 2
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[lengthOffset]) | Int(bytes[lengthOffset + 1]) << 8
            headerStart = lengthOffset + 2
        case 2, 3:
            guard bytes.count >= lengthOffset + 4 else { throw NumPyFormatError("header length is cut off") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[lengthOffset + $1]) << (8 * $1) }
            headerStart = lengthOffset + 4
        default:
            throw NumPyFormatError("format version \(major).\(bytes[magic.count + 1]) (expected 1.0, 2.0 or 3.0)")
        }
        guard headerStart + headerLength <= bytes.count else {
            throw NumPyFormatError("header of \(headerLength) bytes runs past the end of the \(bytes.count)-byte file")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let (dtype, shape) = try parseHeader(header)
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw NumPyFormatError("shape \(shape) has too many elements") }
            count = product
        }
        let dataStart = headerStart + headerLength
        let (needed, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes.count - dataStart >= needed else {
            throw NumPyFormatError(
                "shape \(shape) of \(dtype.rawValue) needs \(count) elements but the file holds \(bytes.count - dataStart) data bytes")
        }
        let data = bytes[dataStart..<(dataStart + needed)]
        let tensorData = data.withUnsafeBytes { TensorData.copying(dtype, from: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: count) }
        return Tensor(shape: shape, data: tensorData)
    }

    /// NumPy's `descr` of each dtype; bf16 has none (tensors never hold it: values copied out widen to f32).
    static let descriptors: [DType: String] = [
        .bool: "|b1", .u8: "|u1", .i8: "|i1", .i16: "<i2", .u16: "<u2", .i32: "<i4", .u32: "<u4", .i64: "<i8", .u64: "<u8",
        .f16: "<f2", .f32: "<f4", .f64: "<f8",
    ]

    static func descriptor(of dtype: DType) -> String { descriptors[dtype] ?? "<f4" }

    /// `descr`, `fortran_order` and `shape` from the header's dict literal.
    static func parseHeader(_ header: String) throws(NumPyFormatError) -> (DType, [Int]) {
        func value(of key: String) throws(NumPyFormatError) -> Substring {
            let pattern = Array("'\(key)':"), characters = Array(header)
            guard let at = characters.indices.first(where: { characters[$0...].starts(with: pattern) }) else {
                throw NumPyFormatError("header \(header.trimmingSpaces) has no '\(key)'")
            }
            return Substring(characters[(at + pattern.count)...]).drop { $0 == " " }
        }
        let descrText = try value(of: "descr")
        guard descrText.first == "'", let end = descrText.dropFirst().firstIndex(of: "'") else {
            throw NumPyFormatError("header's 'descr' is not a quoted string: \(header.trimmingSpaces)")
        }
        let descr = String(descrText[descrText.index(after: descrText.startIndex)..<end])
        var dtypes: [String: DType] = ["<u1": .u8, "u1": .u8, "<b1": .bool, "<i1": .i8]
        for (dtype, d) in descriptors { dtypes[d] = dtype }
        guard let dtype = dtypes[descr] else {
            let known = descriptors.values.sorted().joined(separator: ", ")
            throw NumPyFormatError("dtype '\(descr)' (expected one of \(known), little-endian)")
        }
        guard try value(of: "fortran_order").hasPrefix("False") else {
            throw NumPyFormatError("Fortran-order arrays are not supported (save with np.ascontiguousarray)")
        }
        let shapeText = try value(of: "shape")
        guard shapeText.first == "(", let close = shapeText.firstIndex(of: ")") else {
            throw NumPyFormatError("header's 'shape' is not a tuple: \(header.trimmingSpaces)")
        }
        var shape: [Int] = []
        for item in shapeText[shapeText.index(after: shapeText.startIndex)..<close].split(separator: ",") {
            let digits = item.filter { $0 != " " && $0 != "L" }
            guard !digits.isEmpty else { continue }
            guard let dim = Int(digits), dim >= 0 else {
                throw NumPyFormatError("shape entry '\(item)' is not a non-negative integer")
            }
            shape.append(dim)
        }
        return (dtype, shape)
    }
}

/// A `.npy` file that cannot be read.
public struct NumPyFormatError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = "npy: \(description)" }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        let trimmed = drop { $0 == " " }
        return trimmed.prefix(while: { $0 != "\n" })
    }
}
