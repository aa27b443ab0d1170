import IR
import Kernels

/// What `Executable.run` returns.
public struct RunResult: Sendable {
    /// The graph's outputs, in order.
    public var outputs: [Tensor]
    /// Values asked for with `capture`, by IR name, copied out with their dtype.
    public var captured: [String: Tensor]
    public var profile: Profile
    /// Non-fatal problems of this run (damaged JPEGs decoded under `on_corrupt: warn`).
    public var warnings: [String]
}

/// A graph prepared to run many requests: weights copied into aligned memory, BLAS loaded,
/// one plan (shapes, steps, arena offsets) per concrete input size, cached.
///
/// An `Executable` is used by one thread at a time: it owns its arena, its plans, its JPEG
/// decoder and its thread pool, and `run` mutates them. Run several in parallel by creating
/// one per thread.
public final class Executable {
    public let graph: Graph
    public let options: RuntimeOptions

    private let pool: ThreadPool
    private let context: RunContext
    /// Pre-packed weights: every const value copied into 64-byte aligned memory.
    private let constantBuffers: [ValueID: AlignedBuffer]
    private let decodeSources: [Int: DecodeConfig]
    /// Graph input positions read only by decode_jpeg: never copied, their length not part of a plan's key.
    private let encodedInputs: Set<Int>
    private let valueIDsByName: [String: ValueID]
    private let absentSlot = AlignedBuffer(byteCount: AlignedBuffer.alignment)

    private var plans: [PlanKey: ExecutionPlan] = [:]
    private var planOrder: [PlanKey] = []
    private var arena = AlignedBuffer(byteCount: 0)

    /// Arena bytes needed by the plan of the latest run.
    public private(set) var plannedArenaBytes = 0
    /// Bytes of arena allocated (the largest plan so far; it never shrinks).
    public var arenaCapacityBytes: Int { arena.byteCount }
    /// Plans currently cached (one per distinct input size and capture set).
    public var cachedPlanCount: Int { plans.count }

    /// - Throws: `RuntimeError.invalidGraph` when the graph fails verification,
    ///   `.unsupported` naming the op and value the runtime cannot run, `.blasUnavailable`.
    public init(graph: Graph, options: RuntimeOptions = RuntimeOptions()) throws {
        do {
            try Verifier.verify(graph)
        } catch {
            throw RuntimeError.invalidGraph("\(error)")
        }
        self.graph = graph
        self.options = options

        var names: [String: ValueID] = [:]
        for index in graph.values.indices { names[graph.values[index].name] = ValueID(index) }
        valueIDsByName = names

        let producers = graph.producers()
        var decodes: [Int: DecodeConfig] = [:]
        var needsBLAS = false
        for (index, node) in graph.nodes.enumerated() {
            let name = node.outputs.first.map { graph[$0].name } ?? "node\(index)"
            if let reason = OpSupport.unsupportedReason(node, inputTypes: node.inputs.map(graph.type(of:))) {
                throw RuntimeError.unsupported(op: node.op, value: name, reason: reason)
            }
            if node.op == .decodeJPEG {
                decodes[index] = try DecodeConfig(node: node, name: name, graph: graph, producers: producers)
            }
            needsBLAS = needsBLAS || [.conv, .convTranspose, .gemm, .matmul].contains(node.op)
        }
        decodeSources = decodes

        let users = graph.users()
        encodedInputs = Set(graph.inputs.indices.filter { position in
            let id = graph.inputs[position]
            guard !graph.outputs.contains(id), let readers = users[id], !readers.isEmpty else { return false }
            return readers.allSatisfy { graph.nodes[$0].op == .decodeJPEG }
        })

        var buffers: [ValueID: AlignedBuffer] = [:]
        for node in graph.nodes where node.op == .const {
            if let weight = node.weight, let tensor = graph.weights[weight] {
                buffers[node.outputs[0]] = AlignedBuffer(copying: tensor.data)
            }
        }
        constantBuffers = buffers

        var blas: BLAS?
        if needsBLAS {
            do {
                blas = try BLAS.load()
            } catch {
                throw RuntimeError.blasUnavailable(error.message)
            }
            // GEMMs split over `pool` (RunContext.sgemm), so OpenBLAS's own workers would only
            // compete with it for the same cores.
            blas?.setThreads(1)
        }
        pool = ThreadPool(threads: options.threads)
        do {
            context = RunContext(pool: pool, decoder: try JPEGDecoder(), blas: blas)
        } catch let error as JPEGError {
            throw RuntimeError.decode(value: graph.name, error)
        }
    }

    // MARK: - Running

