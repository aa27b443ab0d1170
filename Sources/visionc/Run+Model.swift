import ArgumentParser
import Driver
import Foundation

/// `visionc run --model FILE.onnx --input NAME=FILE.npy … --output-dir DIR [-O0|-O2]`: the
/// model alone, compiled for the given tensors' shapes, each output written as `DIR/<name>.npy`.
extension Run {
    func validateModelMode() throws {
        guard graph == nil, images.isEmpty else {
            throw ValidationError("--model runs a bare model: give no pipeline graph or images")
        }
        guard outputDir != nil else { throw ValidationError("--model needs --output-dir DIR") }
        guard save.isEmpty, !json else { throw ValidationError("--save and --json go with pipelines, not --model") }
    }

    func runModel(_ path: String) throws {
        do {
            let inputs = try StandaloneModelRunner.readInputs(modelInputs)
            let runner = try StandaloneModelRunner(path: path, inputShapes: inputs.mapValues(\.shape), options: flags.options, threads: threads)
            let outputs = try runner.run(inputs: inputs)
            for (output, file) in zip(outputs, try StandaloneModelRunner.write(outputs, to: outputDir ?? ".")) {
                print("\(output.name): \(output.tensor.dtype.rawValue)\(output.tensor.shape) -> \(file)")
            }
        } catch {
            throw fail(error)
        }
    }
}
