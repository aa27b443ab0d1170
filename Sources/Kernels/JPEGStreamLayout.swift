#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The marker-level structure of a whole JPEG stream: every segment's byte range in file
/// order, the frame and scan headers parsed, and where each scan's entropy-coded data ends.
/// Built without entropy decoding: the scan data is only searched for markers (0xFF not
/// followed by a stuffed 0x00), which costs a `memchr` pass over the file.
///
/// It is the basis of decodes that rebuild a stream from ranges of the original file (scan
/// pruning, restart bands). Such a rebuilt stream can skip data, so a stream whose structure
/// is not intact is refused (`nil`): a segment running past the end, a scan without a marker
/// after its data, no EOI after the last scan. Those files then take TurboJPEG's full decode,
/// which reports them as it always has; a rebuilt stream never hides a truncated file.
struct JPEGStreamLayout {
    struct Component: Equatable {
        let id: UInt8
        let horizontalSampling: Int
        let verticalSampling: Int
    }

    struct Frame {
        /// The SOFn marker's second byte (C0 baseline, C1 extended, C2 progressive, …).
        let marker: UInt8
        let width: Int
        let height: Int
        let components: [Component]
        /// Offset of the two height bytes (big-endian) in the frame header.
        let heightOffset: Int

        var isProgressive: Bool { marker == 0xC2 }
        var isSequentialHuffman: Bool { marker == 0xC0 || marker == 0xC1 }
        var maxHorizontalSampling: Int { components.map(\.horizontalSampling).max() ?? 1 }
        var maxVerticalSampling: Int { components.map(\.verticalSampling).max() ?? 1 }
    }

    /// A restart marker that ends an interval whose index is 7 mod 8: the next interval is
    /// numbered from RST0 again, so a stream may start there (see `JPEGStreamLayout+RestartBands`).
    struct RestartPoint {
        /// Where the data before the marker ends (the first 0xFF of the marker, fill bytes included).
        let dataEnd: Int
        /// Where the next interval's data starts (just past the marker).
        let nextStart: Int
    }

    struct Scan {
        /// From the SOS marker to the end of the scan's entropy-coded data.
        let range: Range<Int>
        /// Where the entropy-coded data starts (just past the SOS segment).
        let dataStart: Int
        /// Indices into `Frame.components` of the scan's components.
        let components: [Int]
        /// Spectral selection (zigzag indices, start ≤ end ≤ 63) and successive approximation bit positions.
        let spectralStart: Int, spectralEnd: Int
        let approximationHigh: Int, approximationLow: Int
        /// MCUs per restart interval in force for this scan (DRI); 0 when none.
        let restartInterval: Int
        /// Restart markers in the scan's data.
        let restartCount: Int
        /// Whether the markers run RST0, RST1, … RST7, RST0, … as the standard requires.
        let restartMarkersInSequence: Bool
        let restartPoints: [RestartPoint]
    }

    enum Segment {
        case scan(Scan)
        /// Any other marker segment (tables, DRI, APPn, COM), SOI excluded.
        case other(Range<Int>)
    }

    let frame: Frame
    /// Every segment after SOI and before EOI, in file order.
    let segments: [Segment]
    /// Offset of the EOI marker.
    let endOfImage: Int

    var scans: [Scan] {
        segments.compactMap { if case .scan(let scan) = $0 { scan } else { nil } }
    }

