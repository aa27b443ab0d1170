import IR
import Kernels

/// Builds the `ExecutionPlan` of one concrete input binding: re-runs shape inference node by
/// node with concrete types, folds shape arithmetic, makes one step per node that does work,
/// and packs every buffer into one arena by liveness.
struct Planner {
    let graph: Graph
    let constantBuffers: [ValueID: AlignedBuffer]
    let decodeSources: [Int: DecodeConfig]
    let encodedInputs: Set<Int>
    /// Threads of the executable's pool: kernels that give each thread its own scratch size it by this.
    var threads = 1

    /// Ops whose result is their operand's bytes under another shape: no step, no copy.
    static let viewOps: Set<Op> = [.reshape, .flatten, .squeeze, .unsqueeze, .identity]

    func plan(key: PlanKey, decodedShapes: [Int: [Int]]) throws -> ExecutionPlan {
        let valueCount = graph.values.count
        var types = [TensorType?](repeating: nil, count: valueCount)
        var known: [ValueID: Tensor] = [:]
        var folded: [ValueID: Tensor] = [:]
        var slotOfValue = Array(0..<valueCount)

        for (position, id) in graph.inputs.enumerated() {
            var type = graph.type(of: id)
            if !encodedInputs.contains(position) { type.shape = key.inputShapes[position].map(Dim.known) }
            types[id.index] = type
        }

        // Concrete types, views and plan-time folding, node by node.
        for (index, node) in graph.nodes.enumerated() {
            let name = nodeName(index)
            switch node.op {
            case .const:
                types[node.outputs[0].index] = graph.type(of: node.outputs[0])
                if let tensor = graph.constantValue(of: node.outputs[0]) { known[node.outputs[0]] = tensor }
                continue
            case .decodeJPEG:
                let declared = graph.type(of: node.outputs[0])
                types[node.outputs[0].index] = TensorType(.u8, decodedShapes[index] ?? [], layout: .hwc, placement: declared.placement)
                continue
            default:
                break
            }
            let inputTypes = try node.inputs.map { id -> TensorType in
                guard let type = types[id.index] else { throw RuntimeError.shape(value: name, "operand %\(graph[id].name) has no type") }
                return type
            }
            let inferred: [TensorType]
            do {
                inferred = try ShapeInference.resultTypes(
                    op: node.op, inputs: inputTypes, attributes: node.attributes, constants: node.inputs.map { known[$0] })
            } catch {
                throw RuntimeError.shape(value: name, "\(error)")
            }
            for (type, output) in zip(inferred, node.outputs) {
                guard let count = type.elementCount else {
                    throw RuntimeError.shape(value: graph[output].name, "shape \(type) is not known at plan time (a shape operand computed at run time?)")
                }
                guard count <= Int(Int32.max) else { throw RuntimeError.tensorTooLarge(value: graph[output].name, elements: count) }
                types[output.index] = type
            }
            let operands = node.inputs.map { known[$0] }
            if Self.viewOps.contains(node.op) {
                slotOfValue[node.outputs[0].index] = slotOfValue[node.inputs[0].index]
                if let source = operands[0], source.count <= PlanTimeFolding.elementLimit, let shape = inferred[0].knownShape {
                    known[node.outputs[0]] = source.reshaped(shape)
                }
            } else if let value = PlanTimeFolding.fold(node, operands: operands, inputTypes: inputTypes, resultTypes: inferred) {
                known[node.outputs[0]] = value
                folded[node.outputs[0]] = value
            }
        }

        // Steps (they ask for scratch slots, numbered after the values).
        var scratch: [(bytes: Int, time: Int)] = []
        var steps: [Step] = []
        for (index, node) in graph.nodes.enumerated() {
            if node.op == .const || Self.viewOps.contains(node.op) || node.outputs.allSatisfy({ folded[$0] != nil }) { continue }
            let time = index + 1
            var context = NodeContext(
                node: Self.resolvingAutoPad(node, types: types), name: nodeName(index),
                inputTypes: node.inputs.map { types[$0.index] ?? graph.type(of: $0) },
                outputTypes: node.outputs.map { types[$0.index] ?? graph.type(of: $0) },
                inputs: node.inputs.map { slotOfValue[$0.index] },
                outputs: node.outputs.map { slotOfValue[$0.index] },
                known: node.inputs.map { known[$0] },
                threads: threads,
                requestScratch: { bytes in
                    scratch.append((bytes, time))
                    return valueCount + scratch.count - 1
                })
            if let steps = node.attributes.epilogue, !steps.isEmpty { context.epilogue = EpilogueProgram(steps) }
            let body: StepBody
            if node.op == .decodeJPEG, let source = decodeSources[index] {
                let image = node.outputs[0]
                body = source.makeStep(context, wholeImage: graph.outputs.contains(image) || key.captured.contains(image))
            } else {
                body = try OpKernels.makeStep(context)
            }
            steps.append(Step(name: context.name, op: node.op, body: body))
        }

        // Lifetimes of the values that live in the arena, then offsets.
        let end = graph.nodes.count + 1
        var firstUse = Array(repeating: 0, count: valueCount)
        var lastUse = Array(repeating: 0, count: valueCount)
        for (index, node) in graph.nodes.enumerated() {
            for output in node.outputs where slotOfValue[output.index] == output.index {
                firstUse[output.index] = index + 1
                lastUse[output.index] = index + 1
            }
        }
        for (index, node) in graph.nodes.enumerated() {
            for input in node.inputs {
                let root = slotOfValue[input.index]
                lastUse[root] = max(lastUse[root], index + 1)
            }
        }
        for id in graph.outputs + key.captured { lastUse[slotOfValue[id.index]] = end }

        let encodedIDs = Set(encodedInputs.map { graph.inputs[$0] })
        var owned: [AlignedBuffer] = []
        var locations = [ExecutionPlan.Location](repeating: .absent, count: valueCount + scratch.count)
        var requests: [ArenaPlanner.Request] = []
        var requestSlots: [Int] = []
        for index in 0..<valueCount where slotOfValue[index] == index {
            let id = ValueID(index)
            if let buffer = constantBuffers[id] {
                locations[index] = .fixed(buffer.pointer)
            } else if let value = folded[id] {
                let buffer = AlignedBuffer(copying: value.data)
                owned.append(buffer)
                locations[index] = .fixed(buffer.pointer)
            } else if let type = types[index], !encodedIDs.contains(id), let count = type.elementCount {
                requests.append(.init(bytes: count * type.dtype.byteSize, firstUse: firstUse[index], lastUse: lastUse[index]))
                requestSlots.append(index)
            }
        }
        for (offset, entry) in scratch.enumerated() {
            requests.append(.init(bytes: entry.bytes, firstUse: entry.time, lastUse: entry.time))
            requestSlots.append(valueCount + offset)
        }
        let assignment = ArenaPlanner.assign(requests)
        for (slot, offset) in zip(requestSlots, assignment.offsets) { locations[slot] = .arena(offset: offset) }

        let inputCopies = graph.inputs.enumerated().filter { !encodedInputs.contains($0.offset) }.map {
            (position: $0.offset, slot: slotOfValue[$0.element.index])
        }
        return ExecutionPlan(
            steps: steps, arenaBytes: assignment.totalBytes, types: types, slotOfValue: slotOfValue,
            locations: locations, inputCopies: inputCopies, ownedBuffers: owned)
    }

