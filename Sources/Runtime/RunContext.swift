import IR
import Kernels

/// What a step sees while it runs: the address of every slot of the current plan, the
/// request's inputs, the thread pool and the JPEG decoder. One per `Executable`, reused.
final class RunContext {
    let pool: ThreadPool
    let decoder: JPEGDecoder
    /// Present when the graph has conv, gemm or matmul (loaded when the executable was created).
    let blas: BLAS?
    /// Address of each slot (value or scratch) of the running plan, indexed by slot.
    var pointers: [UnsafeMutableRawPointer] = []
    var inputs: [Tensor] = []
    /// Warnings of this run (damaged JPEGs decoded under `on_corrupt: warn`).
    var warnings: [String] = []

    init(pool: ThreadPool, decoder: JPEGDecoder, blas: BLAS?) {
        self.pool = pool
        self.decoder = decoder
        self.blas = blas
    }

    @inline(__always) func raw(_ slot: Int) -> UnsafeMutableRawPointer { pointers[slot] }

    @inline(__always) func f32(_ slot: Int) -> UnsafeMutablePointer<Float> {
        pointers[slot].assumingMemoryBound(to: Float.self)
    }

    @inline(__always) func u8(_ slot: Int) -> UnsafeMutablePointer<UInt8> {
        pointers[slot].assumingMemoryBound(to: UInt8.self)
    }

    /// Slot `slot` as `count` floats, for the checked kernel wrappers.
    @inline(__always) func f32(_ slot: Int, count: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: f32(slot), count: count)
    }

    @inline(__always) func u8(_ slot: Int, count: Int) -> UnsafeMutableBufferPointer<UInt8> {
        UnsafeMutableBufferPointer(start: u8(slot), count: count)
    }
}

/// The work of one node for one plan: concrete sizes are captured when it is built.
typealias StepBody = (RunContext) throws -> Void

/// One node as the plan runs it.
struct Step {
    let name: String
    let op: Op
    let body: StepBody
}

/// What an op implementation knows about its node when the plan is built: concrete types,
/// the slots of its operands and results, constants known at plan time, and a way to ask
/// for scratch memory that lives only while the node runs.
struct NodeContext {
    let node: Node
    /// First result's IR name: how errors and profiles name the node.
    let name: String
    let inputTypes: [TensorType]
    let outputTypes: [TensorType]
    let inputs: [Int]
    let outputs: [Int]
    /// Plan-time values of the operands (weights and folded shape arithmetic), else nil.
    let known: [Tensor?]
    /// Threads of the pool the step will run on.
    let threads: Int
    /// The conv's `epilogue` steps (`fuse-epilogue`) as the kernels run them.
    var epilogue = EpilogueProgram()
    let requestScratch: (Int) -> Int

    var attributes: Attributes { node.attributes }
    var op: Op { node.op }

    /// Concrete dims of operand `i` (the planner rejects unresolved shapes before steps are built).
    func inShape(_ i: Int) -> [Int] { inputTypes[i].knownShape ?? [] }
    func outShape(_ i: Int) -> [Int] { outputTypes[i].knownShape ?? [] }
    func inCount(_ i: Int) -> Int { inShape(i).reduce(1, *) }
    func outCount(_ i: Int) -> Int { outShape(i).reduce(1, *) }

    /// A scratch slot of `bytes` bytes, valid only during this node.
    func scratch(bytes: Int) -> Int { requestScratch(bytes) }

    func unsupported(_ reason: String) -> RuntimeError {
        RuntimeError.unsupported(op: node.op, value: name, reason: reason)
    }
}
