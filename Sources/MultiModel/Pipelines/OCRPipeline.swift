import Foundation
import Runtime
import IR
import Kernels

/// One line of read text: its box in the input image (4 corners clockwise from the top-left),
/// the text, and the recognizer's confidence (mean probability of the kept CTC steps).
public struct OCRLine: Sendable, Equatable {
    public var box: [Point]
    public var text: String
    public var score: Double
}

/// The image the detector and the crops work on, and how to map its pixels back to the input.
struct OCRPage: Sendable {
    /// BGR, after RapidOCR's size limits and letterbox.
    var image: Image
    var inputWidth: Int
    var inputHeight: Int
    /// Input pixels per working pixel.
    var ratioX: Double
    var ratioY: Double
    /// Rows of black added above the image (the letterbox).
    var top: Int
}

/// The detector's probability map for a page.
struct DetectorOutput: Sendable {
    var page: OCRPage
    var probability: [Float]
    var mapWidth: Int
    var mapHeight: Int
}

/// One text box on its way through the classifier and recognizer.
struct TextCrop: Sendable {
    /// Corners in input-image pixels (what the result reports).
    var box: [Point]
    /// The upright crop, BGR.
    var image: Image
}

/// PP-OCR (detector → crops → direction classifier → recognizer) as stage ops, which
/// Graphs/ocr.yaml wires into a graph; they reproduce RapidOCR 1.4.4 with its config.yaml
/// (whose detector limit, `limit_type` / `limit_side_len`, the `ocr_detect` params set):
///
/// `decode_jpeg` (BGR, as RapidOCR converts PIL's RGB) → `ocr_detect`: size limits (longer side ≤ 2000,
/// shorter ≥ 30), letterbox for very flat images, resize so the longer side is ≤ 960
/// (PaddleOCR's default; RapidOCR's is the shorter side ≥ 736) with both sides rounded to multiples of 32,
/// normalize (x/255 − 0.5)/0.5, NCHW, run the detector → `text_crops` (fan-out): DB
/// postprocess, reading order, one perspective crop per box → `text_direction` (batching
/// queue): 48×192 direction classifier, turn the crop 180° when label `180` has probability
/// > 0.9 → `text_recognize` (batching queue): 48×W recognizer, CTC greedy decode → gather →
/// `text_lines`: lines with confidence ≥ 0.5, in reading order.
///
/// Recognizer batches: every crop of a batch is resized to height 48 keeping its aspect
/// (width ⌈48·w/h⌉), normalized, and padded on the right with zeros to the batch's width
/// W = ⌊48 · max(320/48, widest aspect in the batch)⌋ — RapidOCR's rule, so W ≥ 320. RapidOCR
/// forms batches of 6 from one image's crops sorted by aspect; here the queue forms them
/// from whatever crops arrive (across images), so a crop may be padded to another width than
/// RapidOCR pads it to; the recognizer's attention neck sees the padding, so its scores (and,
/// rarely, a character) can differ by that.
public enum OCRPipeline {
    public struct Settings: Sendable {
        public var detection = DBPostprocess.Settings()
        /// How the page is scaled for the detector (before rounding to multiples of 32).
        public var detectorLimit = DetectorLimit.longerAtMost(960)
        /// Input size limits (RapidOCR's `max_side_len`, `min_side_len`).
        public var maxSide = 2000
        public var minSide = 30
        /// Letterbox images at most this tall or wider than `maxAspect` × height.
        public var letterboxMinHeight = 30
        public var maxAspect = 8
        /// Turn a crop 180° when the classifier says `180` with more than this probability.
        public var classifierThreshold = 0.9
        /// Drop lines whose recognizer confidence is below this.
        public var textScore = 0.5
        public init() {}
    }

    static let classifierHeight = 48
    static let classifierWidth = 192
    static let recognizerHeight = 48
    static let recognizerMinWidth = 320

