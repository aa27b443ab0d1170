import CTurboJPEG
import Foundation
import Synchronization
import TestSupport
import XCTest

@testable import Kernels

/// Scan pruning and restart bands (`JPEGStreamLayout`), on the full-size files that
/// `scripts/make_test_data.py` makes from chelsea with Pillow and jpegtran (Tests/Data/README.md).
final class JPEGStreamRebuildTests: XCTestCase {
    private let eighth = try! JPEGScale(num: 1, denom: 8)
    private let quarter = try! JPEGScale(num: 1, denom: 4)
    private let half = try! JPEGScale(num: 1, denom: 2)

    private func load(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: TestPaths.testData(name)))
    }

    private func layout(_ jpeg: [UInt8], requiringRestartInterval: Bool = false) -> JPEGStreamLayout? {
        jpeg.withUnsafeBytes { JPEGStreamLayout(scanning: $0, requiringRestartInterval: requiringRestartInterval) }
    }

    /// TurboJPEG's own decode (`tjDecompress2`, no flags): what every path must reproduce.
    private func turboJPEG(_ jpeg: [UInt8], scale: JPEGScale, color: JPEGDecodeOptions.Color = .rgb) throws -> [UInt8] {
        let header = try jpeg.withUnsafeBytes { try JPEGDecoder().readHeader($0) }
        let (width, height) = JPEGDecoder.decodedSize(header: header, scale: scale)
        var pixels = [UInt8](repeating: 0, count: width * height * color.channels)
        guard let handle = tjInitDecompress() else { throw XCTSkip("tjInitDecompress failed") }
        defer { tjDestroy(handle) }
        let format = color == .rgb ? TJPF_RGB : color == .bgr ? TJPF_BGR : TJPF_GRAY
        let status = jpeg.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { output in
                tjDecompress2(
                    handle, source.baseAddress, UInt(source.count), output.baseAddress, Int32(width), 0, Int32(height),
                    format.rawValue, 0)
            }
        }
        XCTAssertEqual(status, 0, String(cString: tjGetErrorStr2(handle)))
        return pixels
    }

    /// The stream made of `ranges` of `jpeg`, decoded with libjpeg's API.
    private func libjpeg(
        _ jpeg: [UInt8], ranges: [Range<Int>]? = nil, scale: JPEGScale, color: JPEGDecodeOptions.Color = .rgb,
        blockSmoothing: Bool
    ) throws -> [UInt8] {
        let header = try jpeg.withUnsafeBytes { try JPEGDecoder().readHeader($0) }
        let (width, height) = JPEGDecoder.decodedSize(header: header, scale: scale)
        var pixels = [UInt8](repeating: 0, count: width * height * color.channels)
        try jpeg.withUnsafeBytes { bytes in
            var stream = LibJPEGStream()
            for range in ranges ?? [0..<jpeg.count] { stream.append(bytes, range) }
            try pixels.withUnsafeMutableBufferPointer { output in
                try stream.decode(
                    into: output.baseAddress!, capacity: output.count, width: width, color: color, scale: scale,
                    blockSmoothing: blockSmoothing, rows: height)
            }
        }
        return pixels
    }

    private func decode(
        _ jpeg: [UInt8], scale: JPEGScale, color: JPEGDecodeOptions.Color = .rgb, parallel: (any ParallelLoop)? = nil
    ) throws -> [UInt8] {
        try jpeg.withUnsafeBytes {
            try JPEGDecoder().decode($0, options: JPEGDecodeOptions(color: color, scale: scale), parallel: parallel).pixels
        }
    }

    private func scanCount(_ ranges: [Range<Int>], in layout: JPEGStreamLayout) -> Int {
        layout.scans.filter { scan in ranges.contains { $0.contains(scan.range.lowerBound) } }.count
    }

    // MARK: - Scan pruning

    func testReducedIDCTsReadTheCoefficientsOfJidctred() {
        XCTAssertEqual(JPEGStreamLayout.coefficientsRead(byIDCTOfSize: 1).indices.filter { JPEGStreamLayout.coefficientsRead(byIDCTOfSize: 1)[$0] }, [0])
        let twoByTwo = JPEGStreamLayout.coefficientsRead(byIDCTOfSize: 2)
        // Zigzag 1 is (0,1), 2 is (1,0), 3 is (2,0) — row 2 is skipped — and 4 is (1,1).
        XCTAssertEqual(Array(twoByTwo[0..<5]), [true, true, true, false, true])
        XCTAssertEqual(twoByTwo.filter { $0 }.count, 25)
        let fourByFour = JPEGStreamLayout.coefficientsRead(byIDCTOfSize: 4)
        XCTAssertEqual(fourByFour.filter { $0 }.count, 49)
        XCTAssertFalse(fourByFour[10], "zigzag 10 is (4,0)")
        XCTAssertTrue(JPEGStreamLayout.coefficientsRead(byIDCTOfSize: 8).allSatisfy { $0 })
    }

    func testChromaOf420GetsTheLargerIDCTLibjpegChooses() throws {
        let layout = try XCTUnwrap(layout(try load("chelsea-progressive-420.jpg")))
        let sizes = layout.frame.components.map { layout.idctSize(of: $0, at: eighth) }
        XCTAssertEqual(sizes, [1, 2, 2])
        XCTAssertEqual(layout.frame.components.map { layout.idctSize(of: $0, at: half) }, [4, 8, 8])
        XCTAssertNil(layout.idctSize(of: layout.frame.components[0], at: .full))
    }

    /// Pruned decode = the original at the same scale with block smoothing off = TurboJPEG's
    /// decode of the original, bit for bit; and the pruned stream is what the decoder uses.
    func testPrunedDecodeEqualsTheFullDecodeWithAndWithoutSmoothing() throws {
        // (file, scale, scans kept or nil when nothing can be dropped)
        let cases: [(String, JPEGScale, Int?)] = [
            ("chelsea-progressive-420.jpg", eighth, 6),  // Y's AC scans go; chroma's 2×2 IDCT keeps theirs
            ("chelsea-progressive-420.jpg", quarter, nil),
            ("chelsea-progressive-420.jpg", half, nil),
            ("chelsea-progressive-444.jpg", eighth, 2),  // DC first scan (Al=1) and its refinement
            ("chelsea-progressive-444.jpg", quarter, nil),
            ("chelsea-progressive-444.jpg", half, nil),
            ("chelsea-progressive-bands.jpg", eighth, 1),  // one DC scan, no successive approximation
            ("chelsea-progressive-bands.jpg", quarter, 6),  // Y 3-3, its refinement and 10-10 go
            ("chelsea-progressive-bands.jpg", half, 8),  // Y 10-10 goes
        ]
        for (name, scale, keptScans) in cases {
            let jpeg = try load(name)
            let layout = try XCTUnwrap(layout(jpeg), name)
            let ranges = layout.prunedRanges(at: scale)
            XCTAssertEqual(ranges.map { scanCount($0, in: layout) }, keptScans, "\(name) at \(scale)")
            let full = try libjpeg(jpeg, scale: scale, blockSmoothing: false)
            XCTAssertTrue(try full == turboJPEG(jpeg, scale: scale), "\(name) at \(scale): smoothing changes a complete file")
            XCTAssertTrue(try decode(jpeg, scale: scale) == full, "\(name) at \(scale): decoder")
            guard let ranges else { continue }
            XCTAssertLessThan(ranges.reduce(0) { $0 + $1.count }, jpeg.count)
            XCTAssertTrue(try libjpeg(jpeg, ranges: ranges, scale: scale, blockSmoothing: false) == full, "\(name) at \(scale): pruned")
        }
        let jpeg = try load("chelsea-progressive-420.jpg")
        for color in [JPEGDecodeOptions.Color.bgr, .gray] {
            XCTAssertTrue(try decode(jpeg, scale: eighth, color: color) == turboJPEG(jpeg, scale: eighth, color: color), "\(color)")
        }
    }

    /// Why smoothing must be off: libjpeg estimates the missing AC coefficients of a pruned
    /// stream from neighbouring DC values, and at 1/8 it moves the DC values themselves.
    func testAPrunedStreamDecodedWithSmoothingDiffers() throws {
        let jpeg = try load("chelsea-progressive-444.jpg")
        let ranges = try XCTUnwrap(layout(jpeg)?.prunedRanges(at: eighth))
        XCTAssertTrue(
            try libjpeg(jpeg, ranges: ranges, scale: eighth, blockSmoothing: true)
                != libjpeg(jpeg, ranges: ranges, scale: eighth, blockSmoothing: false))
    }

    /// A file whose scans leave coefficient 3 at reduced precision is smoothed by the full
    /// decode too (seen at 1/2, whose 4×4 IDCT reads it), so pruning would not be exact: it is
    /// not pruned, at any scale.
    func testFileWithIncompleteCoefficientsIsNotPruned() throws {
        let original = try load("chelsea-progressive-bands.jpg")
        let scans = try XCTUnwrap(layout(original)).scans
        let refinement = try XCTUnwrap(scans.last)
        XCTAssertEqual(refinement.approximationHigh, 1)
        let jpeg = Array(original[..<refinement.range.lowerBound]) + Array(original[refinement.range.upperBound...])
        let incomplete = try XCTUnwrap(layout(jpeg))
        XCTAssertFalse(incomplete.completesSmoothedCoefficients)
        XCTAssertNil(incomplete.prunedRanges(at: eighth))
        XCTAssertNil(incomplete.prunedRanges(at: half))
        XCTAssertTrue(try turboJPEG(jpeg, scale: half) != libjpeg(jpeg, scale: half, blockSmoothing: false))
        for scale in [eighth, half] {
            XCTAssertTrue(try decode(jpeg, scale: scale) == turboJPEG(jpeg, scale: scale), "\(scale)")
        }
    }

    /// A truncated file has no intact structure, so it is not pruned: TurboJPEG decodes it and
    /// reports it, even where the missing bytes are in a scan the scale would skip.
    func testTruncatedProgressiveFileIsAnError() throws {
        let original = try load("chelsea-progressive-444.jpg")
        let lastScan = try XCTUnwrap(layout(original)?.scans.last)
        for length in [original.count * 6 / 10, lastScan.range.upperBound - 10, original.count - 2] {
            let jpeg = Array(original[..<length])
            XCTAssertNil(layout(jpeg), "cut at \(length)")
            for scale in [eighth, quarter, JPEGScale.full] {
                XCTAssertThrowsError(try decode(jpeg, scale: scale), "cut at \(length), \(scale)") { error in
                    guard case .corruptData(let message) = error as? JPEGError else { return XCTFail("\(error)") }
                    XCTAssertTrue(message.contains("Premature end"), message)
                }
            }
        }
    }

    /// Damage inside a scan the pruned stream keeps is reported by libjpeg, as TurboJPEG would.
    func testCorruptKeptScanIsAnError() throws {
        let original = try load("chelsea-progressive-444.jpg")
        let dcScan = try XCTUnwrap(layout(original)?.scans.first)
        let cut = dcScan.dataStart + (dcScan.range.upperBound - dcScan.dataStart) / 2
        let jpeg = Array(original[..<cut]) + Array(original[(dcScan.range.upperBound - 16)...])
        XCTAssertNotNil(layout(jpeg)?.prunedRanges(at: eighth))
        XCTAssertThrowsError(try decode(jpeg, scale: eighth)) { error in
            guard case .corruptData(let message) = error as? JPEGError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("Corrupt JPEG data"), message)
        }
    }

    /// A scan header whose spectral band is reversed (Ss > Se) is no stream to rebuild: the
    /// layout refuses it and the decode is TurboJPEG's error, not a trap.
    func testReversedSpectralBandIsAnErrorNotATrap() throws {
        var jpeg = try load("chelsea-progressive-bands.jpg")
        let scan = try XCTUnwrap(layout(jpeg)?.scans[1])
        XCTAssertEqual([scan.spectralStart, scan.spectralEnd], [1, 2])
        // The SOS payload ends with Ss, Se, Ah/Al: Ss is the third byte before the data.
        jpeg[scan.dataStart - 3] = 5
        XCTAssertNil(layout(jpeg))
        XCTAssertThrowsError(try decode(jpeg, scale: eighth)) { error in
            XCTAssertNotNil(error as? JPEGError, "\(error)")
        }
    }

    // MARK: - Restart bands

    /// Runs each range on its own thread, as the runtime's pool does.
    private struct ConcurrentLoop: ParallelLoop {
        let threadCount: Int

        func parallelRanges(count: Int, minChunk: Int, _ body: (Range<Int>) throws -> Void) throws {
            let firstError = Mutex<(any Error)?>(nil)
            withoutActuallyEscaping(body) { body in
                nonisolated(unsafe) let body = body
                DispatchQueue.concurrentPerform(iterations: count) { index in
                    do { try body(index..<index + 1) } catch {
                        firstError.withLock { if $0 == nil { $0 = error } }
                    }
                }
            }
            if let error = firstError.withLock({ $0 }) { throw error }
        }
    }

    func testRestartBandsAreCutAtMultiplesOfEightIntervalsWithChromaContext() throws {
        // 451×300 4:2:0: 29 MCUs of 16×16 per row, 19 rows, an interval per row.
        let layout420 = try XCTUnwrap(layout(try load("chelsea-restart-420.jpg"), requiringRestartInterval: true))
        let bands420 = try XCTUnwrap(layout420.restartBands(count: 3))
        XCTAssertEqual(bands420.map(\.writtenRows), [0..<8, 8..<19])
        XCTAssertEqual(bands420.map(\.decodedRows), [0..<16, 0..<19], "4:2:0 needs the chroma rows across each cut")
        XCTAssertEqual(bands420.map(\.height), [256, 300])
        // 4:4:4 has no vertical upsampling: no context rows. 38 rows of 8.
        let layout444 = try XCTUnwrap(layout(try load("chelsea-restart-444.jpg"), requiringRestartInterval: true))
        let bands444 = try XCTUnwrap(layout444.restartBands(count: 4))
        XCTAssertEqual(bands444.map(\.writtenRows), [0..<8, 8..<16, 16..<24, 24..<38])
        XCTAssertEqual(bands444.map(\.decodedRows), bands444.map(\.writtenRows))
        XCTAssertEqual(bands444.last?.height, 300 - 24 * 8)
        // Every 5 MCUs with 29 per row: the first row boundary on 8 intervals is row 40, past the end.
        XCTAssertNil(try XCTUnwrap(layout(try load("chelsea-restart-unaligned.jpg"))).restartBands(count: 2))
        XCTAssertNil(layout(try load("chelsea-small.jpg"), requiringRestartInterval: true), "no DRI")
    }

    func testRestartBandDecodeEqualsTheSerialDecode() throws {
        for name in ["chelsea-restart-420.jpg", "chelsea-restart-444.jpg", "chelsea-restart-unaligned.jpg"] {
            let jpeg = try load(name)
            for scale in [JPEGScale.full, half, eighth, try JPEGScale(num: 3, denom: 8)] {
                for color in [JPEGDecodeOptions.Color.rgb, .gray] {
                    for threads in [2, 3, 8] {
                        XCTAssertTrue(
                            try decode(jpeg, scale: scale, color: color, parallel: ConcurrentLoop(threadCount: threads))
                                == turboJPEG(jpeg, scale: scale, color: color), "\(name) \(scale) \(color) \(threads) threads")
                    }
                }
            }
        }
    }

    func testCorruptRestartFileIsAnErrorInBands() throws {
        let original = try load("chelsea-restart-444.jpg")
        let parallel = ConcurrentLoop(threadCount: 2)
        let truncated = Array(original[..<(original.count * 7 / 10)])
        XCTAssertThrowsError(try decode(truncated, scale: .full, parallel: parallel)) { error in
            guard case .corruptData = error as? JPEGError else { return XCTFail("\(error)") }
        }
        // Half of the second band's first interval removed: the band's own decoder finds the RST early.
        let bands = try XCTUnwrap(layout(original)?.restartBands(count: 2))
        let start = bands[1].data.lowerBound
        let damaged = Array(original[..<(start + 20)]) + Array(original[(start + 60)...])
        XCTAssertNotNil(layout(damaged)?.restartBands(count: 2))
        XCTAssertThrowsError(try decode(damaged, scale: .full, parallel: parallel)) { error in
            guard case .corruptData(let message) = error as? JPEGError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("Corrupt JPEG data"), message)
        }
    }

    // MARK: - Region decode

    /// The region decode (rows skipped, iMCU columns cropped with a margin) equals TurboJPEG's
    /// whole decode inside the region, on every kind of file the decoder rebuilds streams for,
    /// at several scales and colours, over windows that touch every edge and none.
    func testRegionDecodeEqualsTheWholeDecodeInsideTheRegion() throws {
        let files = [
            "chelsea-small.jpg", "chelsea-progressive.jpg", "chelsea-progressive-420.jpg", "chelsea-progressive-444.jpg",
            "chelsea-progressive-bands.jpg", "chelsea-gray.jpg", "chelsea-restart-420.jpg", "chelsea-restart-unaligned.jpg",
        ]
        var generator = Noise(seed: 14)
        var limited = 0
        for name in files {
            let jpeg = try load(name)
            let header = try jpeg.withUnsafeBytes { try JPEGDecoder().readHeader($0) }
            for scale in [JPEGScale.full, half, try JPEGScale(num: 3, denom: 8), eighth] {
                let (width, height) = JPEGDecoder.decodedSize(header: header, scale: scale)
                for color in [JPEGDecodeOptions.Color.rgb, .bgr, .gray] {
                    let whole = try turboJPEG(jpeg, scale: scale, color: color)
                    var windows = [
                        PixelRect(y: 0, x: 0, height: height, width: width),
                        PixelRect(y: height / 3, x: width / 3, height: max(1, height / 3), width: max(1, width / 3)),
                        PixelRect(y: height - 1, x: width - 1, height: 1, width: 1),
                    ]
                    for _ in 0..<4 {
                        let y = Int(generator.next()) % height, x = Int(generator.next()) % width
                        windows.append(PixelRect(
                            y: y, x: x, height: 1 + Int(generator.next()) % (height - y),
                            width: 1 + Int(generator.next()) % (width - x)))
                    }
                    for window in windows {
                        // Filled with a marker, so pixels the decode did not write show outside the window.
                        var pixels = [UInt8](repeating: 0xA5, count: width * height * color.channels)
                        var options = JPEGDecodeOptions(color: color, scale: scale)
                        options.region = window
                        _ = try jpeg.withUnsafeBytes { bytes in
                            try pixels.withUnsafeMutableBytes { try JPEGDecoder().decode(bytes, into: $0, options: options) }
                        }
                        var differing = 0
                        for row in window.y..<window.y + window.height {
                            let begin = (row * width + window.x) * color.channels, end = begin + window.width * color.channels
                            differing += zip(pixels[begin..<end], whole[begin..<end]).filter { $0 != $1 }.count
                        }
                        XCTAssertEqual(differing, 0, "\(name) \(scale) \(color) \(window)")
                        // Unwritten pixels still hold the marker, so the image as a whole differs.
                        if pixels != whole { limited += 1 }
                    }
                }
            }
        }
        // Not every window could leave pixels out (whole-image windows, tiny images at 1/8), but most do.
        XCTAssertGreaterThan(limited, 200, "the region decode never left a pixel out")
    }

    /// A region decode of a damaged file fails as the whole decode does: a truncated file is not
    /// structurally intact, so it takes TurboJPEG's path and its error.
    func testRegionDecodeOfATruncatedFileIsAnError() throws {
        let truncated = try load("chelsea-truncated.jpg")
        var options = JPEGDecodeOptions()
        options.region = PixelRect(y: 10, x: 10, height: 20, width: 20)
        XCTAssertThrowsError(try truncated.withUnsafeBytes { try JPEGDecoder().decode($0, options: options) }) { error in
            guard case .corruptData(let message) = error as? JPEGError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("Premature end"), message)
        }
    }
}
