import CTurboJPEG

/// Geometry of a decoded image, plus the TurboJPEG warning tolerated under `onCorrupt: .warn`.
public struct JPEGDecodeResult: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    /// Set only when the data was damaged and the options asked to keep going.
    public var warning: String?
}

/// Decodes JPEG bytes into HWC u8 pixels in memory the caller owns.
///
/// One instance keeps one TurboJPEG handle and one grow-only scratch buffer, so steady-state
/// decoding allocates nothing. An instance must be used by one thread at a time; it is
/// deliberately not `Sendable` (the handle and scratch are mutable state). Give each worker
/// its own decoder, or hand one over with `sending`.
public final class JPEGDecoder {
    private let handle: tjhandle
    /// Holds CMYK pixels before conversion and pre-orientation pixels before the remap.
    /// Its size is bounded by `pixelLimit` × 4 bytes.
    private var scratch: [UInt8] = []

    /// - Throws: `JPEGError.initFailed` when TurboJPEG cannot allocate a decompressor.
    public init() throws {
        guard let handle = tjInitDecompress() else {
            throw JPEGError.initFailed(String(cString: tjGetErrorStr2(nil)))
        }
        self.handle = handle
    }

    deinit { tjDestroy(handle) }

    // MARK: - Header and sizes

    /// Reads the header without decoding or allocating pixels.
    /// - Throws: `emptyInput`, `notJPEG`, `headerUnreadable`, `zeroSize`.
    public func readHeader(_ bytes: UnsafeRawBufferPointer) throws -> JPEGHeader {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { throw JPEGError.emptyInput }
        guard bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 else {
            throw JPEGError.notJPEG(firstBytes: Array(bytes.prefix(8)))
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let status = tjDecompressHeader3(
            handle, base.assumingMemoryBound(to: UInt8.self), UInt(bytes.count),
            &width, &height, &subsampling, &colorspace)
        guard status == 0 else { throw JPEGError.headerUnreadable(lastError()) }
        guard width > 0, height > 0 else { throw JPEGError.zeroSize(width: Int(width), height: Int(height)) }
        guard let knownSubsampling = JPEGSubsampling(rawValue: subsampling),
            let knownColorspace = JPEGColorspace(rawValue: colorspace)
        else {
            throw JPEGError.headerUnreadable("unknown TurboJPEG subsampling \(subsampling) or colorspace \(colorspace)")
        }
        let markers = JPEGMarkerInfo(scanning: bytes)
        return JPEGHeader(
            width: Int(width), height: Int(height), subsampling: knownSubsampling,
            colorspace: knownColorspace, isProgressive: markers.isProgressive,
            orientation: markers.orientation, hasAdobeMarker: markers.hasAdobeMarker)
    }

    /// Size TurboJPEG produces at `scale`, before EXIF orientation.
    public static func decodedSize(header: JPEGHeader, scale: JPEGScale) -> (width: Int, height: Int) {
        (scale.scaled(header.width), scale.scaled(header.height))
    }

    /// Shape of the output `decode` writes with these options (scaled, oriented, channels
    /// of the requested color), so a planner can size buffers before decoding.
    public static func outputShape(
        header: JPEGHeader, options: JPEGDecodeOptions
    ) -> (width: Int, height: Int, channels: Int) {
        let decoded = decodedSize(header: header, scale: options.scale)
        let orientation = options.applyOrientation ? header.orientation : .identity
        let oriented = orientation.orientedSize(width: decoded.width, height: decoded.height)
        return (oriented.width, oriented.height, options.color.channels)
    }

    // MARK: - Decoding

    /// Decodes into `output` (HWC u8, rows packed, `width × height × channels` bytes).
    /// - Parameter parallel: threads for a sequential file with restart intervals, decoded in
    ///   bands (`JPEGStreamLayout+RestartBands`); nil decodes on the calling thread only.
    /// - Throws: the `readHeader` errors, `tooLarge` (before any allocation), `bufferTooSmall`,
    ///   `corruptData` (unless `onCorrupt` is `.warn`), `decodeFailed`.
    public func decode(
        _ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
        options: JPEGDecodeOptions = JPEGDecodeOptions(), parallel: (any ParallelLoop)? = nil
    ) throws -> JPEGDecodeResult {
        let header = try readHeader(bytes)
        try Self.checkPixelLimit(header: header, options: options)
        return try decode(bytes, header: header, into: output, options: options, parallel: parallel)
    }

    /// Decodes into a new array; for tests and tools (the runtime passes its own buffers).
    public func decode(
        _ bytes: UnsafeRawBufferPointer, options: JPEGDecodeOptions = JPEGDecodeOptions(),
        parallel: (any ParallelLoop)? = nil
    ) throws -> (pixels: [UInt8], result: JPEGDecodeResult) {
        let header = try readHeader(bytes)
        try Self.checkPixelLimit(header: header, options: options)
        let shape = Self.outputShape(header: header, options: options)
        var pixels = [UInt8](repeating: 0, count: shape.width * shape.height * shape.channels)
        let result = try pixels.withUnsafeMutableBytes { output in
            try decode(bytes, header: header, into: output, options: options, parallel: parallel)
        }
        return (pixels, result)
    }

    /// Rejects images whose stored or scaled size exceeds the limit. The stored size counts
    /// too because libjpeg's own buffers (all coefficients, for progressive files) scale with it.
    private static func checkPixelLimit(header: JPEGHeader, options: JPEGDecodeOptions) throws {
        let decoded = decodedSize(header: header, scale: options.scale)
        for (width, height) in [(header.width, header.height), decoded] where width * height > options.pixelLimit {
            throw JPEGError.tooLarge(width: width, height: height, limit: options.pixelLimit)
        }
    }

    private func decode(
        _ bytes: UnsafeRawBufferPointer, header: JPEGHeader, into output: UnsafeMutableRawBufferPointer,
        options: JPEGDecodeOptions, parallel: (any ParallelLoop)?
    ) throws -> JPEGDecodeResult {
        let shape = Self.outputShape(header: header, options: options)
        let required = shape.width * shape.height * shape.channels
        guard output.count >= required, let outputBase = output.baseAddress else {
            throw JPEGError.bufferTooSmall(required: required, provided: output.count)
        }
        let destination = outputBase.assumingMemoryBound(to: UInt8.self)
        let decoded = Self.decodedSize(header: header, scale: options.scale)
        let orientation = options.applyOrientation ? header.orientation : .identity
        var result = JPEGDecodeResult(width: shape.width, height: shape.height, channels: shape.channels)

        // Common case: TurboJPEG writes the final pixels straight into the caller's buffer.
        // It replicates gray sources to RGB/BGR and computes luma for gray output itself.
        if !header.colorspace.isCMYK && orientation == .identity {
            result.warning = try decompress(
                bytes, header: header, into: destination, size: decoded, options: options, parallel: parallel)
            return result
        }

        // Otherwise decode into scratch, convert CMYK (in place when a remap follows), then remap.
        // The region is in the output's coordinates, not the staged image's: stage it all.
        var options = options
        options.region = nil
        let stagedChannels = header.colorspace.isCMYK ? 4 : shape.channels
        let stagedCount = decoded.width * decoded.height * stagedChannels
        if scratch.count < stagedCount {
            scratch = [UInt8](repeating: 0, count: stagedCount)
        }
        result.warning = try scratch.withUnsafeMutableBufferPointer { staged in
            guard let stagedBase = staged.baseAddress else {
                throw JPEGError.zeroSize(width: decoded.width, height: decoded.height)
            }
            let warning = try decompress(
                bytes, header: header, into: stagedBase, size: decoded, options: options, parallel: parallel)
            if header.colorspace.isCMYK {
                JPEGCMYKConversion.convert(
                    cmyk: stagedBase, pixelCount: decoded.width * decoded.height,
                    inverted: header.hasAdobeMarker, color: options.color,
                    destination: orientation == .identity ? destination : stagedBase)
            }
            if orientation != .identity {
                orientation.apply(
                    source: stagedBase, width: decoded.width, height: decoded.height,
                    channels: shape.channels, destination: destination)
            }
            return warning
        }
        return result
    }

    /// Decodes at the exact scaled size, in the file's colour (CMYK for CMYK files, else
    /// `options.color`): from a rebuilt stream where that is exact and saves work, else with
    /// `tjDecompress2`. Returns the warning text when damaged data is tolerated; with `.error`,
    /// the decode stops at the first warning to save work.
    private func decompress(
        _ bytes: UnsafeRawBufferPointer, header: JPEGHeader, into destination: UnsafeMutablePointer<UInt8>,
        size: (width: Int, height: Int), options: JPEGDecodeOptions, parallel: (any ParallelLoop)?
    ) throws -> String? {
        guard let source = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw JPEGError.emptyInput
        }
        if try decompressRebuilt(bytes, header: header, into: destination, size: size, options: options, parallel: parallel) {
            return nil
        }
        let format = header.colorspace.isCMYK ? TJPF_CMYK : options.color.pixelFormat
        let onCorrupt = options.onCorrupt
        let flags = onCorrupt == .error ? TJFLAG_STOPONWARNING : 0
        let status = tjDecompress2(
            handle, source, UInt(bytes.count), destination,
            Int32(size.width), 0, Int32(size.height), format.rawValue, flags)
        guard status != 0 else { return nil }
        let message = lastError()
        guard tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) else {
            throw JPEGError.decodeFailed(message)
        }
        guard onCorrupt == .warn else { throw JPEGError.corruptData(message) }
        return message
    }

    /// Decodes from a stream rebuilt at the marker level, with libjpeg's API, when one applies:
    /// a progressive file at 1/2, 1/4 or 1/8 from its pruned scans, a sequential file with
    /// restart intervals in bands on `parallel`'s threads, or — when `options.region` leaves
    /// pixels out — the whole file limited to that region's rows and columns. Each gives
    /// TurboJPEG's pixels exactly (bands and pruning: the two `JPEGStreamLayout` extensions; the
    /// region: `vc_jpeg_request`'s crop margin, tested in JPEGStreamRebuildTests). Returns false,
    /// having written nothing, when none applies. Damaged files decoded under `warn` and CMYK
    /// files keep TurboJPEG's decode, so their partial pixels, warnings and colour handling stay
    /// as they were. `decompress` is only called for unoriented output, so the region is in the
    /// decoded image's own coordinates.
    private func decompressRebuilt(
        _ bytes: UnsafeRawBufferPointer, header: JPEGHeader, into destination: UnsafeMutablePointer<UInt8>,
        size: (width: Int, height: Int), options: JPEGDecodeOptions, parallel: (any ParallelLoop)?
    ) throws -> Bool {
        guard options.onCorrupt == .error, !header.colorspace.isCMYK else { return false }
        let whole = PixelRect(y: 0, x: 0, height: size.height, width: size.width)
        let region = options.region.map { $0.clamped(to: whole) } ?? whole
        if header.isProgressive, options.scale.num == 1, options.scale.denom > 1,
            let ranges = JPEGStreamLayout(scanning: bytes)?.prunedRanges(at: options.scale)
        {
            var stream = LibJPEGStream()
            for range in ranges { stream.append(bytes, range) }
            // A pruned stream lacks AC scans on purpose: smoothing would invent them (FINDINGS).
            try stream.decode(region, of: size.width, into: destination, options: options, blockSmoothing: false)
            return true
        }
        if !header.isProgressive, let parallel, parallel.threadCount > 1,
            let layout = JPEGStreamLayout(scanning: bytes, requiringRestartInterval: true),
            let bands = layout.restartBands(count: parallel.threadCount), let scan = layout.scans.first
        {
            try decodeBands(
                bytes, layout: layout, bands: bands, firstScan: scan, into: destination,
                rowBytes: size.width * options.color.channels, size: size, options: options, parallel: parallel)
            return true
        }
        // The region decode stops after the window's last row, so damage below it would go
        // unseen: only a structurally intact file (`JPEGStreamLayout`) takes it; a truncated one
        // keeps TurboJPEG's decode and its error. Smoothing as TurboJPEG's (a no-op once every
        // scan of a progressive file has arrived).
        guard region != whole, let layout = JPEGStreamLayout(scanning: bytes) else { return false }
        var stream = LibJPEGStream()
        stream.append(bytes, 0..<layout.endOfImage + 2)
        try stream.decode(region, of: size.width, into: destination, options: options, blockSmoothing: true)
        return true
    }

    /// The restart-interval bands of a sequential file, each a stream of its own decoded on a
    /// pool thread into its rows.
    private func decodeBands(
        _ bytes: UnsafeRawBufferPointer, layout: JPEGStreamLayout, bands: [JPEGStreamLayout.RestartBand],
        firstScan scan: JPEGStreamLayout.Scan, into destination: UnsafeMutablePointer<UInt8>, rowBytes: Int,
        size: (width: Int, height: Int), options: JPEGDecodeOptions, parallel: any ParallelLoop
    ) throws {
        let outputRowsPerMCURow = layout.mcuRowHeight * options.scale.num / options.scale.denom
        try parallel.parallelRanges(count: bands.count, minChunk: 1) { range in
            for band in bands[range] {
                let firstRow = band.writtenRows.lowerBound * outputRowsPerMCURow
                let endRow = min(size.height, band.writtenRows.upperBound * outputRowsPerMCURow)
                let height: [UInt8] = [UInt8(band.height >> 8), UInt8(band.height & 0xFF)]
                try height.withUnsafeBytes { height in
                    var stream = LibJPEGStream()
                    stream.append(bytes, 0..<layout.frame.heightOffset)
                    stream.append(height, 0..<2)
                    stream.append(bytes, layout.frame.heightOffset + 2..<scan.dataStart)
                    stream.append(bytes, band.data)
                    stream.append(bytes, layout.endOfImage..<layout.endOfImage + 2)
                    try stream.decode(
                        into: destination + firstRow * rowBytes, capacity: (endRow - firstRow) * rowBytes, width: size.width,
                        color: options.color, scale: options.scale, blockSmoothing: true,
                        skipRows: (band.writtenRows.lowerBound - band.decodedRows.lowerBound) * outputRowsPerMCURow,
                        rows: endRow - firstRow)
                }
            }
        }
    }

    private func lastError() -> String {
        String(cString: tjGetErrorStr2(handle))
    }
}

extension JPEGDecodeOptions.Color {
    fileprivate var pixelFormat: TJPF {
        switch self {
        case .rgb: TJPF_RGB
        case .bgr: TJPF_BGR
        case .gray: TJPF_GRAY
        }
    }
}
