#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kernels

/// A fixed set of worker threads that split one loop at a time with the calling thread.
///
/// Kernels are tiled over disjoint ranges (rows, planes, channels), so one `parallelFor`
/// runs a non-`Sendable` body on several threads: that is sound only because every call
/// touches a disjoint part of its output, which is the kernels' tiling contract. Work too
/// small to split runs inline on the caller, with no synchronisation at all.
///
/// One loop runs at a time: a pool is used by one thread (its `Executable`'s caller).
public final class ThreadPool: @unchecked Sendable {
    /// Threads that run a loop, the caller included.
    public let threadCount: Int

    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let workReady = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let workDone = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var workers: [pthread_t] = []

    // Shared loop state, guarded by `lock`. `task` is set only while `parallelRanges` runs.
    private var task: ((Range<Int>) -> Void)?
    private var count = 0
    private var chunk = 1
    private var nextStart = 0
    private var inFlight = 0
    private var stopping = false

    public init(threads: Int) {
        threadCount = max(1, threads)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(workReady, nil)
        pthread_cond_init(workDone, nil)
        for _ in 1..<threadCount {
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { argument in
                guard let argument else { return nil }
                Unmanaged<ThreadPool>.fromOpaque(argument).takeUnretainedValue().workerLoop()
                return nil
            }, Unmanaged.passUnretained(self).toOpaque())
            // A thread that cannot start only costs parallelism: the loop still completes.
            if started == 0 { workers.append(thread) }
        }
    }

    deinit {
        pthread_mutex_lock(lock)
        stopping = true
        pthread_cond_broadcast(workReady)
        pthread_mutex_unlock(lock)
        for thread in workers { pthread_join(thread, nil) }
        pthread_cond_destroy(workReady)
        pthread_cond_destroy(workDone)
        pthread_mutex_destroy(lock)
        lock.deallocate()
        workReady.deallocate()
        workDone.deallocate()
    }

    /// Calls `body` once per index in `0..<count`, spread over the pool.
    public func parallelFor(count: Int, _ body: (Int) -> Void) {
        parallelRanges(count: count) { range in
            for index in range { body(index) }
        }
    }

    /// Calls `body` on disjoint ranges covering `0..<count`; no range is shorter than
    /// `minChunk` (except the last), so cheap per-index work is not split too finely.
    public func parallelRanges(count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        // A few chunks per thread balance uneven tiles without much claiming traffic.
        let chunkSize = max(max(1, minChunk), (count + threadCount * 4 - 1) / (threadCount * 4))
        if workers.isEmpty || chunkSize >= count {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            pthread_mutex_lock(lock)
            task = body
            self.count = count
            chunk = chunkSize
            nextStart = 0
            pthread_cond_broadcast(workReady)
            runChunks()
            while inFlight > 0 { pthread_cond_wait(workDone, lock) }
            task = nil
            pthread_mutex_unlock(lock)
        }
    }

    /// `parallelRanges` for bodies that can fail: every range still runs, and the first
    /// error thrown (in completion order) is rethrown once the loop is done.
    public func parallelRanges(count: Int, minChunk: Int = 1, _ body: (Range<Int>) throws -> Void) throws {
        var firstError: Error?
        parallelRanges(count: count, minChunk: minChunk) { (range: Range<Int>) in
            do {
                try body(range)
            } catch {
                pthread_mutex_lock(lock)
                if firstError == nil { firstError = error }
                pthread_mutex_unlock(lock)
            }
        }
        if let firstError { throw firstError }
    }

    /// Claims and runs chunks until none is left. Called and returns with `lock` held.
    private func runChunks() {
        while let body = task, nextStart < count {
            let range = nextStart..<min(nextStart + chunk, count)
            nextStart = range.upperBound
            inFlight += 1
            pthread_mutex_unlock(lock)
            body(range)
            pthread_mutex_lock(lock)
            inFlight -= 1
        }
        if inFlight == 0 { pthread_cond_signal(workDone) }
    }

    private func workerLoop() {
        pthread_mutex_lock(lock)
        while true {
            while !stopping && !(task != nil && nextStart < count) {
                pthread_cond_wait(workReady, lock)
            }
            if stopping { break }
            runChunks()
        }
        pthread_mutex_unlock(lock)
    }
}

/// The JPEG decoder's restart bands run on the pool like any kernel's tiles.
extension ThreadPool: ParallelLoop {}
