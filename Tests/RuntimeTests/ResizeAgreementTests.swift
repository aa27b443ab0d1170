import Foundation
import IR
import Kernels
import TestSupport
import XCTest

/// The resize kernels against OpenCV and Pillow on real photos: the references
/// `scripts/compare_resize.py` writes (cv2.resize INTER_LINEAR / INTER_NEAREST / INTER_AREA,
/// Pillow Image.resize BILINEAR and LANCZOS) of chelsea, astronaut and the 2560x1600 wallpaper.
final class ResizeAgreementTests: XCTestCase {
    private struct Case {
        let source: String, file: String, method: String
        let height: Int, width: Int
        let maxDifference: Int
        let meanDifference: Double?
    }

    private static let referenceFolder = TestPaths.asset("references/resize")

    private static func interpolation(_ method: String) -> Kernels.Interpolation? {
        let methods: [String: Kernels.Interpolation] = [
            "cv2-linear": .bilinear, "cv2-nearest": .nearest, "cv2-area": .area, "pil-bilinear": .antialiasedBilinear,
            "pil-lanczos": .lanczos,
        ]
        return methods[method]
    }

    private func cases() throws -> [Case] {
        let manifest = Self.referenceFolder.appendingPathComponent("manifest.json")
        guard TestPaths.exists(manifest) else { throw XCTSkip("resize references missing: run scripts/setup") }
        let entries = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: manifest)) as? [[String: Any]])
        return try entries.map { entry in
            let size = try XCTUnwrap(entry["size"] as? [Int])
            let tolerance = try XCTUnwrap(entry["tolerance"] as? [String: Double])
            return Case(
                source: try XCTUnwrap(entry["source"] as? String), file: try XCTUnwrap(entry["file"] as? String),
                method: try XCTUnwrap(entry["method"] as? String), height: size[0], width: size[1],
                maxDifference: Int(try XCTUnwrap(tolerance["max"])), meanDifference: tolerance["mean"])
        }
    }

    private func load(_ name: String) throws -> Tensor {
        try NumPyFormat.decode([UInt8](Data(contentsOf: Self.referenceFolder.appendingPathComponent(name))))
    }

    private func bytes(_ tensor: Tensor) throws -> [UInt8] {
        guard case .u8(let values) = tensor.data else { throw XCTSkip("reference is not u8") }
        return values
    }

    func testEveryReferenceWithinItsBar() throws {
        var sources: [String: Tensor] = [:]
        var checked: Set<String> = []
        for c in try cases() {
            let interpolation = try XCTUnwrap(Self.interpolation(c.method), "unknown method \(c.method)")
            let source = try sources[c.source] ?? load(c.source)
            sources[c.source] = source
            let (h, w, channels) = (source.shape[0], source.shape[1], source.shape[2])
            let plan = try ResizePlan(
                sourceHeight: h, sourceWidth: w, resizedHeight: c.height, resizedWidth: c.width,
                interpolation: interpolation)
            var ours = [UInt8](repeating: 0, count: c.height * c.width * channels)
            let pixels = try bytes(source)
            try pixels.withUnsafeBufferPointer { src in
                try ours.withUnsafeMutableBufferPointer { dst in
                    // Two row bands, as two threads would run them.
                    for rows in [0..<(c.height / 3), (c.height / 3)..<c.height] {
                        try plan.resize(
                            src, sourceStride: w * channels, channels: channels, into: dst,
                            destinationStride: c.width * channels, rows: rows)
                    }
                }
            }
            let reference = try bytes(try load(c.file))
            XCTAssertEqual(reference.count, ours.count, c.file)
            var histogram = [Int](repeating: 0, count: 256)
            ours.withUnsafeBufferPointer { a in
                reference.withUnsafeBufferPointer { b in
                    for i in 0..<min(a.count, b.count) { histogram[Int(a[i] > b[i] ? a[i] - b[i] : b[i] - a[i])] += 1 }
                }
            }
            let largest = histogram.lastIndex { $0 > 0 } ?? 0
            let total = histogram.indices.reduce(0) { $0 + $1 * histogram[$1] }
            let mean = Double(total) / Double(max(1, ours.count))
            XCTAssertLessThanOrEqual(largest, c.maxDifference, "\(c.file): largest difference")
            if let bar = c.meanDifference { XCTAssertLessThanOrEqual(mean, bar, "\(c.file): mean difference") }
            checked.insert(c.method)
        }
        XCTAssertEqual(checked, ["cv2-linear", "cv2-nearest", "cv2-area", "pil-bilinear", "pil-lanczos"])
    }
}
