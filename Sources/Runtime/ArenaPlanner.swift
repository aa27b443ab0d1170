/// Assigns arena offsets to buffers with known lifetimes, so buffers whose lifetimes do not
/// overlap share bytes.
///
/// Greedy best fit, largest buffer first (TFLite's "greedy by size"): each buffer goes into
/// the smallest gap between already-placed buffers that are alive at the same time, or above
/// them all. Large activations claim space first, small ones fill the holes they leave.
enum ArenaPlanner {
    struct Request {
        var bytes: Int
        /// Step index of the first write and of the last read, inclusive. A buffer read by
        /// step i never shares bytes with one written by step i.
        var firstUse: Int
        var lastUse: Int
    }

    /// Offsets (64-byte aligned) in request order, and the arena size they need.
    static func assign(_ requests: [Request]) -> (offsets: [Int], totalBytes: Int) {
        var offsets = Array(repeating: 0, count: requests.count)
        var placed: [(offset: Int, end: Int, index: Int)] = []
        let order = requests.indices.sorted {
            requests[$0].bytes != requests[$1].bytes ? requests[$0].bytes > requests[$1].bytes : $0 < $1
        }
        var total = 0
        for index in order {
            let request = requests[index]
            let size = AlignedBuffer.roundedUp(request.bytes)
            let overlapping = placed.filter {
                let other = requests[$0.index]
                return other.firstUse <= request.lastUse && request.firstUse <= other.lastUse
            }.sorted { $0.offset < $1.offset }
            var best: (offset: Int, gap: Int)?
            var cursor = 0
            for block in overlapping {
                let gap = block.offset - cursor
                if gap >= size, best.map({ gap < $0.gap }) ?? true { best = (cursor, gap) }
                cursor = max(cursor, block.end)
            }
            let offset = best?.offset ?? cursor
            offsets[index] = offset
            placed.append((offset, offset + size, index))
            total = max(total, offset + size)
        }
        return (offsets, total)
    }
}
