import Yams

/// Turns a composed YAML tree into a `PipelineSpec`, checking the schema documented on
/// `PipelineSpec` and stopping at the first error.
struct SpecParser {
    let reader: SpecReader
    /// Absolute folder of the YAML file; relative model and label paths are resolved against it.
    let baseDirectory: String

    private static let pipelineKeys = ["pipeline", "description", "inputs", "nodes", "outputs"]
    private static let nodeKeys = ["name", "input", "inputs", "ops", "model", "model_input", "queue"]
    private static let queueKeys = ["max_batch", "max_delay_us", "capacity", "workers", "threads", "timeout_us", "pad_to_largest", "broker", "claim_after_ms", "max_deliveries"]

    /// What a node can read while it is being parsed: the graph inputs, the nodes above
    /// it, and (only to explain forward references) where every node is declared.
    private struct Scope {
        let inputs: [InputSpec]
        var earlierNodes: [NodeSpec] = []
        let declaredNodeLines: [String: Int]

        var readableNames: [String] { inputs.map(\.name) + earlierNodes.map(\.name) }
    }

    func pipeline(from root: Node, sourcePath: String) throws(SpecError) -> PipelineSpec {
        let fields = try reader.fields(
            of: root, owner: "the pipeline", allowedKeys: Self.pipelineKeys,
            shape: "a mapping with keys pipeline, inputs, nodes")
        let name = try reader.identifier(
            fields.required("pipeline", expected: "the pipeline's name"), fields.label("pipeline"))
        var description: String?
        if let node = fields["description"] {
            description = try reader.string(node, fields.label("description"))
        }
        let inputs = try graphInputs(
            from: fields.required("inputs", expected: "a mapping of input names to kinds, like {image: jpeg}"))

        let nodeItems = try reader.list(
            fields.required("nodes", expected: "a list of nodes"), fields.label("nodes"),
            expected: "a non-empty list of nodes")
        var declaredNodeLines: [String: Int] = [:]
        for item in nodeItems {
            if let (name, nameNode) = declaredName(of: item), declaredNodeLines[name] == nil {
                declaredNodeLines[name] = reader.location(of: nameNode).line
            }
        }
        var scope = Scope(inputs: inputs, declaredNodeLines: declaredNodeLines)
        for (index, item) in nodeItems.enumerated() {
            scope.earlierNodes.append(try node(from: item, index: index, scope: scope))
        }
        let nodes = scope.earlierNodes

        let outputs: [ValueReference]
        if let outputsNode = fields["outputs"] {
            outputs = try pipelineOutputs(from: outputsNode, label: fields.label("outputs"), scope: scope)
        } else {
            outputs = nodes.suffix(1).map { ValueReference(.node($0.name, output: nil), at: $0.location) }
        }
        return PipelineSpec(
            name: name, description: description, inputs: inputs, nodes: nodes, outputs: outputs,
            sourcePath: sourcePath)
    }

    // MARK: - Inputs and outputs

    private func graphInputs(from node: Node) throws(SpecError) -> [InputSpec] {
        let expected = "a mapping of input names to kinds, like {image: jpeg}"
        guard case .mapping(let mapping) = node, !mapping.isEmpty else {
            throw reader.error(
                at: node, found: "'inputs' of the pipeline is \(SpecReader.describe(node))", expected: expected)
        }
        var inputs: [InputSpec] = []
        for (keyNode, value) in mapping {
            let name = try reader.identifier(keyNode, "input name")
            let kind = try reader.choice(value, "kind of input '\(name)'", as: InputSpec.Kind.self)
            inputs.append(InputSpec(name: name, kind: kind, location: reader.location(of: keyNode)))
        }
        return inputs
    }

    private func pipelineOutputs(from node: Node, label: String, scope: Scope) throws(SpecError) -> [ValueReference] {
        let expected = "a list of node names or node.output references"
        let items: [Node]
        if case .sequence = node {
            items = try reader.list(node, label, expected: expected)
        } else {
            items = [node]
        }
        var outputs: [ValueReference] = []
        for item in items {
            let output = try reference(
                item, label: label, reader: nil, scope: scope, expected: "a node name or node.output")
            if case .graphInput(let name) = output.producer {
                throw reader.error(
                    at: item, found: "\(label) names pipeline input '\(name)'", expected: "a node's result")
            }
            if outputs.contains(where: { $0.producer == output.producer }) {
                throw reader.error(at: item, found: "\(label) lists '\(output)' twice", expected: "each output once")
            }
            outputs.append(output)
        }
        return outputs
    }

    // MARK: - Nodes

    /// The node's name if it is written as a plain string, for messages and forward
    /// references before the node itself is checked.
    private func declaredName(of item: Node) -> (String, Node)? {
        guard let nameNode = item.mapping?["name"], case .scalar(let scalar) = nameNode,
            !SpecReader.isNull(nameNode)
        else { return nil }
        return (scalar.string, nameNode)
    }

