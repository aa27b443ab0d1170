import IR

/// A graph-to-graph rewrite with a flag name (`--passes`, `--dump-ir=after-each` headers),
/// a one-line summary and a fidelity. Each conforming type documents what it rewrites,
/// with before/after IR, and why the rewrite is correct.
public protocol Pass: Sendable {
    /// Flag name, e.g. `fold-batch-norm`.
    var name: String { get }
    /// One line for `visionc compile --list-passes` and reports.
    var summary: String { get }
    /// `.exact` passes keep results equal up to float rounding; `.fast` ones may not.
    var fidelity: Fidelity { get }
    /// Returns the rewritten graph, counting every rewrite it makes in `statistics`.
    func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph
}

/// How far a rewrite may move results. A pipeline runs the passes at or below its level:
/// `.exact` runs only exact passes, `.fast` runs every pass.
public enum Fidelity: String, Sendable, CaseIterable, Comparable {
    /// Same results up to float rounding (reassociation, folded constants).
    case exact
    /// Results may differ measurably (e.g. DCT-domain scaled JPEG decode).
    case fast

    public static func < (a: Fidelity, b: Fidelity) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Counters of what one pass rewrote, in the order first counted: `folded 53 batch_norm`.
public struct PassStatistics: Sendable, Equatable, CustomStringConvertible {
    public private(set) var counters: [(event: String, count: Int)] = []

    public init() {}

    /// Adds `count` to the counter `event` (a verb phrase with `#` where the number goes,
    /// e.g. `"folded # batch_norm"`).
    public mutating func count(_ event: String, by count: Int = 1) {
        guard count != 0 else { return }
        if let i = counters.firstIndex(where: { $0.event == event }) {
            counters[i].count += count
        } else {
            counters.append((event, count))
        }
    }

    /// The count of one event, 0 when it never happened.
    public subscript(event: String) -> Int {
        counters.first { $0.event == event }?.count ?? 0
    }

    /// Whether anything was counted, i.e. the pass rewrote something.
    public var isEmpty: Bool { counters.isEmpty }

    /// `folded 53 batch_norm, removed 106 nodes`.
    public var description: String {
        counters.map { $0.event.split(separator: "#", omittingEmptySubsequences: false).joined(separator: String($0.count)) }
            .joined(separator: ", ")
    }

    public static func == (a: PassStatistics, b: PassStatistics) -> Bool {
        a.counters.elementsEqual(b.counters) { $0.event == $1.event && $0.count == $1.count }
    }
}
