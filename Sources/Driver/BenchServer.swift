import Foundation
import IR

/// A server that a benchmark variant with a transport (`O2@grpc`) sends its requests to.
/// The server and its protocol clients live above the driver (in `Serve`); the benchmark
/// only sends images and reads the server's own accounting, so that it can split a remote
/// request's latency into the server's stages and the rest: the protocol's overhead.
public protocol BenchServer: AnyObject, Sendable {
    /// Sends one encoded image over `transport` and waits for the whole answer, parsed as a
    /// client would parse it; throws on any answer but success. Called from many threads at once.
    func send(_ image: [UInt8], over transport: BenchTransport) throws
    /// The server's own time per category (its queue included), summed over every request it
    /// has answered so far.
    func totals() -> ServerTotals
    /// Stops the server and its clients; the benchmark calls it once, at the end.
    func close()
}

/// Cumulative server-side accounting, as `BenchServer.totals` reports it.
public struct ServerTotals: Sendable, Equatable {
    public var requests: Int
    public var seconds: [StageCategory: Double]

    public init(requests: Int, seconds: [StageCategory: Double]) {
        self.requests = requests
        self.seconds = seconds
    }

    /// What happened between `earlier` and this.
    public func since(_ earlier: ServerTotals) -> ServerTotals {
        ServerTotals(requests: requests - earlier.requests, seconds: seconds.merging(earlier.seconds.mapValues { -$0 }, uniquingKeysWith: +))
    }
}

/// The server of a variant: for one bench serves itself, a server of the compiled graph with
/// the load shape's workers and threads per worker on loopback (`Benchmark` starts one per
/// configuration and load shape and keeps it for the run); for a variant with an endpoint, a
/// client of that running server.
public typealias BenchServerFactory = (BenchVariant, CompiledPipeline, LoadShape) throws -> any BenchServer