    private func node(from item: Node, index: Int, scope: Scope) throws(SpecError) -> NodeSpec {
        let owner = declaredName(of: item).map { "node '\($0.0)'" } ?? "node \(index + 1)"
        let fields = try reader.fields(
            of: item, owner: owner, allowedKeys: Self.nodeKeys,
            shape: "a mapping with 'name' and either 'ops' or 'model'")
        let nameNode = try fields.required("name", expected: "a unique node name")
        let name = try reader.identifier(nameNode, fields.label("name"))
        if let input = scope.inputs.first(where: { $0.name == name }) {
            throw reader.error(
                at: nameNode, found: "node name '\(name)' is already a pipeline input (line \(input.location.line))",
                expected: "a name no other node or input uses")
        }
        if let earlier = scope.earlierNodes.first(where: { $0.name == name }) {
            throw reader.error(
                at: nameNode, found: "node name '\(name)' is already used by the node at line \(earlier.location.line)",
                expected: "a name no other node or input uses")
        }
        let location = reader.location(of: item)
        let inputs = try nodeInputs(fields, nodeName: name, location: location, scope: scope)
        return NodeSpec(
            name: name, inputs: inputs, body: try body(fields, nodeName: name, inputs: inputs),
            queue: try fields["queue"].map { (node) throws(SpecError) in try queue(from: node, nodeName: name) },
            location: location)
    }

    private func queue(from node: Node, nodeName: String) throws(SpecError) -> QueueSpec {
        let fields = try reader.fields(
            of: node, owner: "the queue of node '\(nodeName)'", allowedKeys: Self.queueKeys,
            shape: "a mapping like {max_batch: 8, max_delay_us: 2000}")
        let maxBatch = try fields.int("max_batch", default: 1, expected: "an integer in 1…4096") { (1...4096).contains($0) }
        let capacity = try fields.int("capacity", default: max(64, maxBatch), expected: "an integer in \(maxBatch)…1000000 (at least max_batch)") {
            (maxBatch...1_000_000).contains($0)
        }
        var threads: Int?
        if fields["threads"] != nil {
            threads = try fields.int("threads", expected: "an integer in 1…256") { (1...256).contains($0) }
        }
        return QueueSpec(
            maxBatch: maxBatch,
            maxDelayMicroseconds: try fields.int("max_delay_us", default: 0, expected: "an integer in 0…10000000") { (0...10_000_000).contains($0) },
            capacity: capacity,
            workers: try fields.int("workers", default: 1, expected: "an integer in 1…64") { (1...64).contains($0) },
            threads: threads,
            timeoutMicroseconds: try fields.int("timeout_us", default: 0, expected: "an integer in 0…600000000") { (0...600_000_000).contains($0) },
            padToLargest: try fields.bool("pad_to_largest", default: false),
            broker: try broker(from: fields),
            location: reader.location(of: node))
    }

    private func broker(from fields: Fields) throws(SpecError) -> BrokerSpec? {
        guard let url = fields["broker"] else {
            for key in ["claim_after_ms", "max_deliveries"] where fields[key] != nil {
                throw reader.error(at: fields[key]!, found: "'\(key)' on a queue without 'broker'", expected: "'broker: redis://host:port/stream' beside it")
            }
            return nil
        }
        let text = try reader.string(url, fields.label("broker"), expected: BrokerAddress.expected)
        guard let address = BrokerAddress(url: text) else {
            throw reader.error(at: url, found: "\(fields.label("broker")) is '\(text)'", expected: BrokerAddress.expected)
        }
        return BrokerSpec(
            address: address,
            claimAfterMilliseconds: try fields.int("claim_after_ms", default: 10_000, expected: "an integer in 100…3600000") { (100...3_600_000).contains($0) },
            maxDeliveries: try fields.int("max_deliveries", default: 3, expected: "an integer in 1…100") { (1...100).contains($0) })
    }

    private func nodeInputs(
        _ fields: Fields, nodeName: String, location: SourceLocation, scope: Scope
    ) throws(SpecError) -> [ValueReference] {
        if let conflict = fields.conflict("input", "inputs", expected: "either 'input: name' or 'inputs: [names]'") {
            throw conflict
        }
        let expected = "a pipeline input or an earlier node, as name or node.output"
        if let single = fields["input"] {
            return [
                try reference(
                    single, label: fields.label("input"), reader: nodeName, scope: scope,
                    expected: "\(expected) (use 'inputs: [a, b]' for several)")
            ]
        }
        if let several = fields["inputs"] {
            var inputs: [ValueReference] = []
            for item in try reader.list(several, fields.label("inputs"), expected: "a non-empty list of inputs") {
                inputs.append(
                    try reference(
                        item, label: "input of node '\(nodeName)'", reader: nodeName, scope: scope,
                        expected: expected))
            }
            return inputs
        }
        if let previous = scope.earlierNodes.last {
            return [ValueReference(.node(previous.name, output: nil), at: location)]
        }
        guard scope.inputs.count == 1, let only = scope.inputs.first else {
            let names = scope.inputs.map(\.name).joined(separator: ", ")
            throw SpecError(
                at: location,
                found: "node '\(nodeName)' has no 'input' and the pipeline has \(scope.inputs.count) inputs (\(names))",
                expected: "'input:' or 'inputs:' naming what the first node reads")
        }
        return [ValueReference(.graphInput(only.name), at: location)]
    }

