import Foundation

/// How an `Executable` runs its graph.
public struct RuntimeOptions: Sendable, Equatable {
    /// Threads used by the kernels, the calling thread included (also OpenBLAS's thread count).
    public var threads: Int
    /// How many concrete input bindings (image sizes) keep their plan; the oldest is dropped beyond.
    public var planCacheCapacity: Int

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount, planCacheCapacity: Int = 8) {
        self.threads = max(1, threads)
        self.planCacheCapacity = max(1, planCacheCapacity)
    }
}
