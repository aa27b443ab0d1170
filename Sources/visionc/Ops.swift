import ArgumentParser
import Driver
import IR
import MultiModel

struct Ops: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the ONNX ops visionc imports, the IR ops it runs, and the stage ops of staged (multi-model) pipelines.")

    func run() {
        print("ONNX ops (default domain):")
        for op in SupportedOps.onnx { print("  \(op)") }
        print("\nIR ops:")
        for op in Op.allCases { print("  \(op.rawValue) (\(op.group.rawValue))") }
        print("\nStage ops (the `stages` of a staged pipeline file):")
        for op in StageOp.catalog {
            let role = switch op.role {
            case .map: "map"
            case .expand: "fan-out"
            case .gather: "fan-in"
            }
            let reads = op.role == .gather ? "any value made per child" : op.inputs.map(\.description).joined(separator: ", ")
            let writes = op.role == .gather ? "[that value]" : "\(op.output)"
            print("  \(op.name) (\(role)\(op.usesModel ? ", runs a model" : "")): \(reads) → \(writes)")
            print("      \(op.summary)")
            for parameter in op.parameters { print("      params.\(parameter.name): \(parameter.help)") }
        }
    }
}
