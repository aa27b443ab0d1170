import CTurboJPEG
import XCTest

@testable import Kernels

final class JPEGDecoderTests: XCTestCase {
    private typealias Images = JPEGTestImages

    private func decode(
        _ jpeg: [UInt8], _ options: JPEGDecodeOptions = JPEGDecodeOptions(), with decoder: JPEGDecoder? = nil
    ) throws -> (pixels: [UInt8], result: JPEGDecodeResult) {
        let decoder = try decoder ?? JPEGDecoder()
        return try jpeg.withUnsafeBytes { try decoder.decode($0, options: options) }
    }

    private func decode(
        _ jpeg: [UInt8], into buffer: inout [UInt8], with decoder: JPEGDecoder
    ) throws -> JPEGDecodeResult {
        try jpeg.withUnsafeBytes { bytes in try buffer.withUnsafeMutableBytes { try decoder.decode(bytes, into: $0) } }
    }

    private func header(_ jpeg: [UInt8]) throws -> JPEGHeader {
        try jpeg.withUnsafeBytes { try JPEGDecoder().readHeader($0) }
    }

    private func assertThrows(
        _ expected: JPEGError, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? JPEGError, expected, file: file, line: line)
        }
    }

    // MARK: - Round trips and header fields

    func testRoundTripStaysCloseToSource() throws {
        let (width, height) = (64, 48)
        let rgb = Images.gradientRGB(width: width, height: height)
        let cases: [(TJSAMP, Bool, Double)] = [(TJSAMP_444, false, 1.5), (TJSAMP_420, false, 2.5), (TJSAMP_420, true, 2.5)]
        for (subsampling, progressive, tolerance) in cases {
            let jpeg = try Images.encode(
                rgb, width: width, height: height, subsampling: subsampling, progressive: progressive)
            let (pixels, result) = try decode(jpeg)
            XCTAssertEqual(result, JPEGDecodeResult(width: width, height: height, channels: 3, warning: nil))
            let error = Images.meanAbsoluteError(pixels, rgb)
            XCTAssertLessThan(error, tolerance, "subsampling \(subsampling.rawValue), progressive \(progressive)")
        }
        let gray = Images.gradientGray(width: width, height: height)
        let grayJPEG = try Images.encodeGray(gray, width: width, height: height)
        let (grayPixels, grayResult) = try decode(grayJPEG, JPEGDecodeOptions(color: .gray))
        XCTAssertEqual(grayResult.channels, 1)
        XCTAssertLessThan(Images.meanAbsoluteError(grayPixels, gray), 1.0)
    }

    func testHeaderReportsSizeSubsamplingColorspaceAndFrameType() throws {
        let rgb = Images.gradientRGB(width: 40, height: 24)
        let baseline = try header(Images.encode(rgb, width: 40, height: 24, subsampling: TJSAMP_444))
        XCTAssertEqual(
            baseline,
            JPEGHeader(
                width: 40, height: 24, subsampling: .s444, colorspace: .ycbcr, isProgressive: false,
                orientation: .identity, hasAdobeMarker: false))
        let progressive = try header(Images.encode(rgb, width: 40, height: 24, subsampling: TJSAMP_420, progressive: true))
        XCTAssertEqual(progressive.subsampling, .s420)
        XCTAssertTrue(progressive.isProgressive)
        let gray = try header(Images.encodeGray(Images.gradientGray(width: 40, height: 24), width: 40, height: 24))
        XCTAssertEqual(gray.colorspace, .gray)
        XCTAssertEqual(gray.subsampling, .gray)
    }

    func testBGRIsRGBWithChannelsSwapped() throws {
        let gradient = Images.gradientRGB(width: 32, height: 16)
        let jpeg = try Images.encode(gradient, width: 32, height: 16, subsampling: TJSAMP_420)
        let rgb = try decode(jpeg).pixels
        let bgr = try decode(jpeg, JPEGDecodeOptions(color: .bgr)).pixels
        XCTAssertEqual(bgr, Images.swappingRedAndBlue(rgb))
    }

    func testGrayOutputFromColorSourceIsLuma() throws {
        let rgb = Images.gradientRGB(width: 32, height: 32)
        let jpeg = try Images.encode(rgb, width: 32, height: 32)
        let (gray, result) = try decode(jpeg, JPEGDecodeOptions(color: .gray))
        XCTAssertEqual(result.channels, 1)
        XCTAssertLessThan(Images.meanAbsoluteError(gray, Images.luma(rgb)), 1.5)
    }

    func testGraySourceDecodedAsRGBReplicatesTheGrayLevel() throws {
        let jpeg = try Images.encodeGray(Images.gradientGray(width: 24, height: 16), width: 24, height: 16)
        let gray = try decode(jpeg, JPEGDecodeOptions(color: .gray)).pixels
        let (rgb, result) = try decode(jpeg)
        XCTAssertEqual(result.channels, 3)
        XCTAssertEqual(rgb, gray.flatMap { [$0, $0, $0] })
    }

    // MARK: - Scaling

    func testScaledDecodeProducesTurboJPEGSizes() throws {
        let (width, height) = (101, 67)
        let jpeg = try Images.encode(Images.gradientRGB(width: width, height: height), width: width, height: height)
        let fullMean = try decode(jpeg).pixels.mean
        let parsed = try header(jpeg)
        for (denom, expected) in [(2, (51, 34)), (4, (26, 17)), (8, (13, 9))] {
            let scale = try JPEGScale(num: 1, denom: denom)
            XCTAssertTrue(JPEGDecoder.decodedSize(header: parsed, scale: scale) == expected, "1/\(denom)")
            let (pixels, result) = try decode(jpeg, JPEGDecodeOptions(scale: scale))
            XCTAssertEqual(result.width, expected.0, "1/\(denom)")
            XCTAssertEqual(result.height, expected.1, "1/\(denom)")
            // Edge blocks weigh more in the rounded-up sizes, so the average drifts a little.
            XCTAssertEqual(pixels.mean, fullMean, accuracy: 8, "1/\(denom) keeps the average color")
        }
    }

    func testScaleMustBeOneTurboJPEGOffers() throws {
        XCTAssertEqual(try JPEGScale(num: 2, denom: 4), try JPEGScale(num: 1, denom: 2))
        XCTAssertTrue(JPEGScale.supported.contains(.full))
        XCTAssertThrowsError(try JPEGScale(num: 3, denom: 7)) { error in
            guard case .unsupportedScale(3, 7, let supported) = error as? JPEGError else {
                return XCTFail("expected unsupportedScale, got \(error)")
            }
            XCTAssertTrue(supported.contains("1/8"))
            XCTAssertTrue(String(describing: error).contains("3/7"))
        }
        XCTAssertThrowsError(try JPEGScale(num: 1, denom: 0))
    }

    // MARK: - Damaged and foreign input

    func testTruncatedFileIsAnErrorByDefaultAndAWarningWhenTolerated() throws {
        let (width, height) = (64, 64)
        let source = Images.gradientRGB(width: width, height: height)
        let jpeg = try Images.encode(source, width: width, height: height, subsampling: TJSAMP_420)
        let truncated = Array(jpeg.prefix(jpeg.count * 6 / 10))
        let decoder = try JPEGDecoder()
        XCTAssertThrowsError(try decode(truncated, with: decoder)) { error in
            guard case .corruptData(let message) = error as? JPEGError else {
                return XCTFail("expected corruptData, got \(error)")
            }
            XCTAssertTrue(message.contains("Premature end"), message)
        }
        let (damaged, result) = try decode(truncated, JPEGDecodeOptions(onCorrupt: .warn), with: decoder)
        XCTAssertEqual(result.width, width)
        XCTAssertTrue(result.warning?.contains("Premature end") ?? false, String(describing: result.warning))
        // The same instance (same TurboJPEG handle) decodes intact data cleanly afterwards.
        let (intact, intactResult) = try decode(jpeg, with: decoder)
        XCTAssertNil(intactResult.warning)
        let topRows = width * 3 * 8
        XCTAssertTrue(damaged.prefix(topRows).elementsEqual(intact.prefix(topRows)), "rows before the cut are intact")
        XCTAssertNotEqual(damaged, intact, "rows after the cut are filled, not decoded")
    }

    func testInputThatIsNotAJPEGIsRejectedWithItsFirstBytes() throws {
        assertThrows(.emptyInput) { _ = try self.header([]) }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D]
        XCTAssertThrowsError(try header(png)) { error in
            XCTAssertEqual(error as? JPEGError, .notJPEG(firstBytes: Array(png.prefix(8))))
            XCTAssertTrue(String(describing: error).contains("89 50 4E 47 0D 0A 1A 0A (looks like PNG)"), "\(error)")
        }
        assertThrows(.notJPEG(firstBytes: Array("garbage!".utf8))) { _ = try self.decode(Array("garbage!bytes".utf8)) }
        assertThrows(.notJPEG(firstBytes: [0xFF])) { _ = try self.decode([0xFF]) }
        // A start marker followed by no frame header: libjpeg runs out of data and reports no size.
        let startWithoutFrame: [UInt8] = [0xFF, 0xD8] + Array(repeating: 0x42, count: 64)
        assertThrows(.zeroSize(width: 0, height: 0)) { _ = try self.header(startWithoutFrame) }
        assertThrows(.headerUnreadable("Bogus marker length")) { _ = try self.header([0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x02]) }
    }

    func testOversizedHeaderIsRejectedBeforeAllocation() throws {
        let jpeg = try Images.encode(Images.gradientRGB(width: 16, height: 16), width: 16, height: 16)
        let huge = try Images.patchingFrameSize(jpeg, width: 60000, height: 60000)
        XCTAssertEqual(try header(huge).width, 60000, "the header itself is readable")
        let tooLarge = JPEGError.tooLarge(width: 60000, height: 60000, limit: 100_000_000)
        XCTAssertTrue(tooLarge.description.contains("60000x60000"))
        XCTAssertTrue(tooLarge.description.contains("100000000"))
        assertThrows(tooLarge) { _ = try self.decode(huge) }
        // The limit is checked before the output buffer, so even a tiny buffer reports the size.
        var tiny = [UInt8](repeating: 0, count: 4)
        assertThrows(tooLarge) { _ = try self.decode(huge, into: &tiny, with: JPEGDecoder()) }
        // The limit also covers the upscaled output.
        let upscale = try JPEGScale(num: 2, denom: 1)
        assertThrows(.tooLarge(width: 32, height: 32, limit: 300)) {
            _ = try self.decode(jpeg, JPEGDecodeOptions(scale: upscale, pixelLimit: 300))
        }
    }

    func testDecodeIntoCallerBufferChecksSizeAndWritesOnlyTheImage() throws {
        let (width, height) = (24, 8)
        let jpeg = try Images.encode(Images.gradientRGB(width: width, height: height), width: width, height: height)
        let required = width * height * 3
        let decoder = try JPEGDecoder()
        var short = [UInt8](repeating: 0, count: required - 1)
        assertThrows(.bufferTooSmall(required: required, provided: required - 1)) {
            _ = try self.decode(jpeg, into: &short, with: decoder)
        }
        let sentinel: UInt8 = 0xAB
        var roomy = [UInt8](repeating: sentinel, count: required + 16)
        let result = try decode(jpeg, into: &roomy, with: decoder)
        XCTAssertEqual(result, JPEGDecodeResult(width: width, height: height, channels: 3, warning: nil))
        XCTAssertEqual(Array(roomy.prefix(required)), try decode(jpeg).pixels)
        XCTAssertEqual(Array(roomy.suffix(16)), Array(repeating: sentinel, count: 16))
    }

    // MARK: - EXIF orientation

    /// Quadrant colors far apart in RGB, so each sample is classified unambiguously.
    private static let quadrantColors: [[UInt8]] = [[230, 20, 20], [20, 230, 20], [20, 20, 230], [240, 240, 240]]

    /// Index of the nearest quadrant color at each output quadrant's center (TL, TR, BL, BR).
    private func quadrantLabels(_ pixels: [UInt8], width: Int, height: Int, channels: Int) -> [Int] {
        [(1, 1), (3, 1), (1, 3), (3, 3)].map { (qx, qy) in
            let offset = ((qy * height / 4) * width + qx * width / 4) * channels
            let sample = Array(pixels[offset..<(offset + channels)])
            let palette = channels == 3 ? Self.quadrantColors : Self.quadrantColors.map(Images.luma)
            let distances = palette.map { Images.meanAbsoluteError($0, sample) }
            return distances.indices.min { distances[$0] < distances[$1] }!
        }
    }

    func testEveryExifOrientationIsAppliedAfterDecode() throws {
        let (width, height) = (48, 32)
        let quadrants = Images.quadrants(width: width, height: height, colors: Self.quadrantColors)
        let jpeg = try Images.encode(quadrants, width: width, height: height)
        // Source quadrants 0 1 / 2 3; where each ends up when displayed upright (EXIF spec).
        let expected: [JPEGOrientation: [Int]] = [
            .identity: [0, 1, 2, 3], .flipHorizontal: [1, 0, 3, 2], .rotate180: [3, 2, 1, 0],
            .flipVertical: [2, 3, 0, 1], .transpose: [0, 2, 1, 3], .rotate90Clockwise: [2, 0, 3, 1],
            .transverse: [3, 1, 2, 0], .rotate270Clockwise: [1, 3, 0, 2],
        ]
        for orientation in JPEGOrientation.allCases {
            // Odd codes in Intel byte order, even ones in Motorola, so both parsers paths run.
            let tiff = Images.exifTIFF(orientation: UInt16(orientation.rawValue), bigEndian: orientation.rawValue % 2 == 0)
            let tagged = Images.insertingExif(tiff, into: jpeg)
            XCTAssertEqual(try header(tagged).orientation, orientation)
            let (pixels, result) = try decode(tagged)
            let (outWidth, outHeight) = orientation.swapsDimensions ? (height, width) : (width, height)
            XCTAssertEqual([result.width, result.height], [outWidth, outHeight], "\(orientation)")
            let labels = quadrantLabels(pixels, width: outWidth, height: outHeight, channels: 3)
            XCTAssertEqual(labels, expected[orientation], "\(orientation)")
        }
    }

    func testOrientationWithGrayScaleAndDisabling() throws {
        let (width, height) = (48, 32)
        let quadrants = Images.quadrants(width: width, height: height, colors: Self.quadrantColors)
        let jpeg = try Images.encode(quadrants, width: width, height: height)
        let rotated = Images.insertingExif(Images.exifTIFF(orientation: 6, bigEndian: true), into: jpeg)

        let (gray, grayResult) = try decode(rotated, JPEGDecodeOptions(color: .gray))
        XCTAssertEqual([grayResult.width, grayResult.height, grayResult.channels], [32, 48, 1])
        XCTAssertEqual(quadrantLabels(gray, width: 32, height: 48, channels: 1), [2, 0, 3, 1])

        let half = try JPEGScale(num: 1, denom: 2)
        let (scaled, scaledResult) = try decode(rotated, JPEGDecodeOptions(scale: half))
        XCTAssertEqual([scaledResult.width, scaledResult.height], [16, 24])
        XCTAssertEqual(quadrantLabels(scaled, width: 16, height: 24, channels: 3), [2, 0, 3, 1])
        let parsed = try header(rotated)
        XCTAssertTrue(JPEGDecoder.outputShape(header: parsed, options: JPEGDecodeOptions(scale: half)) == (16, 24, 3))

        let (stored, storedResult) = try decode(rotated, JPEGDecodeOptions(applyOrientation: false))
        XCTAssertEqual([storedResult.width, storedResult.height], [width, height])
        XCTAssertEqual(stored, try decode(jpeg).pixels)
    }

    func testMalformedExifIsIgnored() throws {
        let jpeg = try Images.encode(Images.gradientRGB(width: 16, height: 16), width: 16, height: 16)
        let valid = Images.exifTIFF(orientation: 3, bigEndian: false)
        var badByteOrder = valid
        badByteOrder[0] = 0x58
        var ifdOutOfBounds = valid
        ifdOutOfBounds[4] = 0xF0
        var tooManyEntries = valid  // the orientation entry renamed, so the walk runs past the end
        tooManyEntries[8] = 0xFF
        tooManyEntries[9] = 0xFF
        tooManyEntries[10] = 0x0F
        var wrongType = valid
        wrongType[10 + 2] = 4
        var outOfRangeValue = valid
        outOfRangeValue[10 + 8] = 9
        let cases = [
            "bad byte order": badByteOrder, "IFD offset past the end": ifdOutOfBounds,
            "entry count past the end": tooManyEntries, "orientation not SHORT": wrongType,
            "orientation 9": outOfRangeValue, "cut inside the entry": Array(valid.prefix(16)), "empty": [],
        ]
        for (name, tiff) in cases {
            let tagged = Images.insertingExif(tiff, into: jpeg)
            XCTAssertEqual(try header(tagged).orientation, .identity, name)
            XCTAssertEqual(try decode(tagged).result.width, 16, name)
        }
        XCTAssertEqual(try header(Images.insertingExif(valid, into: jpeg)).orientation, .rotate180, "the unmodified control")
    }

    // MARK: - CMYK

    func testCMYKSourceIsConvertedWithTheAdobeInvertedConvention() throws {
        let (width, height) = (32, 32)
        // Stored (inverted) CMYK: 255 means no ink. Expected RGB = stored C·K/255 etc.
        let stored: [[UInt8]] = [[255, 0, 0, 255], [128, 255, 64, 200], [255, 255, 255, 0], [255, 255, 255, 255]]
        let expectedRGB: [[Int]] = [[255, 0, 0], [100, 200, 50], [0, 0, 0], [255, 255, 255]]
        let jpeg = try Images.encode(
            Images.quadrants(width: width, height: height, colors: stored), width: width, height: height,
            format: TJPF_CMYK, quality: 100)
        let parsed = try header(jpeg)
        XCTAssertTrue(parsed.colorspace.isCMYK)
        XCTAssertTrue(parsed.hasAdobeMarker)

        let (rgb, result) = try decode(jpeg)
        XCTAssertEqual(result.channels, 3)
        for (quadrant, (qx, qy)) in [(1, 1), (3, 1), (1, 3), (3, 3)].enumerated() {
            let offset = ((qy * height / 4) * width + qx * width / 4) * 3
            for channel in 0..<3 {
                let actual = Int(rgb[offset + channel])
                XCTAssertEqual(actual, expectedRGB[quadrant][channel], accuracy: 3, "quadrant \(quadrant)")
            }
        }
        let bgr = try decode(jpeg, JPEGDecodeOptions(color: .bgr)).pixels
        XCTAssertEqual(bgr, Images.swappingRedAndBlue(rgb))
        let gray = try decode(jpeg, JPEGDecodeOptions(color: .gray)).pixels
        let luma = Images.luma(rgb)
        XCTAssertLessThanOrEqual(zip(gray, luma).map { abs(Int($0) - Int($1)) }.max() ?? 0, 1)

        // Orientation after conversion: rotate180 must equal the upright decode reversed pixel by pixel.
        let rotated = Images.insertingExif(Images.exifTIFF(orientation: 3, bigEndian: false), into: jpeg)
        let rotatedRGB = try decode(rotated).pixels
        let reversedPixels = stride(from: rgb.count - 3, through: 0, by: -3).flatMap { (offset: Int) -> ArraySlice<UInt8> in
            rgb[offset..<(offset + 3)]
        }
        XCTAssertEqual(rotatedRGB, reversedPixels)
    }

    func testCMYKConversionConventions() {
        // Ink amounts (not inverted): none → white, full cyan → (0, 255, 255), full black → black.
        let plain: [UInt8] = [0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255, 0, 128, 0, 0]
        var converted = [UInt8](repeating: 0, count: 12)
        JPEGCMYKConversion.convert(cmyk: plain, pixelCount: 4, inverted: false, color: .rgb, destination: &converted)
        XCTAssertEqual(converted, [255, 255, 255, 0, 255, 255, 0, 0, 0, 255, 127, 255])
        // The inverted convention stores 255 − ink; converting in place gives the same colors.
        var inverted = plain.map { 255 - $0 }
        inverted.withUnsafeMutableBufferPointer { buffer in
            JPEGCMYKConversion.convert(
                cmyk: buffer.baseAddress!, pixelCount: 4, inverted: true, color: .rgb, destination: buffer.baseAddress!)
        }
        XCTAssertEqual(Array(inverted.prefix(12)), converted)
    }
}

extension [UInt8] {
    fileprivate var mean: Double { Double(reduce(0) { $0 + Int($1) }) / Double(Swift.max(count, 1)) }
}
