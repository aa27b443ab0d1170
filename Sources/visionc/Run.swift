import ArgumentParser
import Driver
import Foundation
import IR
import Passes

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a pipeline on images and print its results.")

    @Argument(help: "Pipeline graph (YAML).") var graph: String?
    @Argument(help: "Input images (JPEG or PNG files).") var images: [String] = []
    @OptionGroup var flags: CompileFlags
    @OptionGroup var brokers: BrokerFlags
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object per input instead of text.") var json = false
    @Option(
        help: ArgumentHelp(
            "Write a graph value as a NumPy .npy file, or an image value (u8 HWC, 1-4 channels) as a .png "
                + "(repeatable); NODE is a YAML node, a node's op result like preprocess.resize, or an IR value name. "
                + "With several images, FILE gets the image's index.",
            valueName: "NODE=FILE.npy|FILE.png"))
    var save: [String] = []
    @Option(help: "Run a bare ONNX model on NumPy tensors instead of a pipeline (with --input and --output-dir).")
    var model: String?
    @Option(name: .customLong("input"), help: ArgumentHelp("A model input as a NumPy .npy file (repeatable; with --model).", valueName: "NAME=FILE.npy"))
    var modelInputs: [String] = []
    @Option(
        help: ArgumentHelp(
            "Directory that receives the graph's image outputs (a mask) as <input name>.<output>.png "
                + "(default: the current directory), or with --model each model output as <output name>.npy.",
            valueName: "DIR"))
    var outputDir: String?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if model != nil {
            try validateModelMode()
            return
        }
        guard graph != nil else { throw ValidationError("give a pipeline graph (YAML), or --model FILE.onnx") }
        guard modelInputs.isEmpty else { throw ValidationError("--input goes with --model") }
        guard !images.isEmpty else { throw ValidationError("give at least one input image") }
    }

    func run() throws {
        if let model { return try runModel(model) }
        guard let graph else { throw ValidationError("give a pipeline graph (YAML), or --model FILE.onnx") }
        let runner: PipelineRunner
        let requests: [SaveRequest]
        do {
            runner = try PipelineRunner(try Compiler.compile(path: graph, options: flags.options), threads: threads, brokers: brokers.edges)
            requests = try save.map(SaveRequest.init(argument:))
            try SaveRequest.validate(requests, in: runner.compiled.optimized, level: "-\(flags.level.rawValue)")
        } catch {
            throw fail(error)
        }
        var failures = 0
        for (index, image) in images.enumerated() {
            do {
                let (result, captured) = try runner.run(
                    input: try PipelineRunner.readInput(path: image), name: image, capture: Set(requests.map(\.value)))
                for var request in requests {
                    if images.count > 1 {
                        let url = URL(fileURLWithPath: request.path)
                        let stem = url.deletingPathExtension().lastPathComponent, ext = url.pathExtension
                        request.path = url.deletingLastPathComponent()
                            .appendingPathComponent("\(stem).\(index)\(ext.isEmpty ? "" : ".\(ext)")").path
                    }
                    guard let tensor = captured[request.value] else { continue }
                    try request.write(tensor)
                }
                var files: [(output: String, path: String)] = []
                for (output, tensor) in zip(runner.compiled.outputs, result.outputs) where ImageFile.isImage(tensor) {
                    let path = ImageFile.outputPath(input: image, output: output.name, folder: outputDir ?? ".")
                    try ImageFile.writePNG(tensor, to: path)
                    files.append((output.name, path))
                }
                print(json ? ResultFormat.json(result, files: files) : ResultFormat.text(result, files: files))
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
