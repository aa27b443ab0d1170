import Driver
import Foundation
import IR
import Runtime

/// How `visionc run` shows a result: a readable block, or one JSON object a line.
enum ResultFormat {
    /// - Parameter files: the image outputs written for this input, by output name.
    static func text(_ r: PipelineResult, files: [(output: String, path: String)] = []) -> String {
        var lines = [r.input]
        for ranking in r.rankings {
            for (rank, c) in ranking.enumerated() {
                let label = c.label.map { "  \($0)" } ?? ""
                lines.append(String(format: "  %d. %-6d %.5f", rank + 1, c.index, c.score) + label)
            }
        }
        for reading in r.texts {
            lines.append("  \(reading.count) line\(reading.count == 1 ? "" : "s")")
            for line in reading {
                let corners = line.box.map { String(format: "(%.0f, %.0f)", $0[0], $0[1]) }.joined(separator: " ")
                lines.append(String(format: "  %.4f  ", line.score) + "\(corners)  \(line.text)")
            }
        }
        for found in r.detections {
            lines.append("  \(found.count) detection\(found.count == 1 ? "" : "s")")
            for detection in found {
                let box = detection.box.map { String(format: "%.1f", $0) }.joined(separator: ", ")
                lines.append("  [\(box)] score " + String(format: "%.4f", detection.score) + (detection.label.map { "  \($0)" } ?? ""))
            }
        }
        if r.rankings.isEmpty && r.texts.isEmpty && r.detections.isEmpty {
            for (i, t) in r.outputs.enumerated() { lines.append("  output \(i): \(t.dtype)\(t.shape)") }
        }
        for file in files { lines.append("  \(file.output): wrote \(file.path)") }
        let stages = StageCategory.allCases.compactMap { c -> String? in
            let s = r.profile.seconds(by: c)
            return s > 0 ? String(format: "%@ %.2f", c.rawValue, s * 1000) : nil
        }
        lines.append("  time (ms): " + stages.joined(separator: " · ") + String(format: " · total %.2f", r.profile.total * 1000))
        return lines.joined(separator: "\n")
    }

    static func json(_ r: PipelineResult, files: [(output: String, path: String)] = []) -> String {
        var times: [String: Double] = ["total": r.profile.total * 1000]
        for c in StageCategory.allCases where r.profile.seconds(by: c) > 0 { times[c.rawValue] = r.profile.seconds(by: c) * 1000 }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = RunLine(
            input: r.input, report: r.rankingReport, lines: r.texts.first, detections: r.detections.first,
            files: Dictionary(files.map { ($0.output, $0.path) }, uniquingKeysWith: { _, last in last }), timeMs: times)
        guard let data = try? encoder.encode(line) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// One line of `run --json`: the ranking report with the input's path and its times; for a
/// pipeline that reads text or detects (and ranks nothing), `results` holds its lines or
/// detections instead.
private struct RunLine: Encodable {
    var input: String
    var report: RankingReport
    var lines: [TextLine]?
    var detections: [Detection]?
    /// Image outputs written as PNG files: output name → path.
    var files: [String: String]
    var timeMs: [String: Double]

    enum CodingKeys: String, CodingKey {
        case input
        case results
        case detections
        case files
        case timeMs = "time_ms"
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let lines, report.results.isEmpty {
            try container.encode(lines, forKey: .results)
        } else if let detections, report.results.isEmpty {
            try container.encode(detections, forKey: .results)
        } else {
            try report.encode(to: encoder)
            // Ranked classes of detected objects (a classifier after a detector): both.
            if let detections { try container.encode(detections, forKey: .detections) }
        }
        try container.encode(input, forKey: .input)
        if !files.isEmpty { try container.encode(files, forKey: .files) }
        try container.encode(timeMs, forKey: .timeMs)
    }
}
