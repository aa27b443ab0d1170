/// A position in a pipeline YAML file: the file as given to `PipelineSpec.load` or
/// `PipelineSpec.parse`, a 1-based line, and a 1-based column counted in Unicode scalars.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the form editors and terminals turn into links.
    public var description: String { "\(file):\(line):\(column)" }
}

/// A value together with where it was written, for values that a later stage checks
/// (model and label paths, model input names) and must report at their exact place.
public struct Located<Value: Hashable & Sendable>: Hashable, Sendable {
    public let value: Value
    public let location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

/// The one error a pipeline spec can fail with. Its description has the form
/// `file:line:column: error: <what was found>; expected <what>` and, when a known name
/// is close to the one found, ` (did you mean 'X'?)`.
public struct SpecError: Error, Hashable, Sendable, CustomStringConvertible {
    public let location: SourceLocation
    /// What the spec contains at `location`, e.g. `'k' of topk is 'five'`.
    public let found: String
    /// What would have been valid there, e.g. `an integer > 0`.
    public let expected: String
    /// A known name close to the unknown one that was found.
    public let suggestion: String?

    public init(at location: SourceLocation, found: String, expected: String, suggestion: String? = nil) {
        self.location = location
        self.found = found
        self.expected = expected
        self.suggestion = suggestion
    }

    public var description: String {
        let hint = suggestion.map { " (did you mean '\($0)'?)" } ?? ""
        return "\(location): error: \(found); expected \(expected)\(hint)"
    }
}

/// The candidate most likely meant by a misspelt `name`: the closest one by edit distance
/// (at most 2 and shorter than the name, ignoring case), or one that extends or shortens
/// it (`center` → `center_crop`). Nil when nothing is close, so that suggestions stay trustworthy.
public func closestName(to name: String, among candidates: [String]) -> String? {
    let lowered = name.lowercased()
    guard !lowered.isEmpty else { return nil }
    var best: (name: String, distance: Int)?
    for candidate in candidates where candidate != name {
        let loweredCandidate = candidate.lowercased()
        let distance = editDistance(lowered, loweredCandidate)
        let isPrefixMatch =
            lowered.count >= 2
            && (loweredCandidate.hasPrefix(lowered) || lowered.hasPrefix(loweredCandidate))
        // A distance as long as the name itself would "correct" any short name.
        guard (distance <= 2 && distance < lowered.count) || isPrefixMatch else { continue }
        if let closest = best, closest.distance <= distance { continue }
        best = (candidate, distance)
    }
    return best?.name
}

/// Levenshtein distance over Unicode characters, two rows of memory.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
