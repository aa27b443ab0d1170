import IR

/// `dead-code-elimination`: removes every node none of whose results reaches a graph
/// output, then drops the weights no `const` node references any more and renumbers values
/// (`Graph.compacted()`).
///
/// ```
/// %s : i64[4] = const @s                         %y : f32[1,8] = relu(%x)
/// %y : f32[1,8] = relu(%x)                  ──►  return %y
/// return %y
/// ```
///
/// Exact: every op is pure (no op has an effect besides its results), so a result nobody
/// reads can be skipped. Graph inputs stay even when unused: they are the graph's interface.
public struct DeadCodeEliminationPass: Pass {
    public let name = "dead-code-elimination"
    public let summary = "remove nodes whose results are unused, and unreferenced weights"
    public let fidelity = Fidelity.exact

    public init() {}

    public func run(_ graph: Graph, statistics: inout PassStatistics) throws -> Graph {
        var live = Set(graph.outputs)
        var keep = Array(repeating: false, count: graph.nodes.count)
        for (index, node) in graph.nodes.enumerated().reversed() where node.outputs.contains(where: live.contains) {
            keep[index] = true
            live.formUnion(node.inputs)
        }
        var g = graph
        g.nodes = graph.nodes.indices.filter { keep[$0] }.map { graph.nodes[$0] }
        let compacted = g.compacted()
        statistics.count("removed # nodes", by: graph.nodes.count - compacted.nodes.count)
        statistics.count("removed # weights", by: graph.weights.count - compacted.weights.count)
        return compacted
    }
}
