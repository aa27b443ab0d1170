import Driver
import Foundation
import IR
import Runtime

/// How `visionc run` shows a result: a readable block, or one JSON object a line.
enum ResultFormat {
    static func text(_ r: PipelineResult) -> String {
        var lines = [r.input]
        for ranking in r.rankings {
            for (rank, c) in ranking.enumerated() {
                let label = c.label.map { "  \($0)" } ?? ""
                lines.append(String(format: "  %d. %-6d %.5f", rank + 1, c.index, c.score) + label)
            }
        }
        if r.rankings.isEmpty {
            for (i, t) in r.outputs.enumerated() { lines.append("  output \(i): \(t.dtype)\(t.shape)") }
        }
        let stages = StageCategory.allCases.compactMap { c -> String? in
            let s = r.profile.seconds(by: c)
            return s > 0 ? String(format: "%@ %.2f", c.rawValue, s * 1000) : nil
        }
        lines.append("  time (ms): " + stages.joined(separator: " · ") + String(format: " · total %.2f", r.profile.total * 1000))
        return lines.joined(separator: "\n")
    }

    static func json(_ r: PipelineResult) -> String {
        var times: [String: Double] = ["total": r.profile.total * 1000]
        for c in StageCategory.allCases where r.profile.seconds(by: c) > 0 { times[c.rawValue] = r.profile.seconds(by: c) * 1000 }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(RunLine(input: r.input, report: r.rankingReport, timeMs: times)) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// One line of `run --json`: the ranking report with the input's path and its times.
private struct RunLine: Encodable {
    var input: String
    var report: RankingReport
    var timeMs: [String: Double]

    enum CodingKeys: String, CodingKey {
        case input
        case timeMs = "time_ms"
    }

    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(input, forKey: .input)
        try container.encode(timeMs, forKey: .timeMs)
    }
}