    private func nodeName(_ index: Int) -> String {
        graph.nodes[index].outputs.first.map { graph[$0].name } ?? "node\(index)"
    }

    /// A conv or pooling that kept ONNX's `auto_pad` (its input's size was known only per
    /// request) with the explicit pads for the size this plan is built for: kernels read `pads`.
    static func resolvingAutoPad(_ node: Node, types: [TensorType?]) -> Node {
        guard node.attributes["auto_pad"] != nil, let x = types[node.inputs[0].index]?.knownShape, x.count == 4 else { return node }
        let firstSpatial = ShapeInference.channelsLast(node.attributes) ? 1 : 2
        let kernel = node.op == .conv ? (types[node.inputs[1].index]?.knownShape).map { Array($0[2...3]) } : node.attributes.ints("kernel_shape")
        guard let kernel else { return node }
        var resolved = node
        resolved.attributes = ShapeInference.resolvingAutoPad(node.attributes, spatial: Array(x[firstSpatial..<(firstSpatial + 2)]), kernel: kernel)
        return resolved
    }
}

/// Shape arithmetic evaluated while planning, so `reshape` targets computed from `shape`
/// resolve to concrete dims and these nodes cost nothing per request.
enum PlanTimeFolding {
    /// Larger plan-time values are not tracked for shape inference (shape operands are small).
    static let elementLimit = 4096

    static func fold(_ node: Node, operands: [Tensor?], inputTypes: [TensorType], resultTypes: [TensorType]) -> Tensor? {
        switch node.op {
        case .shape:
            return inputTypes.first.flatMap(ConstantEvaluator.shape(of:))
        case .constantOfShape:
            guard let result = resultTypes.first, let shape = result.knownShape else { return nil }
            return Tensor(shape: shape, data: filled(result.dtype, value: node.attributes.float("value", default: 0), count: shape.reduce(1, *)))
        default:
            // Small results of known operands (Shape → Cast → Slice → Concat chains): the
            // compile-time evaluator, so plan time and compile time fold the same way.
            guard resultTypes.count == 1, node.attributes["activation"] == nil,
                  let shape = resultTypes[0].knownShape, shape.reduce(1, *) <= elementLimit else { return nil }
            let known = operands.compactMap { $0 }
            guard !known.isEmpty, known.count == operands.count else { return nil }
            return ConstantEvaluator.evaluate(node.op, operands: known, attributes: node.attributes, resultShape: shape)
        }
    }

    private static func filled(_ dtype: DType, value: Float, count: Int) -> TensorData {
        switch dtype {
        case .u8: .u8(Array(repeating: UInt8(clamping: Int(exactly: value.rounded(.towardZero)) ?? 0), count: count))
        case .i32: .i32(Array(repeating: Int32(clamping: Int(exactly: value.rounded(.towardZero)) ?? 0), count: count))
        case .i64: .i64(Array(repeating: Int64(exactly: value.rounded(.towardZero)) ?? 0, count: count))
        case .bool: .bool(Array(repeating: value != 0, count: count))
        // The importer gives storage types their arithmetic type, so no fill has one; bf16:
        // rejected by OpSupport.
        case .f32, .bf16, .i8, .i16, .u16, .u32, .u64, .f16, .f64: .f32(Array(repeating: value, count: count))
        }
    }
}