    /// - Parameter requiringRestartInterval: stop (nil) at the first scan when no restart
    ///   interval is in force, so a caller that only wants restart bands pays for no data walk.
    init?(scanning bytes: UnsafeRawBufferPointer, requiringRestartInterval: Bool = false) {
        guard let base = bytes.baseAddress, bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        func u16(_ at: Int) -> Int { Int(bytes[at]) << 8 | Int(bytes[at + 1]) }
        var frame: Frame?
        var segments: [Segment] = []
        var restartInterval = 0
        var offset = 2
        while true {
            guard offset < bytes.count, bytes[offset] == 0xFF else { return nil }
            var markerAt = offset + 1
            while markerAt < bytes.count && bytes[markerAt] == 0xFF { markerAt += 1 }  // fill bytes
            guard markerAt < bytes.count else { return nil }
            let marker = bytes[markerAt]
            if marker == 0xD9 {
                guard let frame, segments.contains(where: { if case .scan = $0 { true } else { false } }) else { return nil }
                self.frame = frame
                self.segments = segments
                endOfImage = offset
                return
            }
            // SOI again, or a restart marker outside scan data: not a stream we rebuild.
            guard marker != 0xD8, !(0xD0...0xD7).contains(marker) else { return nil }
            if marker == 0x01 {  // TEM, a standalone marker
                segments.append(.other(offset..<markerAt + 1))
                offset = markerAt + 1
                continue
            }
            guard markerAt + 3 <= bytes.count else { return nil }
            let length = u16(markerAt + 1)
            let payload = markerAt + 3
            let end = markerAt + 1 + length
            guard length >= 2, end <= bytes.count else { return nil }
            switch marker {
            case 0xC0...0xCF where marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
                guard frame == nil, length >= 8 else { return nil }
                let count = Int(bytes[payload + 5])
                guard count > 0, length == 8 + 3 * count else { return nil }
                let components = (0..<count).map { index in
                    let at = payload + 6 + 3 * index
                    return Component(
                        id: bytes[at], horizontalSampling: Int(bytes[at + 1] >> 4), verticalSampling: Int(bytes[at + 1] & 0x0F))
                }
                guard components.allSatisfy({ (1...4).contains($0.horizontalSampling) && (1...4).contains($0.verticalSampling) })
                else { return nil }
                let parsed = Frame(
                    marker: marker, width: u16(payload + 3), height: u16(payload + 1), components: components,
                    heightOffset: payload + 1)
                guard parsed.width > 0, parsed.height > 0 else { return nil }
                frame = parsed
                segments.append(.other(offset..<end))
                offset = end
            case 0xDD:
                guard length == 4 else { return nil }
                restartInterval = u16(payload)
                segments.append(.other(offset..<end))
                offset = end
            case 0xDA:
                guard let frame, length >= 6 else { return nil }
                if requiringRestartInterval && restartInterval == 0 { return nil }
                let count = Int(bytes[payload])
                guard count > 0, length == 6 + 2 * count else { return nil }
                var components: [Int] = []
                for index in 0..<count {
                    guard let component = frame.components.firstIndex(where: { $0.id == bytes[payload + 1 + 2 * index] })
                    else { return nil }
                    components.append(component)
                }
                let spectral = payload + 1 + 2 * count
                // A band outside 0…63 or reversed is no scan libjpeg decodes (it refuses it too).
                guard bytes[spectral] <= bytes[spectral + 1], bytes[spectral + 1] <= 63 else { return nil }
                guard let data = Self.walkEntropyData(base: base, count: bytes.count, from: end) else { return nil }
                segments.append(
                    .scan(
                        Scan(
                            range: offset..<data.end, dataStart: end, components: components,
                            spectralStart: Int(bytes[spectral]), spectralEnd: Int(bytes[spectral + 1]),
                            approximationHigh: Int(bytes[spectral + 2] >> 4), approximationLow: Int(bytes[spectral + 2] & 0x0F),
                            restartInterval: restartInterval, restartCount: data.restartCount,
                            restartMarkersInSequence: data.inSequence, restartPoints: data.points)))
                offset = data.end
            default:
                segments.append(.other(offset..<end))
                offset = end
            }
        }
    }

    /// Finds the end of one scan's entropy-coded data: the first marker other than RSTn.
    /// Nil when the data runs to the end of the bytes (a truncated file).
    private static func walkEntropyData(
        base: UnsafeRawPointer, count: Int, from start: Int
    ) -> (end: Int, restartCount: Int, inSequence: Bool, points: [RestartPoint])? {
        var position = start
        var restartCount = 0
        var inSequence = true
        var points: [RestartPoint] = []
        while position < count {
            guard let found = memchr(base + position, 0xFF, count - position) else { return nil }
            let markerStart = base.distance(to: UnsafeRawPointer(found))
            var codeAt = markerStart + 1
            let bytes = base.assumingMemoryBound(to: UInt8.self)
            while codeAt < count && bytes[codeAt] == 0xFF { codeAt += 1 }
            guard codeAt < count else { return nil }
            let code = bytes[codeAt]
            switch code {
            case 0x00:
                position = codeAt + 1  // a stuffed 0xFF data byte
            case 0xD0...0xD7:
                if Int(code - 0xD0) != restartCount % 8 { inSequence = false }
                if restartCount % 8 == 7 { points.append(RestartPoint(dataEnd: markerStart, nextStart: codeAt + 1)) }
                restartCount += 1
                position = codeAt + 1
            default:
                return (markerStart, restartCount, inSequence, points)
            }
        }
        return nil
    }
}