    /// The stage ops of the cascade (wired in Graphs/ocr.yaml): `ocr_detect` → `text_crops`
    /// (fan-out) → `text_direction` → `text_recognize` → gather → `text_lines`.
    static let ops: [StageOp] = [
        StageOp(
            "ocr_detect", "PP-OCR detector: RapidOCR's size limits and letterbox, resize to multiples of 32, normalize, run",
            role: .map, inputs: [.image], output: .textMap, usesModel: true,
            parameters: [
                ("limit_type", "max (default, PaddleOCR's): scale down so the longer side is at most limit_side; min (RapidOCR 1.4.4's): scale up so the shorter side is at least limit_side"),
                ("limit_side", "the side limit in pixels (960)"),
                ("max_side", "a longer input side above this is scaled down first (2000)"),
            ],
            configure: { parameters in
                var configured = Settings()
                let side = try parameters.integer("limit_side", default: 960, in: 32...8192)
                configured.detectorLimit =
                    try parameters.choice("limit_type", among: ["max", "min"], default: "max") == "max" ? .longerAtMost(side) : .shorterAtLeast(side)
                configured.maxSide = try parameters.integer("max_side", default: configured.maxSide, in: 32...16384)
                let settings = configured
                return { context in
                    let detector = try context.modelRunner(op: "ocr_detect")
                    return ClosureWorker.perRecord { values in try detect(try typed(values[0], "ocr_detect"), detector: detector, settings: settings) }
                }
            }),
        StageOp(
            "text_crops", "fan-out: DB postprocess of the probability map, reading order, one perspective crop per box",
            role: .expand, inputs: [.textMap], output: .textCrop,
            parameters: [
                ("threshold", "probability above which a pixel is text (0.3)"),
                ("box_threshold", "keep boxes whose mean probability is at least this (0.5)"),
                ("unclip_ratio", "how far boxes grow beyond the shrunk text region (1.6)"),
                ("max_candidates", "the most regions considered per page (1000)"),
            ],
            configure: { parameters in
                var configured = Settings()
                configured.detection.threshold = try parameters.number("threshold", default: configured.detection.threshold, in: 0...1)
                configured.detection.boxThreshold = try parameters.number("box_threshold", default: configured.detection.boxThreshold, in: 0...1)
                configured.detection.unclipRatio = try parameters.number("unclip_ratio", default: configured.detection.unclipRatio, in: 0...10)
                configured.detection.maxCandidates = try parameters.integer("max_candidates", default: configured.detection.maxCandidates, in: 1...100_000)
                let settings = configured
                return { _ in
                    ClosureWorker.perRecord { values in crops(try typed(values[0], "text_crops"), settings: settings).map { $0 as any Sendable } }
                }
            }),
        StageOp(
            "text_direction", "48×192 direction classifier, batched; turns a crop 180° when label 180 is likely enough",
            role: .map, inputs: [.textCrop], output: .textCrop, usesModel: true,
            parameters: [("threshold", "turn when the 180 label's probability is above this (0.9)")],
            configure: { parameters in
                let threshold = try parameters.number("threshold", default: Settings().classifierThreshold, in: 0...1)
                return { context in
                    let classifier = try context.modelRunner(op: "text_direction")
                    return ClosureWorker { batch in
                        try classify(batch.map { try typed($0[0], "text_direction") }, model: classifier, threshold: threshold)
                    }
                }
            }),
        StageOp(
            "text_recognize", "48×W recognizer, batched (padded to the batch's widest), CTC greedy decode with the model's character list",
            role: .map, inputs: [.textCrop], output: .textLine, usesModel: true,
            configure: { _ in
                { context in
                    let recognizer = try context.modelRunner(op: "text_recognize")
                    let path = recognizer.model.path
                    guard let characters = recognizer.model.metadata["character"] else {
                        throw VisionError("\(path): no 'character' metadata entry (the recognizer's dictionary)")
                    }
                    let decoder = CTCDecoder(characterMetadata: characters)
                    return ClosureWorker { batch in
                        try recognize(batch.map { try typed($0[0], "text_recognize") }, model: recognizer, decoder: decoder)
                    }
                }
            }),
        StageOp(
            "text_lines", "the gathered lines whose confidence is at least min_score, in reading order",
            role: .map, inputs: [.list(.textLine)], output: .textLines,
            parameters: [("min_score", "drop lines whose recognizer confidence is below this (0.5)")],
            configure: { parameters in
                let minScore = try parameters.number("min_score", default: Settings().textScore, in: 0...1)
                return { _ in
                    ClosureWorker.perRecord { values in
                        try (typed(values[0], "text_lines") as [any Sendable]).map { try typed($0, "text_lines") as OCRLine }.filter { $0.score >= minScore }
                    }
                }
            }),
    ]


