import IR

/// A graph with batching queues (`queue` nodes) cut into stages at them.
///
/// ```
/// %image : u8[?n]                                   stage 0 (per request)
/// %pre = preprocess %image …  : f32[1,3,224,224]
/// %classifier.queue = queue %pre {max_batch = 8, …} : f32[?batch,3,224,224]
/// %logits = conv %classifier.queue …                stage 1 (per batch)
/// ```
/// Stage 0 holds every node that does not depend on a queue; stage j (j ≥ 1) holds the nodes
/// that depend on the j-th queue (in node order) and on no later one. Each stage becomes its
/// own graph: stage 0's inputs are the graph's, stage j's only input is its queue's result,
/// typed `[?batch, …]`, so one plan serves every batch size. Constants are copied into each
/// stage that reads them.
///
/// Legal only when the queues form a chain and each stage reads nothing from an earlier stage
/// but its queue (a batch has one value per request only for what crossed the queue), and
/// every graph output of a batched stage keeps the batch on axis 0 (so it splits back into
/// one row per request; a known leading dim is refused here, a wrong row count at run time). Violations are errors naming the node and value.
public struct StagePartition: Sendable {
    /// One stage: its graph and how it is fed and run.
    public struct Stage: Sendable {
        public var name: String
        /// The stage's nodes as a graph of their own.
        public var graph: Graph
        /// For a batched stage: the queue's attributes (nil for stage 0).
        public var queue: Attributes?
        /// Where each output of `graph` goes: a graph output (by position) or the next stage's queue.
        public var outputs: [Destination]
    }

    public enum Destination: Sendable, Equatable {
        case graphOutput(Int)
        case nextQueue
    }

    public let stages: [Stage]

    /// Whether the graph has queues to cut at.
    public static func isStaged(_ graph: Graph) -> Bool { graph.nodes.contains { $0.op == .queue } }

    public init(_ graph: Graph) throws {
        let producers = graph.producers()
        let queueNodes = graph.nodes.indices.filter { graph.nodes[$0].op == .queue }
        guard !queueNodes.isEmpty else { throw RuntimeError.invalidGraph("the graph has no queue to cut at") }

        // The stage of each value: graph inputs 0, a queue's result its own number, any other
        // result the latest stage among its operands. Constants, and nodes that read only
        // constants, belong to no stage (-1): each stage that reads them gets its own copy.
        var stageOf = [Int](repeating: 0, count: graph.values.count)
        var nodeStage = [Int](repeating: 0, count: graph.nodes.count)
        func name(_ id: ValueID) -> String { "%" + graph[id].name }
        for (index, node) in graph.nodes.enumerated() {
            if node.op == .const {
                nodeStage[index] = -1
                for output in node.outputs { stageOf[output.index] = -1 }
                continue
            }
            let operandStages = node.inputs.map { stageOf[$0.index] }
            let latest = operandStages.max() ?? 0
            if node.op == .queue {
                let number = queueNodes.firstIndex(of: index)! + 1
                guard latest == number - 1 else {
                    throw RuntimeError.invalidGraph(
                        "queue \(name(node.outputs[0])) reads a value of stage \(latest), but queues must form a chain: queue \(number) must read stage \(number - 1)")
                }
                nodeStage[index] = number - 1
                stageOf[node.outputs[0].index] = number
                continue
            }
            for (operand, stage) in zip(node.inputs, operandStages) where stage >= 0 && stage < latest {
                throw RuntimeError.invalidGraph(
                    "\(name(node.outputs[0])) runs after queue \(latest) but also reads \(name(operand)) from before it; only the queue's value crosses a batching edge")
            }
            nodeStage[index] = node.inputs.isEmpty ? 0 : latest
            for output in node.outputs { stageOf[output.index] = nodeStage[index] }
        }

        var stages: [Stage] = []
        for number in 0...queueNodes.count {
            var sub = Graph(name: number == 0 ? graph.name : "\(graph.name).stage\(number)")
            var mapped: [ValueID: ValueID] = [:]
            var queue: Attributes?
            if number == 0 {
                for input in graph.inputs { mapped[input] = sub.addInput(name: graph[input].name, type: graph.type(of: input)) }
            } else {
                let node = graph.nodes[queueNodes[number - 1]]
                queue = node.attributes
                mapped[node.outputs[0]] = sub.addInput(name: graph[node.outputs[0]].name, type: graph.type(of: node.outputs[0]))
            }
            // The stage's nodes and the stageless ones they read (transitively), in graph order,
            // which is topological.
            var included = Set(graph.nodes.indices.filter { nodeStage[$0] == number && graph.nodes[$0].op != .queue })
            var pending = Array(included)
            while let index = pending.popLast() {
                for operand in graph.nodes[index].inputs {
                    if let producer = producers[operand], nodeStage[producer] == -1, included.insert(producer).inserted {
                        pending.append(producer)
                    }
                }
            }
            for index in graph.nodes.indices where included.contains(index) {
                let node = graph.nodes[index]
                if let weight = node.weight, sub.weights[weight] == nil { sub.weights[weight] = graph.weights[weight] }
                let outputs = sub.append(
                    node.op, node.inputs.map { mapped[$0]! }, attributes: node.attributes,
                    results: node.outputs.map { (graph[$0].name, graph.type(of: $0)) }, weight: node.weight)
                for (old, new) in zip(node.outputs, outputs) { mapped[old] = new }
            }
            var destinations: [Destination] = []
            for (position, output) in graph.outputs.enumerated() where stageOf[output.index] == number {
                guard let value = mapped[output] else {
                    throw RuntimeError.invalidGraph("output \(name(output)) is a graph input or constant; a staged graph returns computed values")
                }
                // Model ops may rename the batch symbol, so only a known leading dim is surely
                // not the batch; the run checks the row count of the rest.
                if number > 0, graph.type(of: output).shape.first?.value != nil {
                    throw RuntimeError.invalidGraph(
                        "output \(name(output)) : \(graph.type(of: output)) of stage \(number) has no batch axis (a known leading dim), so it cannot be split back into one result per request")
                }
                sub.outputs.append(value)
                destinations.append(.graphOutput(position))
            }
            if number < queueNodes.count {
                let next = graph.nodes[queueNodes[number]].inputs[0]
                sub.outputs.append(mapped[next]!)
                destinations.append(.nextQueue)
            }
            try Verifier.verify(sub)
            stages.append(Stage(name: number == 0 ? "input" : graph[graph.nodes[queueNodes[number - 1]].outputs[0]].name, graph: sub, queue: queue, outputs: destinations))
        }
        self.stages = stages
    }
}
