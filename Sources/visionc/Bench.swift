import ArgumentParser
import Driver
import Foundation
import IR
import Passes

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a pipeline at -O0 and -O2 side by side: time per stage category and per node, with ratios.")

    @Argument(help: "Pipeline graph (YAML).") var graph: String
    @Argument(help: "Input images (JPEG files).") var images: [String]
    @Option(help: "Measured rounds; each round runs every variant once, interleaved.") var iterations = 20
    @Option(help: "Unmeasured rounds first.") var warmup = 2
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(help: "Fidelity of the optimized variant.") var fidelity: Fidelity = .exact
    @Option(help: "Show the N slowest nodes of each variant (0: none, -1: all).") var topNodes = 8

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one input image") }
        guard iterations >= 1, warmup >= 0 else { throw ValidationError("--iterations must be ≥ 1 and --warmup ≥ 0") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let variants = [
            BenchVariant(name: "O0", options: CompileOptions(level: .O0, fidelity: fidelity)),
            BenchVariant(name: "O2", options: CompileOptions(level: .O2, fidelity: fidelity)),
        ]
        let bench = Benchmark(variants: variants, iterations: iterations, warmup: warmup, threads: threads)
        let interactive = isatty(STDERR_FILENO) != 0
        do {
            let machine = MachineInfo.current(threads: threads)
            print("visionc bench · \(machine.summary)")
            print("graph \(graph) · \(iterations) rounds (+\(warmup) warm-up), variants interleaved · medians in ms\n")
            let results = try bench.run(graphPath: graph, images: images) { message in
                if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K\(message)".utf8)) }
            }
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            for image in results { print(BenchTable.render(image, topNodes: topNodes)) }
        } catch {
            throw fail(error)
        }
    }
}

/// The bench report as text tables.
enum BenchTable {
    static func render(_ m: ImageMeasurement, topNodes: Int) -> String {
        var out = "\(m.path)\n"
        let names = m.variants.map(\.variant)
        let first = names.first ?? ""
        out += pad("category", 12) + names.map { pad($0, 11, right: true) }.joined()
            + names.dropFirst().map { pad("\(first)/\($0)", 10, right: true) }.joined() + "\n"
        for category in StageCategory.allCases where m.variants.contains(where: { $0.categoryMs[category] != nil }) {
            let values = m.variants.map { $0.categoryMs[category] ?? 0 }
            out += pad(category.rawValue, 12) + values.map { pad(String(format: "%.3f", $0), 11, right: true) }.joined()
            out += values.dropFirst().map { pad($0 > 0 ? String(format: "%.2fx", values[0] / $0) : "-", 10, right: true) }.joined() + "\n"
        }
        out += pad("total", 12) + m.variants.map { pad(String(format: "%.3f", $0.totalMs.median), 11, right: true) }.joined()
        out += m.speedupOverFirst.dropFirst().map { pad(String(format: "%.2fx", $0), 10, right: true) }.joined()
        out += "   (ratio: median of per-round ratios)\n"
        out += pad("total p90", 12) + m.variants.map { pad(String(format: "%.3f", $0.totalMs.p90), 11, right: true) }.joined() + "\n"
        guard topNodes != 0 else { return out }
        for v in m.variants {
            let nodes = v.nodes.sorted { $0.ms > $1.ms }
            let shown = topNodes < 0 ? nodes : Array(nodes.prefix(topNodes))
            out += "\n  \(v.variant): \(v.nodes.count) nodes\(topNodes > 0 && nodes.count > topNodes ? ", slowest \(topNodes)" : "")\n"
            for n in shown {
                out += "    " + pad(n.name, 40) + pad(n.op.rawValue, 20) + pad(n.category.rawValue, 12)
                    + pad(String(format: "%.3f", n.ms), 10, right: true) + "\n"
            }
        }
        return out
    }

    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let text = s.count > width - 1 && width > 4 ? String(s.prefix(width - 2)) + "…" : s
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }
}
