/// Something that runs disjoint ranges of one loop on several threads: the runtime's thread
/// pool. Kernels take it as a parameter so they stay free of the runtime.
public protocol ParallelLoop {
    /// Threads a loop runs on, the caller included.
    var threadCount: Int { get }
    /// Calls `body` on disjoint ranges covering `0..<count`, none shorter than `minChunk`
    /// (except the last); rethrows the first error once every range has run.
    func parallelRanges(count: Int, minChunk: Int, _ body: (Range<Int>) throws -> Void) throws
}
