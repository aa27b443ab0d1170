import ArgumentParser
import Driver
import Foundation
import IR
import Passes

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a pipeline on images and print its results.")

    @Argument(help: "Pipeline graph (YAML).") var graph: String
    @Argument(help: "Input images (JPEG files).") var images: [String]
    @OptionGroup var flags: CompileFlags
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object per input instead of text.") var json = false

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one input image") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let runner: PipelineRunner
        do {
            runner = try PipelineRunner(try Compiler.compile(path: graph, options: flags.options), threads: threads)
        } catch {
            throw fail(error)
        }
        var failures = 0
        for image in images {
            do {
                let result = try runner.run(path: image)
                print(json ? ResultFormat.json(result) : ResultFormat.text(result))
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
