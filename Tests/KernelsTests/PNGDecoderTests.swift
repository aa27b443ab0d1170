import Foundation
@testable import Kernels
import TestSupport
import XCTest

/// The PNG decoder against Pillow on every kind of PNG (scripts/png_reference.py, in .venv,
/// writes the files and Pillow's pixels), and its errors on broken files.
final class PNGDecoderTests: XCTestCase {
    /// The reference files, made in a temporary folder for the calling test.
    private func references() throws -> URL {
        let python = TestPaths.repositoryRoot.appendingPathComponent(".venv/bin/python")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("visionc-png-\(getpid())-\(name.hashValue)")
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = python
        process.arguments = [
            TestPaths.repositoryRoot.appendingPathComponent("scripts/png_reference.py").path,
            TestPaths.asset("images/chelsea.jpg").path, folder.path,
        ]
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "scripts/png_reference.py failed")
        return folder
    }

    private func decode(_ file: Data, color: JPEGDecodeOptions.Color, pixelLimit: Int = 1 << 26) throws -> [UInt8] {
        try file.withUnsafeBytes { bytes in
            let header = try PNGDecoder.readHeader(bytes)
            let shape = PNGDecoder.outputShape(header: header, color: color)
            var output = [UInt8](repeating: 0, count: shape.height * shape.width * shape.channels)
            try output.withUnsafeMutableBytes { try PNGDecoder.decode(bytes, into: $0, color: color, pixelLimit: pixelLimit) }
            return output
        }
    }

    func testEveryKindEqualsPillow() throws {
        let python = TestPaths.repositoryRoot.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else { return XCTFail("\(python.path) is missing: run scripts/setup") }
        let folder = try references()
        let kinds = ["rgb8", "rgba8", "gray8", "graya8", "palette", "palette-trns", "gray1", "rgb16", "gray16", "interlaced"]
        for kind in kinds {
            let file = try Data(contentsOf: folder.appendingPathComponent("\(kind).png"))
            let header = try file.withUnsafeBytes { try PNGDecoder.readHeader($0) }
            XCTAssertEqual([header.width, header.height], [131, 77], kind)
            XCTAssertTrue(file.withUnsafeBytes { PNGDecoder.isPNG($0) }, kind)
            let rgb = [UInt8](try Data(contentsOf: folder.appendingPathComponent("\(kind).rgb.raw")))
            let gray = [UInt8](try Data(contentsOf: folder.appendingPathComponent("\(kind).gray.raw")))
            XCTAssertEqual(try decode(file, color: .rgb), rgb, "\(kind) as RGB")
            XCTAssertEqual(try decode(file, color: .gray), gray, "\(kind) as gray")
            var bgr = rgb
            for pixel in stride(from: 0, to: bgr.count, by: 3) { bgr.swapAt(pixel, pixel + 2) }
            XCTAssertEqual(try decode(file, color: .bgr), bgr, "\(kind) as BGR")
        }
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("interlaced.png"))[28], 1, "the Adam7 file is interlaced")
    }

    func testBrokenFilesAreClearErrors() throws {
        let python = TestPaths.repositoryRoot.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else { return XCTFail("\(python.path) is missing: run scripts/setup") }
        let file = try Data(contentsOf: try references().appendingPathComponent("rgb8.png"))
        // Cut inside the image data: the header reads, the decode says where it broke.
        let truncated = file.prefix(file.count / 2)
        XCTAssertNoThrow(try truncated.withUnsafeBytes { try PNGDecoder.readHeader($0) })
        XCTAssertThrowsError(try decode(truncated, color: .rgb)) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
        // A flipped byte in the header chunk fails its CRC.
        var corrupt = file
        corrupt[20] ^= 0xFF
        XCTAssertThrowsError(try corrupt.withUnsafeBytes { try PNGDecoder.readHeader($0) }) {
            XCTAssertTrue("\($0)".hasPrefix("PNG decode: header unreadable"), "\($0)")
        }
        // The signature alone.
        XCTAssertThrowsError(try file.prefix(8).withUnsafeBytes { try PNGDecoder.readHeader($0) })
        // Over the pixel limit: refused before any row is read.
        XCTAssertThrowsError(try decode(file, color: .rgb, pixelLimit: 131 * 77 - 1)) { error in
            XCTAssertEqual(error as? PNGError, .tooLarge(width: 131, height: 77, limit: 131 * 77 - 1))
        }
        // A JPEG is not a PNG.
        let jpeg = try Data(contentsOf: TestPaths.asset("images/chelsea.jpg"))
        XCTAssertFalse(jpeg.withUnsafeBytes { PNGDecoder.isPNG($0) })
    }

    /// The encoder's files decode to the pixels it was given (gray and RGB whole; RGBA and gray
    /// with alpha to their colour, the decoder dropping alpha), with the header saying the kind;
    /// what a PNG cannot hold is an error.
    func testEncodedFilesDecodeToTheirPixels() throws {
        let (height, width) = (9, 14)
        for channels in 1...4 {
            let pixels = Noise.bytes(height * width * channels, seed: UInt32(channels))
            let file = try pixels.withUnsafeBufferPointer { try PNGEncoder.encode($0, height: height, width: width, channels: channels) }
            let header = try Data(file).withUnsafeBytes { try PNGDecoder.readHeader($0) }
            XCTAssertEqual([header.width, header.height, header.bitDepth, header.colorType], [width, height, 8, [0, 4, 2, 6][channels - 1]])
            let color: JPEGDecodeOptions.Color = channels < 3 ? .gray : .rgb
            let colours = channels < 3 ? 1 : 3
            let expected = (0..<(height * width)).flatMap { p in pixels[(p * channels)..<(p * channels + colours)] }
            XCTAssertEqual(try decode(Data(file), color: color), expected, "\(channels) channels")
        }
        let pixels = [UInt8](repeating: 7, count: 10)
        XCTAssertThrowsError(try pixels.withUnsafeBufferPointer { try PNGEncoder.encode($0, height: 1, width: 2, channels: 5) }) { error in
            XCTAssertTrue("\(error)".contains("5 channels"), "\(error)")
        }
        XCTAssertThrowsError(try pixels.withUnsafeBufferPointer { try PNGEncoder.encode($0, height: 2, width: 2, channels: 3) }) { error in
            XCTAssertTrue("\(error)".contains("needs at least 12"), "\(error)")
        }
    }
}