    // MARK: - Detector

    /// `round(v / 32) * 32` with Python's round (half to even).
    static func multipleOf32(_ value: Int) -> Int { Int((Double(value) / 32).rounded(.toNearestOrEven)) * 32 }

    /// OpenCV `INTER_LINEAR` resize of a whole u8 image.
    static func resized(_ image: Image, width: Int, height: Int) throws -> Image {
        let plan = try ResizePlan(
            sourceHeight: image.height, sourceWidth: image.width, resizedHeight: height, resizedWidth: width, interpolation: .bilinear)
        var pixels = [UInt8](repeating: 0, count: width * height * image.channels)
        try image.pixels.withUnsafeBufferPointer { source in
            try pixels.withUnsafeMutableBufferPointer { destination in
                try plan.resize(
                    source, sourceStride: image.width * image.channels, channels: image.channels, into: destination,
                    destinationStride: width * image.channels, rows: 0..<height)
            }
        }
        return Image(sized: width, height: height, channels: image.channels, pixels: pixels)
    }

    /// RapidOCR's `preprocess` (size limits) and `maybe_add_letterbox`.
    static func page(_ image: Image, settings: Settings) throws -> OCRPage {
        guard image.channels == 3 else { throw VisionError("OCR needs a 3-channel image; got \(image.channels) channels") }
        var working = image
        var (ratioX, ratioY) = (1.0, 1.0)
        func rescale(to ratio: Double) throws {
            let height = multipleOf32(Int(Double(working.height) * ratio))
            let width = multipleOf32(Int(Double(working.width) * ratio))
            guard width > 0, height > 0 else {
                throw VisionError("a \(working.width)×\(working.height) image cannot be resized for OCR (a side would be 0)")
            }
            (ratioX, ratioY) = (Double(working.width) / Double(width), Double(working.height) / Double(height))
            working = try resized(working, width: width, height: height)
        }
        if max(working.width, working.height) > settings.maxSide {
            try rescale(to: Double(settings.maxSide) / Double(max(working.width, working.height)))
        }
        if min(working.width, working.height) < settings.minSide {
            try rescale(to: Double(settings.minSide) / Double(min(working.width, working.height)))
        }
        var top = 0
        if working.height <= settings.letterboxMinHeight || Double(working.width) / Double(working.height) > Double(settings.maxAspect) {
            let paddedHeight = max(Int(Double(working.width) / Double(settings.maxAspect)), settings.letterboxMinHeight) * 2
            top = abs(paddedHeight - working.height) / 2
            let rowBytes = working.width * 3
            var pixels = [UInt8](repeating: 0, count: rowBytes * (working.height + 2 * top))
            pixels.replaceSubrange((top * rowBytes)..<((top + working.height) * rowBytes), with: working.pixels)
            working = Image(sized: working.width, height: working.height + 2 * top, channels: 3, pixels: pixels)
        }
        return OCRPage(image: working, inputWidth: image.width, inputHeight: image.height, ratioX: ratioX, ratioY: ratioY, top: top)
    }

