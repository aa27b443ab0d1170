import Foundation
import IR

/// `visionc run --save NODE=FILE.npy`: which graph value each request names, and writing it.
///
/// A name is a YAML node (its last result, `preprocess`), one op's result inside it
/// (`preprocess.resize`) or any IR value name. At `-O2` a value a pass fused away no longer
/// exists, except where the fused node's output is the same tensor: fusions keep the name of
/// the last value they replace (the fused `preprocess` node is still `%preprocess`).
public struct SaveRequest: Sendable, Hashable {
    /// IR value name.
    public var value: String
    public var path: String

    /// Parses `NODE=FILE.npy`.
    public init(argument: String) throws {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex,
              argument.index(after: equals) != argument.endIndex
        else {
            throw DriverError("--save '\(argument)': expected NODE=FILE.npy, like --save preprocess=input.npy")
        }
        value = String(argument[..<equals])
        path = String(argument[argument.index(after: equals)...])
    }

    /// Checks every requested value exists in the graph that will run, naming the ones that
    /// do when it does not.
    public static func validate(_ requests: [SaveRequest], in graph: Graph, level: String) throws {
        let names = Set(graph.values.map(\.name))
        for request in requests where !names.contains(request.value) {
            let node = request.value.split(separator: ".").first.map(String.init) ?? request.value
            let similar = graph.values.map(\.name).filter { $0 == node || $0.hasPrefix("\(node).") }
            let hint = similar.isEmpty ? "" : "; values named like it: \(similar.prefix(8).joined(separator: ", "))"
            let fused = level == "-O0" ? "" : " (fused away? -O0 keeps every step)"
            throw DriverError("--save: the graph at \(level) has no value '\(request.value)'\(fused)\(hint)")
        }
    }

    /// Writes `tensor` as a NumPy .npy file (u8 stays u8).
    public func write(_ tensor: Tensor) throws {
        do {
            try Data(NumPyFormat.encode(tensor)).write(to: URL(fileURLWithPath: path))
        } catch {
            throw DriverError("--save \(value)=\(path): cannot write the file (\(error.localizedDescription))")
        }
    }
}
