import IR
import Kernels

/// A decode_jpeg node's options and where its bytes come from. The bytes must be a graph
/// input or a constant, so the header can be read (and the output size known) before the
/// plan is chosen and anything is decoded.
struct DecodeConfig {
    enum Source {
        case input(position: Int)
        case constant(Tensor)
    }

    let name: String
    let source: Source
    let options: JPEGDecodeOptions
    /// Set by `decode-scale`: the resize this decode feeds. Each image then decodes at the
    /// smallest TurboJPEG scaling factor that still gives the resize at least its output size.
    let fit: Attributes?
    /// Set by `decode-region`: the preprocess this decode feeds (resize rule, interpolation,
    /// crop). Each plan then decodes only the source window that preprocess reads.
    let region: Attributes?

    /// Reads the attributes: color rgb|bgr|gray, orientation apply|ignore, max_pixels,
    /// on_corrupt error|warn, scale_num/scale_denom.
    init(node: Node, name: String, graph: Graph, producers: [ValueID: Int]) throws {
        self.name = name
        let operand = node.inputs[0]
        if let position = graph.inputs.firstIndex(of: operand) {
            source = .input(position: position)
        } else if let tensor = graph.constantValue(of: operand) {
            source = .constant(tensor)
        } else {
            throw RuntimeError.unsupported(op: .decodeJPEG, value: name, reason: "its bytes must be a graph input or a constant")
        }
        let a = node.attributes
        func choice<T>(_ key: String, _ values: [String: T], default value: T) throws -> T {
            guard let text = a.string(key) else { return value }
            guard let chosen = values[text] else {
                throw RuntimeError.unsupported(op: .decodeJPEG, value: name, reason: "\(key) '\(text)' (expected \(values.keys.sorted().joined(separator: " or ")))")
            }
            return chosen
        }
        let color = try choice("color", ["rgb": JPEGDecodeOptions.Color.rgb, "bgr": .bgr, "gray": .gray], default: .rgb)
        let orientation = try choice("orientation", ["apply": true, "ignore": false], default: true)
        let onCorrupt = try choice("on_corrupt", ["error": JPEGDecodeOptions.CorruptDataPolicy.error, "warn": .warn], default: .error)
        let maxPixels = a.int("max_pixels", default: JPEGDecodeOptions.defaultPixelLimit)
        guard maxPixels > 0 else { throw RuntimeError.unsupported(op: .decodeJPEG, value: name, reason: "max_pixels \(maxPixels) must be positive") }
        let scale: JPEGScale
        do {
            scale = try JPEGScale(num: a.int("scale_num", default: 1), denom: a.int("scale_denom", default: 1))
        } catch let error as JPEGError {
            throw RuntimeError.decode(value: name, error)
        }
        options = JPEGDecodeOptions(color: color, scale: scale, pixelLimit: maxPixels, onCorrupt: onCorrupt, applyOrientation: orientation)
        fit = ImageGeometry.decodeFit(a)
        region = ImageGeometry.decodeRegion(a)
    }

    /// The options for one image: with a `fit`, the smallest scale of at most 1/2 whose
    /// (oriented) output the resize does not upscale; the full size when none is that large.
    /// 5/8, 6/8 and 7/8 are never chosen: libjpeg-turbo has SIMD IDCTs for 1/1, 1/2 and 1/4
    /// only, and its C 5×5 … 7×7 IDCTs made those decodes 1.1–2.0× slower than the full one
    /// (measured, FINDINGS), while 3/8 still beat 1/2.
    func options(for header: JPEGHeader) -> JPEGDecodeOptions {
        guard let fit else { return options }
        var chosen = options
        for scale in JPEGScale.supported.sorted(by: { $0.num * $1.denom < $1.num * $0.denom }) where scale.num * 2 <= scale.denom {
            chosen.scale = scale
            let shape = JPEGDecoder.outputShape(header: header, options: chosen)
            if ImageGeometry.decodedSizeSuffices(height: shape.height, width: shape.width, fit: fit) { return chosen }
        }
        chosen.scale = .full
        return chosen
    }

