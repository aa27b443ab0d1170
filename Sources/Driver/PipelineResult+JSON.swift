import Foundation

extension PipelineResult {
    /// The ranked classes as JSON values, as `visionc run --json` prints them and the server's
    /// `result` output carries them: `results` (the first ranking: class, score, label) and,
    /// with several rankings, `rankings`.
    public var rankingObject: [String: Any] {
        var object: [String: Any] = [:]
        object["results"] = rankings.first.map { ranking in
            ranking.map { c -> [String: Any] in
                var entry: [String: Any] = ["class": c.index, "score": Double(c.score)]
                if let label = c.label { entry["label"] = label }
                return entry
            }
        } ?? []
        if rankings.count > 1 {
            object["rankings"] = rankings.map { $0.map { ["class": $0.index, "score": Double($0.score)] } }
        }
        return object
    }
}