    /// How the detector input is sized from the page (PaddleOCR's `limit_type`).
    public enum DetectorLimit: Sendable, Equatable {
        /// Scale down (never up) so the longer side is at most this (`max`).
        case longerAtMost(Int)
        /// Scale up (never down) so the shorter side is at least this (`min`).
        case shorterAtLeast(Int)
    }

    /// The detector's input size for a page: scaled by `limit`, sides rounded to multiples of
    /// 32 (nil when one rounds to 0).
    static func detectorInputSize(width: Int, height: Int, limit: DetectorLimit) -> (width: Int, height: Int)? {
        let ratio: Double
        switch limit {
        case .longerAtMost(let side): ratio = max(width, height) > side ? Double(side) / Double(max(width, height)) : 1
        case .shorterAtLeast(let side): ratio = min(width, height) < side ? Double(side) / Double(min(width, height)) : 1
        }
        let size = (width: multipleOf32(Int(Double(width) * ratio)), height: multipleOf32(Int(Double(height) * ratio)))
        return size.width > 0 && size.height > 0 ? size : nil
    }

    /// The image resized (OpenCV `INTER_LINEAR`), normalized to (x/255 − 0.5)/0.5 and laid
    /// out `[1, 3, h, w]`, channels in the image's (BGR) order, in one fused kernel.
    static func normalizedTensor(_ image: Image, width: Int, height: Int) throws -> [Float] {
        let plan = try ResizePlan(
            sourceHeight: image.height, sourceWidth: image.width, resizedHeight: height, resizedWidth: width, interpolation: .bilinear)
        var values = [Float](repeating: 0, count: 3 * height * width)
        try image.pixels.withUnsafeBufferPointer { source in
            try values.withUnsafeMutableBufferPointer { destination in
                try plan.preprocess(
                    source, sourceStride: image.width * 3, sourceChannels: 3, channelMap: [0, 1, 2],
                    scale: [Float](repeating: 2 / 255, count: 3), bias: [-1, -1, -1], planar: true, into: destination,
                    rows: 0..<height)
            }
        }
        return values
    }

    static func detect(_ image: Image, detector: ModelRunner, settings: Settings) throws -> DetectorOutput {
        let page = try page(image, settings: settings)
        guard let size = detectorInputSize(width: page.image.width, height: page.image.height, limit: settings.detectorLimit) else {
            return DetectorOutput(page: page, probability: [], mapWidth: 0, mapHeight: 0)
        }
        let input = Tensor(shape: [1, 3, size.height, size.width], floats: try normalizedTensor(page.image, width: size.width, height: size.height))
        let outputs = try detector.run(input)
        guard let map = outputs.first, map.shape == [1, 1, size.height, size.width] else {
            throw VisionError("\(detector.model.path): output \(outputs.first.map { "\($0.shape)" } ?? "none"); expected [1, 1, \(size.height), \(size.width)]")
        }
        return DetectorOutput(page: page, probability: map.floats, mapWidth: size.width, mapHeight: size.height)
    }

    // MARK: - Boxes and crops

    /// DB postprocess, reading order, and one upright crop per box; boxes mapped back to the
    /// input image (letterbox removed, size ratios applied, clipped to the image).
    static func crops(_ detected: DetectorOutput, settings: Settings) -> [TextCrop] {
        guard detected.mapWidth > 0 else { return [] }
        let page = detected.page
        let boxes = DBPostprocess.boxes(
            probability: detected.probability, mapWidth: detected.mapWidth, mapHeight: detected.mapHeight,
            imageWidth: page.image.width, imageHeight: page.image.height, settings: settings.detection)
        return DBPostprocess.readingOrder(boxes).compactMap { box in
            guard let image = PerspectiveCrop.crop(page.image, corners: box.corners) else { return nil }
            let corners = box.corners.map { point in
                Point(
                    min(max(point.x * page.ratioX, 0), Double(page.inputWidth)),
                    min(max((point.y - Double(page.top)) * page.ratioY, 0), Double(page.inputHeight)))
            }
            return TextCrop(box: corners, image: image)
        }
    }

