import IR
import ONNXImport
import Passes
import Runtime

/// One ONNX model compiled on its own (import → `-O2` passes → `Executable`), fed a whole
/// batch as one tensor. Model stages make one per worker thread: an `Executable` is
/// single-threaded.
///
/// The model is compiled once with its declared (symbolic) input dims, and the executable's
/// plan cache covers the batch sizes and widths a queue produces. A model whose import needs
/// known dims (MTCNN's P-Net: `SAME_UPPER` pooling over dynamic H×W) is instead compiled
/// per concrete input shape, keeping the most recent `specializedCapacity` of them.
public final class ModelRunner {
    public let model: ONNXModel
    public let inputName: String
    private let threads: Int
    private let generic: Executable?
    private let specializedCapacity: Int
    private var specialized: [[Int]: Executable] = [:]
    private var specializedOrder: [[Int]] = []

    /// - Parameters:
    ///   - threads: intra-op threads of this runner's own pool.
    public init(path: String, threads: Int, specializedCapacity: Int = 32) throws {
        model = try ONNXModel.load(path: path)
        guard model.inputs.count == 1, let input = model.inputs.first else {
            throw VisionError("\(path): a model stage needs a model with one input; it has \(model.inputs.count)")
        }
        inputName = input.name
        self.threads = threads
        self.specializedCapacity = specializedCapacity
        generic = try? Self.compile(model.standaloneGraph(), threads: threads, planCacheCapacity: 64)
    }

    private static func compile(_ graph: Graph, threads: Int, planCacheCapacity: Int) throws -> Executable {
        let (optimized, _) = try PassManager(passes: OptimizationLevel.passes(for: .O2, target: .host)).run(graph)
        return try Executable(graph: optimized, options: RuntimeOptions(threads: threads, planCacheCapacity: planCacheCapacity))
    }

    /// Runs the model; outputs in the model's declared order (as ONNX Runtime returns them).
    public func run(_ input: Tensor) throws -> [Tensor] {
        if let generic { return try generic.run(inputs: [input]).outputs }
        if let executable = specialized[input.shape] { return try executable.run(inputs: [input]).outputs }
        let executable = try Self.compile(
            model.standaloneGraph(inputShapes: [inputName: input.shape]), threads: threads, planCacheCapacity: 1)
        if specializedOrder.count >= specializedCapacity { specialized[specializedOrder.removeFirst()] = nil }
        specialized[input.shape] = executable
        specializedOrder.append(input.shape)
        return try executable.run(inputs: [input]).outputs
    }
}
