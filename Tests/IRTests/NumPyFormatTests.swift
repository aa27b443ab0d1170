import IR
import XCTest

final class NumPyFormatTests: XCTestCase {
    func testRoundTripOfEveryDtypeKeepsShapeAndValues() throws {
        let tensors = [
            Tensor(shape: [2, 3, 1], bytes: [0, 1, 2, 253, 254, 255]),
            Tensor(shape: [3], data: .i32([-1, 0, Int32.max])),
            Tensor(shape: [1, 2], int64s: [Int64.min, 42]),
            Tensor(shape: [2, 2], floats: [0.5, -1.25, .infinity, 3e-38]),
            Tensor(shape: [], floats: [7]),
        ]
        for tensor in tensors {
            let bytes = NumPyFormat.encode(tensor)
            XCTAssertEqual(Array(bytes[0..<8]), [0x93] + Array("NUMPY".utf8) + [1, 0])
            let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            XCTAssertEqual((10 + headerLength) % 64, 0, "data must start 64-byte aligned")
            XCTAssertEqual(try NumPyFormat.decode(bytes), tensor)
        }
    }

    /// The header NumPy 2 writes for np.arange(6, dtype=np.uint8).reshape(2, 3).
    func testReadsNumPysOwnHeader() throws {
        var header = Array("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }".utf8)
        header += Array(repeating: UInt8(ascii: " "), count: 118 - header.count - 1) + [UInt8(ascii: "\n")]
        let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + header + [0, 1, 2, 3, 4, 5]
        XCTAssertEqual(try NumPyFormat.decode(bytes), Tensor(shape: [2, 3], bytes: [0, 1, 2, 3, 4, 5]))
    }

    /// Every dtype a tensor holds writes and reads back unchanged (NumPy's descr for each).
    func testEveryTensorDTypeRoundTrips() throws {
        let tensors: [TensorData] = [
            .bool([true, false]), .i8([-128, 127]), .i16([-300, 300]), .u16([0, 65535]), .u32([0, 4_000_000_000]),
            .u64([0, UInt64.max]), .f16([1.5, -.infinity]), .f64([0.1, -2]), .u8([0, 255]), .i32([-1, 2]), .i64([-1, 2]),
            .f32([0.5, 3]),
        ]
        for data in tensors {
            let tensor = Tensor(shape: [2], data: data)
            XCTAssertEqual(try NumPyFormat.decode(NumPyFormat.encode(tensor)), tensor, "\(data.dtype)")
        }
    }

    func testBadFilesAreClearErrors() {
        let good = NumPyFormat.encode(Tensor(shape: [4], floats: [1, 2, 3, 4]))
        let cases: [([UInt8], String)] = [
            (Array("PK\u{3}\u{4}".utf8), "not a NumPy .npy file"),
            (Array(good.dropLast(3)), "needs 4 elements"),
            (replacing(Array("<f4".utf8), with: Array("<c8".utf8), in: good), "dtype '<c8'"),
            (replacing(Array("False".utf8), with: Array("True ".utf8), in: good), "Fortran-order"),
        ]
        for (bytes, fragment) in cases {
            XCTAssertThrowsError(try NumPyFormat.decode(bytes)) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error)")
            }
        }
    }
}

/// `bytes` with the first occurrence of `pattern` replaced by the same-length `replacement`.
private func replacing(_ pattern: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
    guard let at = bytes.indices.first(where: { bytes[$0...].starts(with: pattern) }) else { return bytes }
    var result = bytes
    result.replaceSubrange(at..<(at + pattern.count), with: replacement)
    return result
}
