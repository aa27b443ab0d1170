import Foundation

/// How a queue edge between two stages batches its items (declared per stage in YAML).
public struct QueuePolicy: Sendable, Equatable {
    /// The most items one batch takes.
    public var maxBatch: Int
    /// How long the oldest queued item may wait for the batch to fill before a partial batch
    /// goes (Triton's `max_queue_delay_microseconds`); 0 takes whatever is queued at once.
    public var maxDelayMicroseconds: Int
    /// The most items the queue holds; a producer pushing into a full queue waits
    /// (back-pressure), so memory stays bounded by the sum of capacities.
    public var capacity: Int
    /// How long an item may wait in the queue before it is dropped and its request fails
    /// (Triton's `default_timeout_microseconds` with `timeout_action: REJECT`); 0: no limit.
    public var timeoutMicroseconds: Int

    public init(maxBatch: Int = 1, maxDelayMicroseconds: Int = 0, capacity: Int = 64, timeoutMicroseconds: Int = 0) {
        precondition(maxBatch >= 1 && maxDelayMicroseconds >= 0 && capacity >= maxBatch && timeoutMicroseconds >= 0, "invalid queue policy")
        self.maxBatch = maxBatch
        self.maxDelayMicroseconds = maxDelayMicroseconds
        self.capacity = capacity
        self.timeoutMicroseconds = timeoutMicroseconds
    }
}

/// What a queue saw: how long items waited in it, how full it got, which batch sizes it formed.
public struct QueueStatistics: Sendable, Equatable {
    public var items = 0
    public var batches = 0
    /// `batchSizes[n]` = number of batches of n items (index 0 unused).
    public var batchSizes: [Int]
    public var totalWaitSeconds = 0.0
    public var maxWaitSeconds = 0.0
    /// The most items queued at once; never above the policy's capacity.
    public var maxDepth = 0
    /// How often a producer found the queue full and had to wait.
    public var blockedPushes = 0
    /// Items dropped for waiting longer than the policy's timeout.
    public var timedOut = 0

    init(maxBatch: Int) { batchSizes = Array(repeating: 0, count: maxBatch + 1) }

    public var meanBatchSize: Double { batches == 0 ? 0 : Double(items) / Double(batches) }
    public var meanWaitSeconds: Double { items == 0 ? 0 : totalWaitSeconds / Double(items) }
}

/// A bounded FIFO between stages that hands out batches under a `QueuePolicy`.
///
/// `push` blocks while the queue is full; `popBatch` blocks until an item is queued, then
/// waits until `maxBatch` items are there or the oldest item has waited `maxDelay`,
/// whichever comes first. Several producers and consumers may use one queue. Items older
/// than the policy's timeout are not batched: `popBatch` sets them aside (its batch may
/// then be empty) and `takeExpired` hands them to the consumer to fail.
final class BatchQueue<Element: Sendable>: @unchecked Sendable {
    let name: String
    let policy: QueuePolicy
    private let condition = NSCondition()
    private var items: [(element: Element, enqueuedAt: Double)] = []
    private var head = 0
    private var closed = false
    private var stats: QueueStatistics
    private var expired: [Element] = []

    init(name: String, policy: QueuePolicy) {
        self.name = name
        self.policy = policy
        stats = QueueStatistics(maxBatch: policy.maxBatch)
    }

    private var count: Int { items.count - head }

    /// Appends `element`, waiting while the queue is full. Returns false (dropping the
    /// element) once the queue is closed.
    @discardableResult
    func push(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if count >= policy.capacity && !closed { stats.blockedPushes += 1 }
        while count >= policy.capacity && !closed { condition.wait() }
        if closed { return false }
        items.append((element, monotonicSeconds()))
        stats.maxDepth = max(stats.maxDepth, count)
        condition.broadcast()
        return true
    }

    /// The next batch (1…maxBatch items, oldest first), or nil when the queue is closed and empty.
    func popBatch() -> [Element]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            while count == 0 && !closed { condition.wait() }
            if count == 0 { return nil }
            guard policy.maxBatch > 1 && policy.maxDelayMicroseconds > 0 else { break }
            // Never past the oldest item's timeout: it is rejected then, not later.
            let timeout = policy.timeoutMicroseconds > 0 ? policy.timeoutMicroseconds : Int.max
            let deadline = items[head].enqueuedAt + Double(min(policy.maxDelayMicroseconds, timeout)) * 1e-6
            while count < policy.maxBatch && !closed {
                let remaining = deadline - monotonicSeconds()
                if remaining <= 0 { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: remaining))
            }
            // Another consumer may have taken everything while this one waited: start over.
            if count > 0 { break }
        }
        let now = monotonicSeconds()
        if policy.timeoutMicroseconds > 0 {
            // FIFO: the expired items are the oldest, a prefix.
            let limit = Double(policy.timeoutMicroseconds) * 1e-6
            while count > 0, now - items[head].enqueuedAt >= limit {
                expired.append(items[head].element)
                head += 1
                stats.timedOut += 1
            }
            if count == 0 {
                condition.broadcast()
                return []
            }
        }
        let taken = min(count, policy.maxBatch)
        var batch: [Element] = []
        batch.reserveCapacity(taken)
        for index in head..<(head + taken) {
            batch.append(items[index].element)
            let waited = now - items[index].enqueuedAt
            stats.totalWaitSeconds += waited
            stats.maxWaitSeconds = max(stats.maxWaitSeconds, waited)
        }
        head += taken
        // Compact once the consumed prefix dominates, so the array does not grow without bound.
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        stats.items += taken
        stats.batches += 1
        stats.batchSizes[taken] += 1
        condition.broadcast()
        return batch
    }

    /// The items `popBatch` dropped for their age since the last call.
    func takeExpired() -> [Element] {
        condition.lock()
        defer { condition.unlock() }
        defer { expired = [] }
        return expired
    }

    /// Wakes every waiter; later pushes are refused, pops drain what is left.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    var statistics: QueueStatistics {
        condition.lock()
        defer { condition.unlock() }
        return stats
    }

    var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }
}
