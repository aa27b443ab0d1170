import Driver
import IR
import ONNXImport
import Runtime

/// One ONNX model compiled on its own (import → `Compiler.optimize` → `Executable`), fed a whole
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
    private let options: CompileOptions
    private let generic: Executable?
    /// Why the model did not compile with symbolic input dims (nil when it did).
    private let genericFailure: String?
    private let specializedCapacity: Int
    private var specialized: [[Int]: Executable] = [:]
    private var specializedOrder: [[Int]] = []

    /// - Parameters:
    ///   - threads: intra-op threads of this runner's own pool.
    ///   - options: how the model is compiled (`Compiler.optimize`).
    public init(path: String, threads: Int, options: CompileOptions, specializedCapacity: Int = 32) throws {
        model = try ONNXModel.load(path: path)
        guard model.inputs.count == 1, let input = model.inputs.first else {
            throw VisionError("\(path): a model stage needs a model with one input; it has \(model.inputs.count)")
        }
        inputName = input.name
        self.threads = threads
        self.options = options
        self.specializedCapacity = specializedCapacity
        // Import with symbolic dims fails only for models whose import needs known sizes;
        // those are compiled per input shape below, and the reason is kept for the error a
        // failing specialization reports.
        do {
            generic = try Self.compile(model.standaloneGraph(), threads: threads, options: options, planCacheCapacity: 64)
            genericFailure = nil
        } catch {
            generic = nil
            genericFailure = "\(error)"
        }
    }

    private static func compile(_ graph: Graph, threads: Int, options: CompileOptions, planCacheCapacity: Int) throws -> Executable {
        let optimized = try Compiler.optimize(graph, options: options).graph
        return try Executable(graph: optimized, options: RuntimeOptions(threads: threads, planCacheCapacity: planCacheCapacity))
    }

    /// Runs the model; outputs in the model's declared order (as ONNX Runtime returns them).
    public func run(_ input: Tensor) throws -> [Tensor] {
        if let generic { return try generic.run(inputs: [input]).outputs }
        if let executable = specialized[input.shape] { return try executable.run(inputs: [input]).outputs }
        let executable: Executable
        do {
            executable = try Self.compile(
                model.standaloneGraph(inputShapes: [inputName: input.shape]), threads: threads, options: options, planCacheCapacity: 1)
        } catch {
            throw VisionError("\(model.path): cannot compile for input \(input.shape): \(error) (with symbolic dims: \(genericFailure ?? "compiled"))")
        }
        if specializedOrder.count >= specializedCapacity { specialized[specializedOrder.removeFirst()] = nil }
        specialized[input.shape] = executable
        specializedOrder.append(input.shape)
        return try executable.run(inputs: [input]).outputs
    }
}