    private func body(_ fields: Fields, nodeName: String, inputs: [ValueReference]) throws(SpecError) -> NodeSpec.Body {
        if let conflict = fields.conflict("ops", "model", expected: "either an 'ops' list or a 'model' path") {
            throw conflict
        }
        if let opsNode = fields["ops"] {
            if let modelInputKey = fields.keyNode("model_input") {
                throw reader.error(
                    at: modelInputKey, found: "node '\(nodeName)' has 'model_input' but runs ops",
                    expected: "'model_input' only in a node with 'model'")
            }
            let items = try reader.list(
                opsNode, fields.label("ops"), expected: "a non-empty list of ops, like [decode, {resize: {size: 224}}]")
            var ops: [OpSpec] = []
            for item in items {
                ops.append(try op(from: item))
            }
            return .ops(ops)
        }
        guard let modelNode = fields["model"] else {
            throw SpecError(
                at: fields.location, found: "node '\(nodeName)' has neither 'ops' nor 'model'",
                expected: "an 'ops' list or a 'model' path")
        }
        guard inputs.count == 1 else {
            throw reader.error(
                at: fields["inputs"] ?? modelNode, found: "model node '\(nodeName)' has \(inputs.count) inputs",
                expected: "exactly one input, fed to the ONNX input that 'model_input' names")
        }
        let path = try self.path(modelNode, label: fields.label("model"))
        var modelInput: Located<String>?
        if let node = fields["model_input"] {
            let name = try reader.string(node, fields.label("model_input"), expected: "an ONNX graph input name")
            modelInput = Located(name, at: reader.location(of: node))
        }
        return .model(ModelSpec(path: path, input: modelInput))
    }

    // MARK: - References and paths

    /// A `name` or `node.output` reference that `consumer` (nil for pipeline outputs) may read.
    private func reference(
        _ node: Node, label: String, reader consumer: String?, scope: Scope, expected: String
    ) throws(SpecError) -> ValueReference {
        let text = try reader.string(node, label, expected: expected)
        let location = reader.location(of: node)
        let source: String
        let output: String?
        if let dot = text.firstIndex(of: ".") {
            source = String(text[..<dot])
            output = String(text[text.index(after: dot)...])
        } else {
            source = text
            output = nil
        }
        if output == "" {
            throw reader.error(
                at: node, found: "\(label) is '\(text)', with nothing after '.'", expected: "node.output")
        }
        if scope.inputs.contains(where: { $0.name == source }) {
            guard let output else { return ValueReference(.graphInput(source), at: location) }
            throw reader.error(
                at: node, found: "\(label) is '\(text)', output '\(output)' of pipeline input '\(source)'",
                expected: "'\(source)' alone: pipeline inputs have no named outputs")
        }
        if scope.earlierNodes.contains(where: { $0.name == source }) {
            return ValueReference(.node(source, output: output), at: location)
        }
        // Pipeline outputs (no consumer) must be node results; nodes may also read inputs.
        let candidates = consumer == nil ? scope.earlierNodes.map(\.name) : scope.readableNames
        let readable =
            consumer == nil
            ? "a node (\(candidates.joined(separator: ", ")))"
            : "a pipeline input or an earlier node (\(candidates.joined(separator: ", ")))"
        if let consumer, source == consumer {
            throw reader.error(at: node, found: "node '\(consumer)' reads its own result", expected: readable)
        }
        if let consumer, let line = scope.declaredNodeLines[source] {
            throw reader.error(
                at: node, found: "node '\(consumer)' reads node '\(source)', which is declared later (line \(line))",
                expected: "\(readable); nodes may only read nodes above them, which keeps the graph acyclic")
        }
        throw reader.error(
            at: node,
            found: "\(label) is '\(text)', which names no \(consumer == nil ? "node" : "pipeline input or node")",
            expected: readable,
            suggestion: closestName(to: source, among: candidates))
    }

    /// A file path as written, made absolute against the YAML file's folder and normalized.
    func path(_ node: Node, label: String) throws(SpecError) -> Located<String> {
        let text = try reader.string(node, label, expected: "a file path")
        guard !text.isEmpty else {
            throw reader.error(at: node, found: "\(label) is \(SpecReader.describe(node))", expected: "a file path")
        }
        return Located(normalizedPath(text, relativeTo: baseDirectory), at: reader.location(of: node))
    }
}
