import Foundation
import Frontend
import IR
import Passes
import PipelineSpec
import Runtime

/// Options shared by `compile`, `run` and `bench`.
public struct CompileOptions: Sendable {
    public var level: OptimizationLevel
    public var fidelity: Fidelity
    public var verifyEach: Bool
    /// Backends the placement passes may use: by default every one this machine has.
    public var target: Target

    public init(level: OptimizationLevel = .O2, fidelity: Fidelity = .exact, verifyEach: Bool = false, target: Target = .host) {
        self.level = level
        self.fidelity = fidelity
        self.verifyEach = verifyEach
        self.target = target
    }

    /// The pass pipeline these options select.
    public var passes: [any Pass] { OptimizationLevel.passes(for: level, target: target) }
}

/// A pipeline after the whole compile flow: spec → IR → passes.
public struct CompiledPipeline: Sendable {
    public var spec: PipelineSpec
    public var options: CompileOptions
    /// The graph as lowered, before any pass.
    public var lowered: Graph
    /// The graph after the pass pipeline of `options.level`.
    public var optimized: Graph
    public var reports: [PassReport]
    public var outputs: [PipelineOutput]
    public var rankings: [Ranking]
    public var textReadings: [TextReading]
    public var detectionReadings: [DetectionReading]
}

/// The compile flow as one straight function (spec → IR → passes), so reading it tells
/// what the compiler does.
public enum Compiler {
    /// - Parameter afterEach: called with the stage's name ("lowering", then each pass's
    ///   flag name) and the graph it produced, for `--dump-ir=after-each`.
    public static func compile(
        path: String, options: CompileOptions, afterEach: ((String, Graph) -> Void)? = nil
    ) throws -> CompiledPipeline {
        let spec = try PipelineSpec.load(path: path)
        let lowered = try Lowering.lower(spec)
        afterEach?("lowering", lowered.graph)
        let (optimized, reports) = try optimize(lowered.graph, options: options, afterEach: afterEach)
        // Where queues and fan-outs cut the graph is checked here, so `compile` reports an
        // unclosed fan-out or a value read across a batching edge, not only `run`.
        if StagePartition.isStaged(optimized) {
            do {
                _ = try StagePartition(optimized)
            } catch {
                throw DriverError("\(path): the graph cannot be cut into stages: \(error)")
            }
        }
        return CompiledPipeline(
            spec: spec, options: options, lowered: lowered.graph, optimized: optimized, reports: reports,
            outputs: lowered.outputs, rankings: lowered.rankings, textReadings: lowered.textReadings,
            detectionReadings: lowered.detectionReadings)
    }

    /// The pass pipeline of `options` on an imported graph: the one place passes run, for
    /// YAML graphs, bare ONNX models (`run --model`, `bench --model`) and the models of staged
    /// pipelines alike.
    public static func optimize(
        _ graph: Graph, options: CompileOptions, afterEach: ((String, Graph) -> Void)? = nil
    ) throws -> (graph: Graph, reports: [PassReport]) {
        let manager = PassManager(
            passes: options.passes, fidelity: options.fidelity, verifyEach: options.verifyEach,
            afterEach: afterEach.map { callback in { pass, graph in callback(pass.name, graph) } })
        return try manager.run(graph)
    }
}