    private func withBytes<R>(_ inputs: [Tensor], _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch source {
        case .input(let position): try inputs[position].data.withUnsafeBytes(body)
        case .constant(let tensor): try tensor.data.withUnsafeBytes(body)
        }
    }

    /// [h, w, c] of the decoded image, from the header alone; rejects images over `max_pixels`
    /// (stored or scaled size) before any buffer is planned for them. A PNG (told by its
    /// signature) decodes at full size whatever the scale; orientation and `on_corrupt: warn`
    /// are JPEG's.
    func outputShape(inputs: [Tensor], decoder: JPEGDecoder) throws -> [Int] {
        if let png = try pngHeader(inputs) {
            guard png.width * png.height <= options.pixelLimit else {
                throw RuntimeError.imageTooLarge(value: name, width: png.width, height: png.height, limit: options.pixelLimit)
            }
            let shape = PNGDecoder.outputShape(header: png, color: options.color)
            return [shape.height, shape.width, shape.channels]
        }
        let header: JPEGHeader
        do {
            header = try withBytes(inputs) { try decoder.readHeader($0) }
        } catch let error as JPEGError {
            throw RuntimeError.decode(value: name, error)
        }
        let options = options(for: header)
        let scaled = JPEGDecoder.decodedSize(header: header, scale: options.scale)
        for (width, height) in [(header.width, header.height), scaled] where width * height > options.pixelLimit {
            throw RuntimeError.imageTooLarge(value: name, width: width, height: height, limit: options.pixelLimit)
        }
        let shape = JPEGDecoder.outputShape(header: header, options: options)
        return [shape.height, shape.width, shape.channels]
    }

    /// The PNG header when the bytes are a PNG, else nil (they are then taken as a JPEG).
    private func pngHeader(_ inputs: [Tensor]) throws -> PNGHeader? {
        do {
            return try withBytes(inputs) { bytes -> PNGHeader? in
                guard PNGDecoder.isPNG(bytes) else { return nil }
                return try PNGDecoder.readHeader(bytes)
            }
        } catch let error as PNGError {
            throw RuntimeError.decode(value: name, error)
        }
    }

    /// The source pixels the preprocess of `region` reads from an image of `shape` ([h, w, c]),
    /// or nil to decode it all (no region, or a geometry the preprocess itself will reject).
    private func window(shape: [Int]) -> PixelRect? {
        guard let region, let method = interpolation(region),
              let geometry = try? PreprocessGeometry(region, height: shape[0], width: shape[1]),
              let plan = try? geometry.plan(interpolation: method) else { return nil }
        return plan.sourceWindow
    }

    /// Decodes straight into the output's arena bytes; with `wholeImage` false and a `region`,
    /// only the pixels the preprocess reads (the rest of the arena bytes keep whatever they held).
    /// - Parameter wholeImage: the decoded image is read by more than its preprocess (a graph
    ///   output, a value captured with `--save`).
    func makeStep(_ n: NodeContext, wholeImage: Bool) -> StepBody {
        let ySlot = n.outputs[0], byteCount = n.outCount(0)
        let window = wholeImage ? nil : window(shape: n.outShape(0))
        return { ctx in
            let output = UnsafeMutableRawBufferPointer(start: ctx.raw(ySlot), count: byteCount)
            let isPNG = withBytes(ctx.inputs) { PNGDecoder.isPNG($0) }
            if isPNG {
                do {
                    try withBytes(ctx.inputs) { bytes in
                        try PNGDecoder.decode(bytes, into: output, color: options.color, pixelLimit: options.pixelLimit)
                    }
                } catch let error as PNGError {
                    throw RuntimeError.decode(value: name, error)
                }
                return
            }
            do {
                let result = try withBytes(ctx.inputs) { bytes in
                    var options = fit == nil ? options : self.options(for: try ctx.decoder.readHeader(bytes))
                    options.region = window
                    return try ctx.decoder.decode(bytes, into: output, options: options, parallel: ctx.pool)
                }
                if let warning = result.warning { ctx.warnings.append("%\(name): \(warning)") }
            } catch let error as JPEGError {
                throw RuntimeError.decode(value: name, error)
            }
        }
    }
}
