import Foundation
import IR
import ONNXImport
import Passes
import Runtime

/// A bare ONNX model compiled for the shapes of given inputs and run on NumPy tensors:
/// `visionc run --model FILE.onnx --input NAME=FILE.npy … --output-dir DIR`.
public struct StandaloneModelRunner {
    public let model: ONNXModel
    public let optimized: Graph
    private let executable: Executable

    /// Loads, imports with the given input shapes (which fix any dynamic dims), runs the pass
    /// pipeline of `options`, and prepares the runtime.
    public init(path: String, inputShapes: [String: [Int]], options: CompileOptions, threads: Int? = nil) throws {
        model = try ONNXModel.load(path: path)
        let graph = try model.standaloneGraph(inputShapes: inputShapes)
        optimized = try Compiler.optimize(graph, options: options).graph
        executable = try Executable(graph: optimized, options: threads.map { RuntimeOptions(threads: $0) } ?? RuntimeOptions())
    }

    /// Runs the model on one tensor per model input (by ONNX name); returns each output by ONNX name.
    public func run(inputs: [String: Tensor]) throws -> [(name: String, tensor: Tensor)] {
        let names = model.inputs.map(\.name)
        if let unknown = inputs.keys.sorted().first(where: { !names.contains($0) }) {
            throw StandaloneModelRunError("the model has no input '\(unknown)' (its inputs: \(names.joined(separator: ", ")))")
        }
        let ordered = try names.map { name -> Tensor in
            guard let tensor = inputs[name] else {
                throw StandaloneModelRunError("no tensor given for model input '\(name)' (give --input \(name)=FILE.npy)")
            }
            return tensor
        }
        let outputs = try executable.run(inputs: ordered).outputs
        return zip(model.outputs.map(\.name), outputs).map { ($0, $1) }
    }

    /// Reads `NAME=FILE.npy` arguments into tensors by input name.
    public static func readInputs(_ arguments: [String]) throws -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw StandaloneModelRunError("--input '\(argument)': expected NAME=FILE.npy")
            }
            let name = String(argument[..<equals]), path = String(argument[argument.index(after: equals)...])
            guard tensors[name] == nil else { throw StandaloneModelRunError("--input '\(name)' is given twice") }
            let bytes: [UInt8]
            do {
                bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw StandaloneModelRunError("--input \(name): cannot read \(path): \(error.localizedDescription)")
            }
            do {
                tensors[name] = try NumPyFormat.decode(bytes)
            } catch {
                throw StandaloneModelRunError("--input \(name): \(path): \(error)")
            }
        }
        return tensors
    }

    /// A file name for an output: characters other than letters, digits, `.`, `-` and `_`
    /// become `_` (ONNX names often hold `/` or `:`), and a leading `.` is escaped likewise.
    public static func fileName(forOutput name: String) -> String {
        var sanitized = String(name.unicodeScalars.map { scalar -> Character in
            let allowed = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
            return allowed ? Character(scalar) : "_"
        })
        if sanitized.isEmpty || sanitized.hasPrefix(".") { sanitized = "_" + sanitized.dropFirst() }
        return sanitized + ".npy"
    }

    /// Writes each output as `directory/<sanitized name>.npy`, creating the directory; returns the paths.
    public static func write(_ outputs: [(name: String, tensor: Tensor)], to directory: String) throws -> [String] {
        let names = outputs.map { fileName(forOutput: $0.name) }
        if let clash = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw StandaloneModelRunError("several outputs map to the file name \(clash); rename them in the model")
        }
        let base = URL(fileURLWithPath: directory)
        do {
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
            return try zip(outputs, names).map { output, name in
                let url = base.appendingPathComponent(name)
                try Data(NumPyFormat.encode(output.tensor)).write(to: url)
                return url.path
            }
        } catch {
            throw StandaloneModelRunError("cannot write outputs to \(directory): \(error.localizedDescription)")
        }
    }
}

/// A bad `run --model` request: what was wrong with the arguments or files.
public struct StandaloneModelRunError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
