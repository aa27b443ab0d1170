import IR

/// A graph with stage boundaries — batching queues (`queue`), fan-outs (`for_each`) and
/// fan-ins (`collect`) — cut into the chain of stages a `StagedPipeline` runs.
///
/// ```
/// %image : u8[?n]                                      stage 0: map, per request
/// %pre = preprocess(…) : f32[1,3,224,224]
/// %boxes = … : f32[?n,4]
/// %box = for_each(%boxes) : f32[1,4]                   stage 1: expand (one child per row)
/// %crop = …(%pre, %box)                                stage 2: map, per child
/// %q = queue(%crop) {max_batch = 8} : f32[?batch,…]    stage 3: batched, per batch of children
/// %score = …(%q)
/// %scores = collect(%score) : f32[?rows,…]             stage 4: gather (children's rows, in order)
/// %best = …(%scores)                                   stage 5: map, per request
/// ```
/// Each cut node opens a stage in node order; every other node joins the latest stage among
/// its operands (constants, and nodes that read only constants, join each stage that reads
/// them). So a node that needs nothing from a fan-out still runs once per request, before it.
/// A node that reads a batched stage's result together with a value from before its queue
/// (a crop and its classifier's verdict) opens a map stage after the batched one, `<queue>.then`,
/// which runs per item on the rows the batch was split back into.
///
/// A stage reads what it needs from the request's record by IR name (a child's record is a
/// copy of its parent's, so a child may read the request's values) and writes what later
/// stages or the graph outputs need. Within a stage, nodes run as plans (`Executable`s)
/// between the ops whose result size depends on data (`nms`), which run on their own.
///
/// Not legal, with an error naming the value: a batched stage reading anything but its
/// queue's value (a batch holds one row per request or child only of what crossed the queue),
/// reading a value of a fan-out level that is not open around the reader, an unclosed
/// `for_each` or an unmatched `collect`, a graph output inside a fan-out, and an output of a
/// batched stage with a known leading dim (it could not be split into rows).
public struct StagePartition: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Per request (or per child inside a fan-out), one at a time.
        case map
        /// Behind a batching queue: the queue's attributes.
        case batched(Attributes)
        /// Splits the value `list` into one child per row.
        case fanOut(list: String)
        /// Collects each of `values` from every child, the arrays named `results` (the
        /// collect's results); `rowTypes` type a row of each (for zero children).
        case fanIn(values: [String], results: [String], rowTypes: [TensorType])
    }

    /// What a map or batched stage runs, in order.
    public enum Step: Sendable {
        /// Nodes planned and run together; inputs and outputs by IR name.
        case plan(Graph)
        /// One node whose result size depends on its operands' values.
        case dataDependent(Node, inputs: [String], outputs: [String])
    }

    public struct Stage: Sendable {
        /// `input` for the first stage; a batched, fan-out or fan-in stage has its cut node's
        /// result's IR name (under which its record value travels); the map stage after a
        /// fan-out or fan-in adds `.each` or `.then` to it.
        public var name: String
        public var kind: Kind
        public var steps: [Step]
        /// Values the steps read, by IR name (for a batched stage: only the queue's value).
        public var reads: [String]
        /// Where each read comes from in the record: its own name, except a queue's value,
        /// which is the queue's operand stacked over the batch.
        public var sources: [String]
        /// Values the stage writes into the record for later stages and the graph outputs.
        public var writes: [String]
        /// Fan-out levels open around the stage.
        public var depth: Int
        /// The queue attributes when a broker edge (a Redis stream) leads into the stage: it
        /// and every stage after it run in worker processes.
        public var broker: Attributes?

        /// The record values the stage reads (a fan-out its list, a fan-in what it collects).
        public var recordReads: [String] {
            switch kind {
            case .map, .batched: sources
            case .fanOut(let list): [list]
            case .fanIn(let values, _, _): values
            }
        }

        /// The record values the stage adds.
        public var recordWrites: [String] {
            if case .fanIn(_, let results, _) = kind { return results }
            return writes
        }
    }

    public let stages: [Stage]
    /// The graph inputs and outputs by IR name, in order.
    public let inputs: [String]
    public let outputs: [String]
    /// The type of one row of each value a fan-in collects, by the collect's result name
    /// (to make zero rows of when a fan-out had no children).
    public let rowTypes: [String: TensorType]

    static let cutOps: Set<Op> = [.queue, .forEach, .collect]

    /// Whether the graph needs staged running: it has a stage boundary, or an op whose result
    /// size depends on data.
    public static func isStaged(_ graph: Graph) -> Bool { graph.nodes.contains { cutOps.contains($0.op) || $0.op.hasDataDependentShape } }

    public init(_ graph: Graph) throws {
        let producers = graph.producers()
        func name(_ id: ValueID) -> String { graph[id].name }
        func invalid(_ message: String) -> RuntimeError { .invalidGraph(message) }

        // Stages opened by the cut nodes, in node order, with their fan-out depth.
        var kinds: [Kind] = [.map]
        var names = ["input"]
        var depths = [0]
        var stageOf = [Int](repeating: 0, count: graph.values.count)
        var nodeStage = [Int](repeating: 0, count: graph.nodes.count)
        // The stage whose fan-out each open level came from, innermost last.
        var openFanOuts: [Int] = []
        // The fan-out stage a stage sits inside (its innermost), for the nesting check.
        var enclosing: [Int?] = [nil]

        // Broker edges' attributes by the stage they open.
        var brokers: [Int: Attributes] = [:]
        // The map stage that follows each batched stage, where one was needed.
        var continuations: [Int: Int] = [:]
        func continuation(of batched: Int, for node: Node) throws -> Int {
            if let existing = continuations[batched] { return existing }
            guard batched == kinds.count - 1 else {
                throw invalid("%\(name(node.outputs[0])) combines the batched stage %\(names[batched]) with values from before it, but later stages have begun")
            }
            kinds.append(.map)
            names.append(names[batched] + ".then")
            depths.append(depths[batched])
            enclosing.append(enclosing[batched])
            continuations[batched] = kinds.count - 1
            return kinds.count - 1
        }

        func stageFor(_ node: Node) -> Int {
            node.inputs.map { stageOf[$0.index] }.max() ?? 0
        }
        /// Whether stage `reader` may read a value of stage `source`: same stage, or `source`'s
        /// fan-out level is open around `reader` (a child may read its parents' values).
        func visible(_ source: Int, from reader: Int) -> Bool {
            if source < 0 || source == reader { return true }
            var level = enclosing[reader]
            let sourceLevel = enclosing[source]
            while true {
                if level == sourceLevel { return true }
                guard let current = level else { return false }
                level = enclosing[current]
            }
        }

        for (index, node) in graph.nodes.enumerated() {
            if node.op == .const {
                nodeStage[index] = -1
                for output in node.outputs { stageOf[output.index] = -1 }
                continue
            }
            let latest = stageFor(node)
            guard Self.cutOps.contains(node.op) else {
                var stage = node.inputs.isEmpty ? 0 : latest
                // A node that combines a batched stage's result with a value from before the
                // queue runs per item in a map stage after the batched one (its `.then`).
                if case .batched = kinds[stage], node.inputs.contains(where: { stageOf[$0.index] >= 0 && stageOf[$0.index] != stage }) {
                    stage = try continuation(of: stage, for: node)
                }
                nodeStage[index] = stage
                for output in node.outputs { stageOf[output.index] = stage }
                continue
            }
            // A cut node's operand must come from the stage just before it (the chain).
            let current = kinds.count - 1
            let operand = node.inputs[0]
            guard stageOf[operand.index] >= 0, visible(stageOf[operand.index], from: current) else {
                throw invalid("\(node.op.rawValue) %\(name(node.outputs[0])) reads %\(name(operand)) from a fan-out level that is closed or not yet open")
            }
            nodeStage[index] = current
            switch node.op {
            case .queue:
                // The queued value's layout travels with the queue: padding to the batch's
                // largest image needs to know which axes are height and width.
                var queue = node.attributes
                queue["layout"] = .string(graph.type(of: node.outputs[0]).layout.rawValue)
                if queue.string("broker") != nil {
                    // Everything behind a broker edge runs in other processes, which take one
                    // request's record: a fan-out's children are not requests.
                    guard openFanOuts.isEmpty else {
                        throw invalid("the broker edge %\(name(node.outputs[0])) is inside a for_each; a broker edge carries whole requests, so put it before the for_each or after its collect")
                    }
                    brokers[kinds.count] = queue
                }
                // A broker edge that does not batch (its value keeps its own leading dim) opens a map stage.
                let batches = graph.type(of: node.outputs[0]).shape.first != graph.type(of: operand).shape.first
                kinds.append(batches ? .batched(queue) : .map)
                names.append(name(node.outputs[0]))
                depths.append(depths[current])
                enclosing.append(enclosing[current])
            case .forEach:
                kinds.append(.fanOut(list: name(operand)))
                names.append(name(node.outputs[0]))
                depths.append(depths[current])
                enclosing.append(enclosing[current])
                openFanOuts.append(kinds.count - 1)
                kinds.append(.map)
                names.append(name(node.outputs[0]) + ".each")
                depths.append(depths[current] + 1)
                enclosing.append(kinds.count - 2)
            default:  // collect
                guard let fanOut = openFanOuts.popLast() else {
                    throw invalid("collect %\(name(node.outputs[0])) has no for_each before it to close")
                }
                for operand in node.inputs where stageOf[operand.index] <= fanOut {
                    throw invalid("collect %\(name(node.outputs[0])) gathers %\(name(operand)), which is computed outside the fan-out it closes")
                }
                kinds.append(.fanIn(values: node.inputs.map(name), results: node.outputs.map(name), rowTypes: node.inputs.map { graph.type(of: $0) }))
                names.append(name(node.outputs[0]))
                depths.append(depths[fanOut])
                enclosing.append(enclosing[fanOut])
                kinds.append(.map)
                names.append(name(node.outputs[0]) + ".then")
                depths.append(depths[fanOut])
                enclosing.append(enclosing[fanOut])
            }
            for output in node.outputs { stageOf[output.index] = kinds.count - 1 }
        }
        if let unclosed = openFanOuts.last, case .fanOut(let list) = kinds[unclosed] {
            throw invalid("the for_each over %\(list) is never closed by a collect")
        }

        // Check every read: visible, and into a batched stage only its queue's value.
        var readsOf = [Set<ValueID>](repeating: [], count: kinds.count)
        let users = graph.users()
        for (index, node) in graph.nodes.enumerated() where nodeStage[index] >= 0 && !Self.cutOps.contains(node.op) {
            let stage = nodeStage[index]
            for operand in node.inputs {
                let source = stageOf[operand.index]
                if source < 0 { continue }  // constants: copied into the plans that read them
                if let producer = producers[operand], nodeStage[producer] == stage, !Self.cutOps.contains(graph.nodes[producer].op) { continue }
                guard visible(source, from: stage) else {
                    throw invalid("%\(name(node.outputs[0])) reads %\(name(operand)) from a fan-out level that is not open around it")
                }
                if case .batched = kinds[stage], source != stage {
                    throw invalid("%\(name(node.outputs[0])) runs after a batching queue but reads %\(name(operand)) from before it; only the queue's value crosses a batching edge")
                }
                readsOf[stage].insert(operand)
            }
        }
        for output in graph.outputs {
            let stage = stageOf[output.index]
            guard stage >= 0 else { throw invalid("output %\(name(output)) is a constant; a staged graph returns computed values") }
            guard depths[stage] == 0 else { throw invalid("output %\(name(output)) is inside a fan-out; collect it first") }
        }

        // Values each stage writes: what a later stage reads or the graph returns.
        var needed = Set(graph.outputs)
        for reads in readsOf { needed.formUnion(reads) }
        for node in graph.nodes where Self.cutOps.contains(node.op) { needed.formUnion(node.inputs) }

        var stages: [Stage] = []
        for (number, kind) in kinds.enumerated() {
            let members = graph.nodes.indices.filter { nodeStage[$0] == number && !Self.cutOps.contains(graph.nodes[$0].op) }
            let writes = members.flatMap { graph.nodes[$0].outputs }.filter { needed.contains($0) }
            if case .batched = kind {
                for value in writes where graph.outputs.contains(value) && graph.type(of: value).shape.first?.value != nil {
                    throw invalid("output %\(name(value)) : \(graph.type(of: value)) of a batched stage has no batch axis (a known leading dim), so it cannot be split back into one result per request")
                }
            }
            let steps = try Self.steps(members, graph: graph, producers: producers, nodeStage: nodeStage, users: users, needed: needed)
            let reads = readsOf[number].sorted()
            let sources = reads.map { value -> String in
                guard let producer = producers[value], graph.nodes[producer].op == .queue else { return name(value) }
                return name(graph.nodes[producer].inputs[0])
            }
            stages.append(Stage(
                name: names[number], kind: kind, steps: steps, reads: reads.map(name), sources: sources,
                writes: writes.map(name), depth: depths[number], broker: brokers[number]))
        }
        self.stages = stages
        inputs = graph.inputs.map(name)
        outputs = graph.outputs.map(name)
        var rowTypes: [String: TensorType] = [:]
        for node in graph.nodes where node.op == .collect {
            for (operand, result) in zip(node.inputs, node.outputs) {
                let row = graph.type(of: operand)
                rowTypes[name(result)] = row.with(shape: [.known(1)] + row.shape.dropFirst())
            }
        }
        self.rowTypes = rowTypes
    }

    /// A stage's nodes as steps: runs of plan-sized nodes, each data-dependent node alone.
    private static func steps(
        _ members: [Int], graph: Graph, producers: [ValueID: Int], nodeStage: [Int], users: [ValueID: [Int]], needed: Set<ValueID>
    ) throws -> [Step] {
        var steps: [Step] = []
        var run: [Int] = []
        let memberSet = Set(members)
        func flush() throws {
            guard !run.isEmpty else { return }
            steps.append(.plan(try planGraph(run, after: memberSet, graph: graph, producers: producers, nodeStage: nodeStage, users: users, needed: needed)))
            run = []
        }
        for index in members {
            let node = graph.nodes[index]
            if node.op.hasDataDependentShape {
                try flush()
                steps.append(.dataDependent(node, inputs: node.inputs.map { graph[$0].name }, outputs: node.outputs.map { graph[$0].name }))
            } else {
                run.append(index)
            }
        }
        try flush()
        return steps
    }

    /// The nodes of `run` as a graph: inputs are the values they read from outside the run,
    /// outputs the values anything after the run reads (or the graph returns); constants are
    /// copied in.
    private static func planGraph(
        _ run: [Int], after members: Set<Int>, graph: Graph, producers: [ValueID: Int], nodeStage: [Int], users: [ValueID: [Int]], needed: Set<ValueID>
    ) throws -> Graph {
        let inRun = Set(run)
        var included = inRun
        var pending = Array(inRun)
        while let index = pending.popLast() {
            for operand in graph.nodes[index].inputs {
                if let producer = producers[operand], nodeStage[producer] == -1, included.insert(producer).inserted { pending.append(producer) }
            }
        }
        var sub = Graph(name: graph.name)
        var mapped: [ValueID: ValueID] = [:]
        for index in graph.nodes.indices where included.contains(index) {
            for operand in graph.nodes[index].inputs where mapped[operand] == nil {
                // Read from outside the run: an input of the plan.
                mapped[operand] = sub.addInput(name: graph[operand].name, type: graph.type(of: operand))
            }
            let node = graph.nodes[index]
            if let weight = node.weight, sub.weights[weight] == nil { sub.weights[weight] = graph.weights[weight] }
            let outputs = sub.append(
                node.op, node.inputs.map { mapped[$0]! }, attributes: node.attributes,
                results: node.outputs.map { (graph[$0].name, graph.type(of: $0)) }, weight: node.weight)
            for (old, new) in zip(node.outputs, outputs) { mapped[old] = new }
        }
        for index in run {
            for output in graph.nodes[index].outputs {
                let readLater = (users[output] ?? []).contains { !inRun.contains($0) }
                if readLater || needed.contains(output) { sub.outputs.append(mapped[output]!) }
            }
        }
        try Verifier.verify(sub)
        return sub
    }
}

