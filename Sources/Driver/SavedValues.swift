import Foundation
import IR
import Kernels

/// `visionc run --save NODE=FILE.npy` (or `FILE.png` for an image): which graph value each
/// request names, and writing it.
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

    /// Writes `tensor` as a NumPy .npy file (u8 stays u8), or as a PNG when the path ends in
    /// `.png` (an image: u8 HWC with 1–4 channels).
    public func write(_ tensor: Tensor) throws {
        if path.lowercased().hasSuffix(".png") {
            do {
                return try ImageFile.writePNG(tensor, to: path)
            } catch {
                throw DriverError("--save \(value)=\(path): \(error)")
            }
        }
        do {
            try Data(NumPyFormat.encode(tensor)).write(to: URL(fileURLWithPath: path))
        } catch {
            throw DriverError("--save \(value)=\(path): cannot write the file (\(error.localizedDescription))")
        }
    }
}

/// Image values written as files: what `run` does with a graph output that is an image (a
/// segmentation mask), and `--save NODE=FILE.png`.
public enum ImageFile {
    /// Whether a value is an image a PNG can hold: u8 HWC with 1 (gray), 2 (gray + alpha),
    /// 3 (RGB) or 4 (RGBA) channels.
    public static func isImage(_ tensor: Tensor) -> Bool {
        tensor.dtype == .u8 && tensor.shape.count == 3 && (1...4).contains(tensor.shape[2]) && tensor.count > 0
    }

    /// Writes an image value as a PNG file; an error names what else it is.
    public static func writePNG(_ tensor: Tensor, to path: String) throws {
        guard isImage(tensor), case .u8(let pixels) = tensor.data else {
            throw DriverError("a PNG holds a u8 HWC image of 1–4 channels, not \(tensor.dtype)\(tensor.shape)")
        }
        let file = try pixels.withUnsafeBufferPointer { buffer in
            try PNGEncoder.encode(buffer, height: tensor.shape[0], width: tensor.shape[1], channels: tensor.shape[2])
        }
        do {
            try Data(file).write(to: URL(fileURLWithPath: path))
        } catch {
            throw DriverError("\(path): cannot write the file (\(error.localizedDescription))")
        }
    }

    /// Where `run` writes image output `output` of input `input`: `<folder>/<input's name without
    /// its extension>.<output>.png`.
    public static func outputPath(input: String, output: String, folder: String) -> String {
        let stem = URL(fileURLWithPath: input).deletingPathExtension().lastPathComponent
        return URL(fileURLWithPath: folder).appendingPathComponent("\(stem).\(output).png").path
    }
}
