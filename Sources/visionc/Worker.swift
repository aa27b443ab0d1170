import ArgumentParser
import Broker
import Driver
import Foundation
import PipelineSpec
import Runtime

/// `visionc worker GRAPH --stage NODE`: one process consuming a broker edge's Redis stream,
/// running the stages behind it, until SIGTERM or SIGINT (it finishes what it took, then exits 0).
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Consume a broker edge of a graph (a Redis stream) and run the stages behind it.",
        discussion: """
            Start any number, on any machine that reaches Redis; each joins the edge's consumer
            group (visionc-workers) and takes over entries a dead worker left pending. Compile
            flags must match the front end's (the same graph text gives the same stages).
            Prints `visionc worker: CONSUMER consuming redis://HOST:PORT/STREAM (stage S)` when
            it is ready, and its counts when it stops.
            """)

    @Argument(help: "Pipeline graph (YAML) with a broker edge (a queue with broker: redis://…).") var graph: String
    @OptionGroup var flags: CompileFlags
    @Option(help: "The node the broker edge leads into (default: the graph's only broker edge).") var stage: String?
    @Option(help: ArgumentHelp("Redis server to use instead of the one the graph names (redis://host:port).", valueName: "URL"))
    var redis: String?
    @Option(help: "Kernel threads per stage worker (default: the queue's threads, else all cores).") var threads: Int?
    @Option(help: "This worker's consumer name in the group (default: host-pid).") var consumer: String?

    func validate() throws {
        if let redis, BrokerAddress(server: redis) == nil { throw ValidationError("--redis: expected \(BrokerAddress.expectedServer), got '\(redis)'") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let worker: StreamWorker
        do {
            let compiled = try Compiler.compile(path: graph, options: flags.options)
            let partition = try StagePartition(compiled.optimized)
            var options = RuntimeOptions()
            if let threads { options.threads = threads }
            worker = try StreamWorker(
                graph: compiled.optimized, stage: try partition.brokerStage(named: stage), server: redis.flatMap { BrokerAddress(server: $0) },
                options: options, consumer: consumer ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())")
        } catch {
            throw fail(error)
        }
        let signals = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { worker.stop() }
            source.resume()
            return source
        }
        FileHandle.standardOutput.write(Data("visionc worker: \(worker.consumer) consuming \(worker.address) (stage \(worker.stage))\n".utf8))
        worker.run()
        withExtendedLifetime(signals) {}
        let counts = worker.counters
        print("visionc worker: stopped · processed \(counts.processed), failed \(counts.failed), redelivered \(counts.redelivered), dead-lettered \(counts.deadLettered), skipped \(counts.skipped)")
    }
}
