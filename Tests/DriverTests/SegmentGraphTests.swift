import Driver
import Foundation
import IR
import Kernels
import Passes
import TestSupport
import XCTest

/// Graphs/segment.yaml (U²-Netp background removal) against rembg on real photos: the masks
/// rembg's own `new_session("u2netp").predict` gives (assets/references/segment/, written by
/// `scripts/compare_segment.py --reference`), judged as that script judges them: IoU of the
/// masks binarized at 128, the mean absolute alpha difference and the share of equal pixels.
final class SegmentGraphTests: XCTestCase {
    private struct Reference: Decodable {
        struct Image: Decodable {
            var image: String
            var mask: String
            var size: [Int]
        }
        var iouMin: Double
        var meanDifferenceMax: Double
        var equalMin: Double
        var images: [Image]
    }

    private static let graph = TestPaths.repositoryRoot.appendingPathComponent("Graphs/segment.yaml").path
    private static let folder = TestPaths.asset("references/segment")

    private func reference() throws -> Reference {
        guard TestPaths.exists(TestPaths.asset("models/u2netp.onnx")) else { throw XCTSkip("u2netp.onnx missing (run scripts/setup)") }
        let manifest = Self.folder.appendingPathComponent("segment.json")
        guard TestPaths.exists(manifest) else { throw XCTSkip("segment references missing (run scripts/compare_segment.py --reference)") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Reference.self, from: Data(contentsOf: manifest))
    }

    private func grayPNG(_ url: URL) throws -> [UInt8] {
        let file = try Data(contentsOf: url)
        return try file.withUnsafeBytes { bytes in
            let header = try PNGDecoder.readHeader(bytes)
            var pixels = [UInt8](repeating: 0, count: header.width * header.height)
            try pixels.withUnsafeMutableBytes { out in
                try PNGDecoder.decode(bytes, into: out, color: .gray, pixelLimit: header.width * header.height)
            }
            return pixels
        }
    }

    /// Checks two masks of one size against the reference's bars: IoU at 128, mean absolute
    /// difference, share of equal pixels.
    private func assertAgrees(_ ours: [UInt8], _ theirs: [UInt8], _ reference: Reference, _ what: String) {
        var (both, either, total, equal) = (0, 0, 0, 0)
        for (a, b) in zip(ours, theirs) {
            both += a >= 128 && b >= 128 ? 1 : 0
            either += a >= 128 || b >= 128 ? 1 : 0
            total += abs(Int(a) - Int(b))
            equal += a == b ? 1 : 0
        }
        let count = Double(max(1, ours.count))
        XCTAssertGreaterThanOrEqual(either == 0 ? 1 : Double(both) / Double(either), reference.iouMin, "\(what): IoU at 128")
        XCTAssertLessThanOrEqual(Double(total) / count, reference.meanDifferenceMax, "\(what): mean |alpha difference|")
        XCTAssertGreaterThanOrEqual(Double(equal) / count, reference.equalMin, "\(what): share of equal pixels")
    }

    func testMasksAgreeWithRembgOnEveryReferencePhoto() throws {
        let reference = try reference()
        XCTAssertGreaterThanOrEqual(reference.images.count, 3)
        let runner = try PipelineRunner(try Compiler.compile(path: Self.graph, options: CompileOptions()))
        for entry in reference.images {
            let result = try runner.run(path: TestPaths.asset(entry.image).path)
            let mask = try XCTUnwrap(result.outputs.first)
            XCTAssertEqual(mask.shape, entry.size + [1], "\(entry.image): the mask has the photo's size")
            guard case .u8(let ours) = mask.data, mask.shape == entry.size + [1] else { continue }
            assertAgrees(ours, try grayPNG(Self.folder.appendingPathComponent(entry.mask)), reference, entry.image)
        }
    }

    /// -O0 runs every op on its own; the mask is the same up to float rounding (within the
    /// same bar), and PNG input is read as the JPEG is.
    func testUnfusedGraphAgreesToo() throws {
        let reference = try reference()
        let entry = try XCTUnwrap(reference.images.first { $0.image.hasSuffix(".png") })
        let runner = try PipelineRunner(try Compiler.compile(path: Self.graph, options: CompileOptions(level: .O0)))
        let mask = try XCTUnwrap(try runner.run(path: TestPaths.asset(entry.image).path).outputs.first)
        guard case .u8(let ours) = mask.data else { return XCTFail("the mask is \(mask.dtype)") }
        assertAgrees(ours, try grayPNG(Self.folder.appendingPathComponent(entry.mask)), reference, "\(entry.image) at -O0")
    }

    /// The mask `visionc run` writes is a gray PNG that decodes to the output's pixels.
    func testImageOutputsRoundTripThroughPNG() throws {
        let pixels = Noise.bytes(7 * 5, seed: 3)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("segment-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: path) }
        try ImageFile.writePNG(Tensor(shape: [7, 5, 1], bytes: pixels), to: path.path)
        XCTAssertEqual(try grayPNG(path), pixels)
        XCTAssertEqual(ImageFile.outputPath(input: "/photos/cat.jpg", output: "mask", folder: "out"), URL(fileURLWithPath: "out/cat.mask.png").path)
        XCTAssertThrowsError(try ImageFile.writePNG(Tensor(shape: [2, 2], floats: [0, 1, 2, 3]), to: path.path)) { error in
            XCTAssertTrue("\(error)".contains("u8 HWC image"), "\(error)")
        }
    }
}