    /// Runs the graph on one request.
    /// - Parameters:
    ///   - inputs: one tensor per graph input, in order; symbolic dims take their sizes from here.
    ///   - capture: IR names of intermediate values to copy out (they stay alive for the whole run).
    /// - Throws: `RuntimeError` for wrong inputs, undecodable images and shape errors.
    public func run(inputs: [Tensor], capture: Set<String> = []) throws -> RunResult {
        let key = try planKey(inputs: inputs, capture: capture)
        let plan = try cachedPlan(for: key)
        if plan.arenaBytes > arena.byteCount { arena = AlignedBuffer(byteCount: plan.arenaBytes) }
        plannedArenaBytes = plan.arenaBytes

        context.pointers = plan.pointers(arenaBase: arena.pointer, absent: absentSlot.pointer)
        context.inputs = inputs
        context.warnings = []
        defer { context.inputs = [] }
        for copy in plan.inputCopies {
            let destination = context.raw(copy.slot)
            inputs[copy.position].data.withUnsafeBytes { source in
                if let base = source.baseAddress { destination.copyMemory(from: base, byteCount: source.count) }
            }
        }

        var timings: [NodeTiming] = []
        timings.reserveCapacity(plan.steps.count)
        for step in plan.steps {
            let start = monotonicSeconds()
            do {
                try step.body(context)
            } catch let error as KernelError {
                throw RuntimeError.kernel(value: step.name, error)
            }
            timings.append(NodeTiming(name: step.name, op: step.op, category: step.op.category, seconds: monotonicSeconds() - start))
        }

        let outputs = graph.outputs.map { copyOut($0, plan: plan) }
        var captured: [String: Tensor] = [:]
        for id in key.captured {
            if let position = graph.inputs.firstIndex(of: id), encodedInputs.contains(position) {
                captured[graph[id].name] = inputs[position]
            } else {
                captured[graph[id].name] = copyOut(id, plan: plan)
            }
        }
        return RunResult(outputs: outputs, captured: captured, profile: Profile(entries: timings), warnings: context.warnings)
    }

    private func copyOut(_ id: ValueID, plan: ExecutionPlan) -> Tensor {
        let type = plan.types[id.index] ?? graph.type(of: id)
        let shape = type.knownShape ?? []
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, data: TensorData.copying(type.dtype, from: context.raw(plan.slotOfValue[id.index]), count: count))
    }

    // MARK: - Binding a request to a plan

    private func planKey(inputs: [Tensor], capture: Set<String>) throws -> PlanKey {
        guard inputs.count == graph.inputs.count else {
            throw RuntimeError.inputCount(expected: graph.inputs.count, given: inputs.count)
        }
        var symbols: [String: Int] = [:]
        var shapes: [[Int]] = []
        for (position, id) in graph.inputs.enumerated() {
            let declared = graph.type(of: id)
            let given = inputs[position]
            let mismatch = RuntimeError.inputType(name: graph[id].name, expected: declared, given: "\(given.dtype.rawValue)\(given.shape)")
            guard given.dtype == declared.dtype, given.shape.count == declared.rank else { throw mismatch }
            for (dim, size) in zip(declared.shape, given.shape) {
                switch dim {
                case .known(let n): guard n == size else { throw mismatch }
                case .symbol(let symbol) where !symbol.isEmpty:
                    if let bound = symbols[symbol], bound != size { throw mismatch }
                    symbols[symbol] = size
                case .symbol: break
                }
            }
            shapes.append(encodedInputs.contains(position) ? [] : given.shape)
        }
        var decoded: [[Int]] = []
        for index in decodeSources.keys.sorted() {
            guard let config = decodeSources[index] else { continue }
            decoded.append(try config.outputShape(inputs: inputs, decoder: context.decoder))
        }
        let captured = try capture.sorted().map { name -> ValueID in
            guard let id = valueIDsByName[name] else { throw RuntimeError.unknownValue(name) }
            return id
        }
        return PlanKey(inputShapes: shapes, decodedShapes: decoded, captured: captured)
    }

    private func cachedPlan(for key: PlanKey) throws -> ExecutionPlan {
        if let plan = plans[key] { return plan }
        var decodedByNode: [Int: [Int]] = [:]
        for (index, shape) in zip(decodeSources.keys.sorted(), key.decodedShapes) { decodedByNode[index] = shape }
        let plan = try Planner(
            graph: graph, constantBuffers: constantBuffers, decodeSources: decodeSources,
            encodedInputs: encodedInputs, threads: pool.threadCount
        ).plan(key: key, decodedShapes: decodedByNode)
        if planOrder.count >= options.planCacheCapacity {
            plans[planOrder.removeFirst()] = nil
        }
        plans[key] = plan
        planOrder.append(key)
        return plan
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Seconds on the monotonic clock (one vDSO call, no allocation).
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}
