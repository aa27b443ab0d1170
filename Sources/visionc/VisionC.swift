import ArgumentParser
import Driver
import Foundation
import IR
import Passes
import PipelineSpec

/// `visionc`: compile, run and benchmark vision pipelines. A thin layer over `Driver`.
@main
struct VisionC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visionc",
        abstract: "A dataflow-graph compiler for computer-vision inference pipelines.",
        subcommands: [Compile.self, Run.self, Bench.self, ServeCommand.self, WorkerCommand.self, Ops.self]
    )

    /// `--dump-ir` may be given bare (final graph) or as `--dump-ir=after-each`;
    /// ArgumentParser options need a value, so the bare form is spelled out here.
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        arguments = arguments.map { $0 == "--dump-ir" ? "--dump-ir=final" : $0 }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// The optimization level flag: `-O0` (no fusion) or `-O2` (default).
enum LevelFlag: String, EnumerableFlag {
    case O0, O2

    static func name(for value: LevelFlag) -> NameSpecification { .customLong(value.rawValue, withSingleDash: true) }
    static func help(for value: LevelFlag) -> ArgumentHelp? {
        value == .O0 ? "Canonicalize only; every pipeline step stays a separate node." : "Fuse and fold (default)."
    }

    var level: OptimizationLevel { self == .O0 ? .O0 : .O2 }
}

/// Options every command that compiles a graph takes.
struct CompileFlags: ParsableArguments {
    @Flag var level: LevelFlag = .O2

    @Option(help: "exact: only rewrites exact up to float rounding; fast: also approximate ones.")
    var fidelity: Fidelity = .exact

    @Flag(help: "Verify the IR after every pass.")
    var verifyEach = false

    @Option(help: "auto: place nodes on every backend this machine has (oneDNN where it loads); native: the project's own kernels only.")
    var backends: BackendChoice = .auto

    var options: CompileOptions {
        CompileOptions(level: level.level, fidelity: fidelity, verifyEach: verifyEach, target: backends == .native ? .native : .host)
    }
}

extension Fidelity: ExpressibleByArgument {}

/// `--backends`: what the placement passes may choose from.
enum BackendChoice: String, ExpressibleByArgument {
    case auto, native
}

/// Prints a failure the way every command does: one clear line on stderr, exit status 1.
func fail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    return ExitCode(1)
}

/// Where broker edges run, for every command that runs a graph that has them.
struct BrokerFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Redis server for every broker edge, instead of the one each names (redis://host:port).", valueName: "URL"))
    var redis: String?

    @Flag(help: "Run broker edges in this process, like any queue, instead of through Redis and workers.")
    var inProcess = false

    func validate() throws {
        if let redis, BrokerAddress(server: redis) == nil { throw ValidationError("--redis: expected \(BrokerAddress.expectedServer), got '\(redis)'") }
        if inProcess && redis != nil { throw ValidationError("--in-process and --redis exclude each other") }
    }

    var server: BrokerAddress? { redis.flatMap { BrokerAddress(server: $0) } }

    var edges: BrokerEdges { inProcess ? .inProcess : .redis(server: server) }
}
