import Foundation
import IR
import Passes

/// One golden test case (MLIR-style `.ir` file, one case per file):
///
/// ```
/// // A comment saying what the case checks.
/// // RUN: fold-batch-norm            (pass names, comma-separated, or -O0 / -O2)
/// // TARGET: dnnl bf16               (optional: backends and abilities the passes see; default native)
/// // FIDELITY: fast                  (optional: the pipeline's fidelity; default exact)
/// // WEIGHT @dims : i64[2] = [3,4]   (data for non-f32 weights; f32 ones are synthesized)
/// graph g(…) { … }                   (input IR)
/// // -----EXPECTED-----
/// graph g(…) { … }                   (the exact text the passes must print)
/// ```
struct GoldenFile {
    static let separator = "// -----EXPECTED-----"

    let url: URL
    let passes: [any Pass]
    let fidelity: Fidelity
    let weights: [String: Tensor]
    let input: String
    let expected: String
    /// The file up to and including the separator line, kept as is when re-recording.
    let header: String

    init(url: URL) throws {
        self.url = url
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let split = lines.firstIndex(of: Self.separator) else {
            throw GoldenError(url, "missing the line '\(Self.separator)'")
        }
        let isIR = { (line: String) in !line.hasPrefix("//") }
        var run: String?
        var target = Target.native
        var fidelity = Fidelity.exact
        var weights: [String: Tensor] = [:]
        for line in lines[..<split] {
            if let spec = line.dropPrefix("// RUN:") {
                run = spec.trimmingCharacters(in: .whitespaces)
            } else if let spec = line.dropPrefix("// TARGET:") {
                let words = spec.split(separator: " ").map(String.init)
                target = Target(backends: Set(words.compactMap(Backend.init(rawValue:))), bf16: words.contains("bf16"))
            } else if let spec = line.dropPrefix("// FIDELITY:") {
                guard let parsed = Fidelity(rawValue: spec.trimmingCharacters(in: .whitespaces)) else {
                    throw GoldenError(url, "unknown fidelity '\(spec)'")
                }
                fidelity = parsed
            } else if let weight = line.dropPrefix("// WEIGHT") {
                let (name, tensor) = try Self.weight(weight, url)
                weights[name] = tensor
            }
        }
        guard let run else { throw GoldenError(url, "missing a '// RUN: <passes>' line") }
        passes = try Self.passes(run, target: target, url)
        self.fidelity = fidelity
        self.weights = weights
        input = lines[..<split].filter(isIR).joined(separator: "\n")
        expected = lines[(split + 1)...].filter(isIR).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
        header = lines[...split].joined(separator: "\n") + "\n"
    }

    /// `-O0`, `-O2`, or comma-separated pass names.
    private static func passes(_ spec: String, target: Target, _ url: URL) throws -> [any Pass] {
        if spec.hasPrefix("-"), let level = OptimizationLevel(rawValue: String(spec.dropFirst())) {
            return OptimizationLevel.passes(for: level, target: target)
        }
        return try spec.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let pass = OptimizationLevel.pass(named: trimmed, target: target) else { throw GoldenError(url, "unknown pass '\(trimmed)'") }
            return pass
        }
    }

    /// ` @name : i64[2] = [3,4]`.
    private static func weight(_ text: String, _ url: URL) throws -> (String, Tensor) {
        let bad = GoldenError(url, "bad weight line '\(text)': expected '@name : dtype[dims] = [values]'")
        let sides = text.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
        guard sides.count == 2 else { throw bad }
        let declaration = sides[0].split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
        guard declaration.count == 2, declaration[0].hasPrefix("@") else { throw bad }
        let type = declaration[1].split(whereSeparator: { "[]".contains($0) })
        guard let dtype = type.first.flatMap({ DType(rawValue: String($0)) }) else { throw bad }
        let shape = type.dropFirst().first.map { $0.split(separator: ",").compactMap { Int($0) } } ?? []
        let values = sides[1].trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",")
            .compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == shape.reduce(1, *), dtype != .bf16 else { throw bad }
        let data = TensorData.f64(values).converted(to: dtype)
        return (String(declaration[0].dropFirst()), Tensor(shape: shape, data: data))
    }

    /// Writes `actual` as the new expected text (`VISIONC_RECORD_GOLDEN=1`) into the source tree.
    func record(_ actual: String, sourceDirectory: URL) throws {
        let target = sourceDirectory.appendingPathComponent(url.lastPathComponent)
        try (header + actual).write(to: target, atomically: true, encoding: .utf8)
    }
}

struct GoldenError: Error, CustomStringConvertible {
    let description: String
    init(_ url: URL, _ message: String) { description = "\(url.lastPathComponent): \(message)" }
}

private extension String {
    func dropPrefix(_ prefix: String) -> String? { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil }
}
