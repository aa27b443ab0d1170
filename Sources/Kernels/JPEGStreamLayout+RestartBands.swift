/// Restart bands: a sequential JPEG whose restart intervals start on MCU-row boundaries can
/// be cut into horizontal bands, each a JPEG stream of its own (the original header with the
/// band's height in the frame header, the band's intervals, EOI) decoded on its own thread.
///
/// Exact: the DC predictors restart at every interval, the IDCT works per block, and a band
/// that starts at interval 8k meets RST0, RST1, … in the order a decoder expects. The one
/// dependency across rows is vertical chroma upsampling (4:2:0, 4:4:0), which reads the
/// neighbouring chroma rows: there each band also decodes a context band of MCU rows above and
/// below and writes only its own rows.
extension JPEGStreamLayout {
    struct RestartBand: Equatable {
        /// MCU rows the band's stream holds (its own and the context rows).
        let decodedRows: Range<Int>
        /// MCU rows the band writes.
        let writtenRows: Range<Int>
        /// The band's entropy-coded data in the original.
        let data: Range<Int>
        /// Image rows the band's stream declares in its frame header.
        let height: Int
    }

    /// Image rows of one MCU row (8 for a single-component scan, else 8 × the largest vertical sampling).
    var mcuRowHeight: Int { frame.components.count == 1 ? 8 : 8 * frame.maxVerticalSampling }

    /// Up to `count` bands of about equal height; nil when the stream does not qualify: not
    /// sequential Huffman, more than one scan, no restart interval, markers out of sequence or
    /// missing, or no interval boundary that is both an MCU-row boundary and a multiple of 8
    /// intervals before the last MCU row.
    func restartBands(count: Int) -> [RestartBand]? {
        let scans = self.scans
        guard count >= 2, frame.isSequentialHuffman, scans.count == 1, let scan = scans.first,
            scan.components.count == frame.components.count, scan.restartInterval > 0, scan.restartMarkersInSequence
        else { return nil }
        let mcuWidth = frame.components.count == 1 ? 8 : 8 * frame.maxHorizontalSampling
        let mcusPerRow = (frame.width + mcuWidth - 1) / mcuWidth
        let totalRows = (frame.height + mcuRowHeight - 1) / mcuRowHeight
        let interval = scan.restartInterval
        let intervals = (mcusPerRow * totalRows + interval - 1) / interval
        guard scan.restartCount == intervals - 1 else { return nil }
        // Rows r where a band may start: r · mcusPerRow is a multiple of 8 intervals.
        let step = 8 * interval / gcd(mcusPerRow, 8 * interval)
        guard step < totalRows else { return nil }
        let bandCount = min(count, (totalRows + step - 1) / step)
        var starts: [Int] = []
        for band in 0..<bandCount {
            let start = band * totalRows / bandCount / step * step
            if starts.last != start { starts.append(start) }
        }
        guard starts.count >= 2 else { return nil }
        let needsContext = frame.components.contains { $0.verticalSampling != frame.maxVerticalSampling }
        let context = needsContext ? step : 0
        func dataStart(row: Int) -> Int {
            let index = row * mcusPerRow / interval
            return index == 0 ? scan.dataStart : scan.restartPoints[index / 8 - 1].nextStart
        }
        func dataEnd(row: Int) -> Int {
            row == totalRows ? scan.range.upperBound : scan.restartPoints[row * mcusPerRow / interval / 8 - 1].dataEnd
        }
        return starts.indices.map { band in
            let written = starts[band]..<(band + 1 < starts.count ? starts[band + 1] : totalRows)
            let decoded = max(0, written.lowerBound - context)..<min(totalRows, written.upperBound + context)
            let height = min(frame.height, decoded.upperBound * mcuRowHeight) - decoded.lowerBound * mcuRowHeight
            return RestartBand(
                decodedRows: decoded, writtenRows: written,
                data: dataStart(row: decoded.lowerBound)..<dataEnd(row: decoded.upperBound), height: height)
        }
    }

    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