extension StagePartition {
    /// The stages a broker edge leads into, in order.
    public var brokerStages: [Int] { stages.indices.filter { stages[$0].broker != nil } }

    /// What crosses the broker edge into stage `index`: the values it or a later stage reads
    /// that an earlier stage (or the request) wrote, by record name.
    public func carried(into index: Int) -> [String] {
        let later = Set(stages[index...].flatMap(\.recordWrites))
        var seen = Set<String>()
        return stages[index...].flatMap(\.recordReads).filter { !later.contains($0) && seen.insert($0).inserted }
    }

    /// What comes back over the broker edge into stage `index`: the graph outputs that it or
    /// a later stage writes.
    public func returned(from index: Int) -> [String] {
        let later = Set(stages[index...].flatMap(\.recordWrites))
        return outputs.filter(later.contains)
    }

    /// The stage a broker edge leads into, by the node name the YAML gave it (its queue is
    /// `<node>.queue`) or the stage's own name; nil names the only one.
    public func brokerStage(named node: String?) throws -> Int {
        let candidates = brokerStages
        guard let node else {
            guard candidates.count == 1 else {
                throw RuntimeError.invalidGraph(candidates.isEmpty
                    ? "the graph has no broker edge (a queue with broker: redis://host:port/stream)"
                    : "the graph has \(candidates.count) broker edges; name one with --stage (\(candidates.map { stages[$0].name }.joined(separator: ", ")))")
            }
            return candidates[0]
        }
        guard let match = candidates.first(where: { stages[$0].name == node || stages[$0].name == "\(node).queue" }) else {
            throw RuntimeError.invalidGraph("no broker edge leads into '\(node)'; the graph's broker stages are \(candidates.map { stages[$0].name }.joined(separator: ", "))")
        }
        return match
    }

