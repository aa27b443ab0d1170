import ArgumentParser
import Driver
import IR

struct Ops: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the ONNX ops visionc imports and the IR ops it runs.")

    func run() {
        print("ONNX ops (default domain):")
        for op in SupportedOps.onnx { print("  \(op)") }
        print("\nIR ops:")
        for op in Op.allCases { print("  \(op.rawValue) (\(op.group.rawValue))") }
    }
}