    /// One crop resized to height 48 keeping its aspect (⌈48·w/h⌉ columns, at most
    /// `maxWidth`), normalized like the detector input, written into the first columns of
    /// `destination` (`[3, 48, stride]`, zero elsewhere).
    static func writeLine(_ image: Image, maxWidth: Int, into destination: UnsafeMutableBufferPointer<Float>, stride: Int) throws {
        let height = recognizerHeight
        let width = min(Int((Double(height) * Double(image.width) / Double(image.height)).rounded(.up)), maxWidth)
        let resizedLine = try normalizedTensor(image, width: width, height: height)
        for plane in 0..<(3 * height) {
            for x in 0..<width { destination[plane * stride + x] = resizedLine[plane * width + x] }
        }
    }

    // MARK: - Classifier and recognizer

    static func classify(_ crops: [TextCrop], model: ModelRunner, threshold: Double) throws -> [any Sendable] {
        let plane = 3 * classifierHeight * classifierWidth
        var values = [Float](repeating: 0, count: crops.count * plane)
        try values.withUnsafeMutableBufferPointer { buffer in
            for (index, crop) in crops.enumerated() {
                try writeLine(crop.image, maxWidth: classifierWidth, into: UnsafeMutableBufferPointer(rebasing: buffer[(index * plane)...]), stride: classifierWidth)
            }
        }
        let outputs = try model.run(Tensor(shape: [crops.count, 3, classifierHeight, classifierWidth], floats: values))
        guard let output = outputs.first, output.shape == [crops.count, 2] else {
            throw VisionError("\(model.model.path): output \(outputs.first.map { "\($0.shape)" } ?? "none"); expected [\(crops.count), 2] (labels 0, 180)")
        }
        let probabilities = output.floats
        return crops.enumerated().map { index, crop in
            let (upright, turned) = (probabilities[index * 2], probabilities[index * 2 + 1])
            guard turned > upright && Double(turned) > threshold else { return crop }
            return TextCrop(box: crop.box, image: PerspectiveCrop.rotatedHalfTurn(crop.image))
        }
    }

    /// The padded width of a recognizer batch (RapidOCR's `int(48 * max_wh_ratio)`).
    static func recognizerWidth(_ crops: [TextCrop]) -> Int {
        let widest = crops.map { Double($0.image.width) / Double($0.image.height) }.max() ?? 0
        return Int(Double(recognizerHeight) * max(Double(recognizerMinWidth) / Double(recognizerHeight), widest))
    }

    static func recognize(_ crops: [TextCrop], model: ModelRunner, decoder: CTCDecoder) throws -> [any Sendable] {
        let width = recognizerWidth(crops)
        let plane = 3 * recognizerHeight * width
        var values = [Float](repeating: 0, count: crops.count * plane)
        try values.withUnsafeMutableBufferPointer { buffer in
            for (index, crop) in crops.enumerated() {
                try writeLine(crop.image, maxWidth: width, into: UnsafeMutableBufferPointer(rebasing: buffer[(index * plane)...]), stride: width)
            }
        }
        let outputs = try model.run(Tensor(shape: [crops.count, 3, recognizerHeight, width], floats: values))
        guard let output = outputs.first, output.shape.count == 3, output.shape[0] == crops.count else {
            throw VisionError("\(model.model.path): output \(outputs.first.map { "\($0.shape)" } ?? "none"); expected [\(crops.count), steps, classes]")
        }
        let (steps, classes) = (output.shape[1], output.shape[2])
        let probabilities = output.floats
        return try crops.enumerated().map { index, crop in
            let start = index * steps * classes
            let (text, score) = try decoder.decode(probabilities[start..<(start + steps * classes)], steps: steps, classCount: classes)
            return OCRLine(box: crop.box, text: text, score: Double(score))
        }
    }
}
