/// Scan pruning: a progressive JPEG decoded at 1/2, 1/4 or 1/8 needs only the scans whose
/// coefficients libjpeg-turbo's reduced IDCTs read, so the stream is rebuilt from the other
/// segments and those scans alone, and the entropy decoding of the rest is never done.
///
/// Exact: the pruned stream decoded with block smoothing off equals the original decoded at
/// the same scale with block smoothing off (the dropped coefficients are never read), and
/// that equals TurboJPEG's decode of the original (smoothing on) because libjpeg smooths only
/// while coefficients 1…9 of some component are not yet fully known (`smoothing_ok` in
/// jdcoefct.c). `prunedRanges` therefore refuses files whose scans never complete them.
///
/// Which coefficients are read (libjpeg-turbo 2.1, jdmaster.c and jidctred.c): a decode at
/// n/8 gives each component an IDCT of n×n output, doubled while a subsampled component's
/// block still covers fewer output pixels than the frame's largest (chroma of 4:2:0 at 1/8
/// gets a 2×2 IDCT). The 1×1 IDCT reads the DC coefficient only; the 2×2 reads rows and
/// columns 0, 1, 3, 5, 7 of the 8×8 block; the 4×4 all but row and column 4; the 8×8 all.
extension JPEGStreamLayout {
    /// `jpeg_natural_order`: the row-major position (row · 8 + column) of each zigzag index.
    static let naturalOrder: [Int] = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55,
        62, 63,
    ]

    /// Rows (and columns) of the coefficient block the reduced IDCT of `size`×`size` output reads.
    private static func linesRead(byIDCTOfSize size: Int) -> Set<Int> {
        switch size {
        case 1: [0]
        case 2: [0, 1, 3, 5, 7]
        case 4: [0, 1, 2, 3, 5, 6, 7]
        default: Set(0..<8)
        }
    }

    /// For each zigzag index, whether an IDCT of `size`×`size` output reads that coefficient.
    static func coefficientsRead(byIDCTOfSize size: Int) -> [Bool] {
        let lines = linesRead(byIDCTOfSize: size)
        return naturalOrder.map { lines.contains($0 / 8) && lines.contains($0 % 8) }
    }

    /// The IDCT output size libjpeg-turbo gives `component` at `scale`
    /// (`jpeg_calc_output_dimensions`); nil for scales other than 1/8, 1/4 and 1/2.
    func idctSize(of component: Component, at scale: JPEGScale) -> Int? {
        guard scale.num == 1, [2, 4, 8].contains(scale.denom) else { return nil }
        let smallest = 8 / scale.denom
        let (maxH, maxV) = (frame.maxHorizontalSampling, frame.maxVerticalSampling)
        var size = smallest
        while size < 8 && (maxH * smallest) % (component.horizontalSampling * size * 2) == 0
            && (maxV * smallest) % (component.verticalSampling * size * 2) == 0
        {
            size *= 2
        }
        return size
    }

    /// Whether every component's AC coefficients 1…9 end up at full precision (a scan with
    /// Al = 0 covers each), so the full decode has nothing to block-smooth.
    var completesSmoothedCoefficients: Bool {
        let scans = self.scans
        return frame.components.indices.allSatisfy { component in
            (1...9).allSatisfy { coefficient in
                scans.contains {
                    $0.components.contains(component) && $0.approximationLow == 0
                        && ($0.spectralStart...$0.spectralEnd).contains(coefficient)
                }
            }
        }
    }

    /// Byte ranges of the original whose concatenation is the pruned stream (SOI, every
    /// non-scan segment, the scans a decode at `scale` reads, EOI); nil when the frame is not
    /// progressive, the scale is not 1/2, 1/4 or 1/8, no scan would be dropped, or the result
    /// would not be exact (see the type's notes). Refinement scans of a band go with it: they
    /// cover the same spectral range.
    func prunedRanges(at scale: JPEGScale) -> [Range<Int>]? {
        guard frame.isProgressive, completesSmoothedCoefficients else { return nil }
        var needed: [[Bool]] = []
        for component in frame.components {
            guard let size = idctSize(of: component, at: scale) else { return nil }
            needed.append(Self.coefficientsRead(byIDCTOfSize: size))
        }
        var ranges: [Range<Int>] = [0..<2]
        var dropped = false
        func append(_ range: Range<Int>) {
            if let last = ranges.last, last.upperBound == range.lowerBound {
                ranges[ranges.count - 1] = last.lowerBound..<range.upperBound
            } else {
                ranges.append(range)
            }
        }
        for segment in segments {
            switch segment {
            case .other(let range):
                append(range)
            case .scan(let scan):
                let band = scan.spectralStart...scan.spectralEnd
                if scan.components.contains(where: { component in band.contains { needed[component][$0] } }) {
                    append(scan.range)
                } else {
                    dropped = true
                }
            }
        }
        append(endOfImage..<endOfImage + 2)
        return dropped ? ranges : nil
    }
}
