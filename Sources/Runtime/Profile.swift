import IR

/// Time spent in one node during one run.
public struct NodeTiming: Sendable, Equatable {
    /// The node's first result's IR name.
    public var name: String
    public var op: Op
    public var category: StageCategory
    public var seconds: Double

    public init(name: String, op: Op, category: StageCategory, seconds: Double) {
        self.name = name
        self.op = op
        self.category = category
        self.seconds = seconds
    }
}

/// Per-node timings of one run, in execution order (nodes folded at plan time are absent).
public struct Profile: Sendable, Equatable {
    public var entries: [NodeTiming]

    public init(entries: [NodeTiming] = []) { self.entries = entries }

    /// Sum of all node times.
    public var total: Double { entries.reduce(0) { $0 + $1.seconds } }

    /// Sum of the times of the nodes in one category.
    public func seconds(by category: StageCategory) -> Double {
        entries.reduce(0) { $0 + ($1.category == category ? $1.seconds : 0) }
    }
}
