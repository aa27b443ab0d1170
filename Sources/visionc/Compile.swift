import ArgumentParser
import Driver
import Foundation
import IR
import Passes
import Runtime

struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compile a pipeline graph and show what the passes did.")

    @Argument(help: "Pipeline graph (YAML).") var graph: String
    @OptionGroup var flags: CompileFlags

    @Option(name: .customLong("dump-ir"), help: "Print the IR: 'final' (also the bare --dump-ir) or 'after-each' pass.")
    var dumpIR: DumpMode?

    enum DumpMode: String, ExpressibleByArgument { case final, afterEach = "after-each" }

    func run() throws {
        let dumpEach = dumpIR == .afterEach
        do {
            let compiled = try Compiler.compile(path: graph, options: flags.options, afterEach: dumpEach ? { stage, g in
                print("// ----- IR after \(stage) -----")
                print(IRPrinter.print(g))
            } : nil)
            if dumpIR == .final { print(IRPrinter.print(compiled.optimized)) }
            printSummary(compiled)
        } catch {
            throw fail(error)
        }
    }

    private func printSummary(_ compiled: CompiledPipeline) {
        let before = compiled.lowered.nodes.filter { $0.op != .const }.count
        let after = compiled.optimized.nodes.filter { $0.op != .const }.count
        var lines = ["// \(compiled.spec.name): \(flags.level.rawValue), fidelity \(flags.fidelity.rawValue): \(before) nodes → \(after) nodes"]
        for r in compiled.reports {
            let outcome = !r.ran ? "skipped (needs --fidelity \(r.fidelity.rawValue))" : r.changed ? r.statistics.description : "no change"
            lines.append("//   \(r.pass) [\(r.fidelity.rawValue)]: \(outcome)")
        }
        // A graph with queues or fan-outs runs as stages: show where it is cut (the compile
        // already checked that it can be).
        if StagePartition.isStaged(compiled.optimized), let partition = try? StagePartition(compiled.optimized) {
            lines.append("// stages (each on its own workers, records passed by IR name):")
            lines += partition.summary.map { "//   " + $0 }
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