    /// One line per stage, as `visionc compile` prints it under the IR: name, kind (with a
    /// queue's attributes), fan-out depth, what it runs and what it reads and writes.
    public var summary: [String] {
        stages.map { stage in
            let kind: String
            switch stage.kind {
            case .map: kind = stage.depth > 0 ? "map, per child" : "map, per request"
            case .batched(let queue):
                let keys = ["max_batch", "max_delay_us", "capacity", "workers", "threads", "timeout_us", "pad_to_largest"]
                kind = "batched {" + keys.compactMap { key in queue.int(key).map { "\(key)=\($0)" } }.joined(separator: ", ") + "}"
            case .fanOut(let list): kind = "fan-out over the rows of %\(list)"
            case .fanIn(let values, _, let rowTypes):
                kind = "fan-in of " + zip(values, rowTypes).map { "%\($0) (rows \($1))" }.joined(separator: ", ")
            }
            let steps = stage.steps.map { step -> String in
                switch step {
                case .plan(let graph): "plan of \(graph.nodes.filter { $0.op != .const }.count) nodes"
                case .dataDependent(let node, _, let outputs): "\(node.op.rawValue) → \(outputs.map { "%\($0)" }.joined(separator: " "))"
                }
            }
            let remote = stage.broker?.string("broker").map { " · behind broker \($0), runs in workers" } ?? ""
            let runs = (steps.isEmpty ? "" : " · runs " + steps.joined(separator: ", ")) + remote
            let reads = stage.reads.isEmpty ? "" : " · reads " + stage.reads.map { "%\($0)" }.joined(separator: " ")
            let writes = stage.writes.isEmpty ? "" : " · writes " + stage.writes.map { "%\($0)" }.joined(separator: " ")
            return "\(String(repeating: "  ", count: stage.depth))\(stage.name): \(kind)\(runs)\(reads)\(writes)"
        }
    }
}
