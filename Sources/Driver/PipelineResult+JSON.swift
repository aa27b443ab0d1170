import Foundation

/// The ranked classes of one result, as `visionc run --json` prints them and the server's
/// `result` output carries them: `results` (the first ranking) and, with several rankings,
/// `rankings` (all of them). Codable, so that the server encodes it with `JSONEncoder`, which
/// on Linux is about 10× faster than `JSONSerialization` (measured: 9 µs against 131 µs for
/// five classes), and a request's time is not spent on its answer's formatting.
public struct RankingReport: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var `class`: Int
        public var score: Double
        public var label: String?
    }

    public var results: [Entry]
    public var rankings: [[Entry]]?

    /// Encoded with sorted keys, as every JSON this project writes.
    public func encoded() -> Data { sortedJSON(self) }
}

/// What a text-reading or detection graph found — its lines or detections — as the server's
/// `result` output carries them (the same `results` list `visionc run --json` prints).
public struct ResultList<Item: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var results: [Item]

    public func encoded() -> Data { sortedJSON(self) }
}

/// JSON with sorted keys and unescaped slashes, as every JSON this project writes.
func sortedJSON<Value: Encodable>(_ value: Value) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(value)) ?? Data("{}".utf8)
}

extension PipelineResult {
    /// What the server's `result` output carries: the read lines of a graph that reads text,
    /// the detections of one that detects, else the ranked classes.
    public var resultJSON: Data {
        if let lines = texts.first { return ResultList(results: lines).encoded() }
        if let found = detections.first { return ResultList(results: found).encoded() }
        return rankingReport.encoded()
    }

    public var rankingReport: RankingReport {
        let entries = rankings.map { $0.map { RankingReport.Entry(class: $0.index, score: Double($0.score), label: $0.label) } }
        return RankingReport(results: entries.first ?? [], rankings: entries.count > 1 ? entries : nil)
    }
}
