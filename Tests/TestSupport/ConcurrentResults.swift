import Foundation

/// Results written by concurrent requests, each to its own slot, read after they all finish.
public final class ConcurrentResults<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, any Error>?]

    public init(count: Int) { slots = Array(repeating: nil, count: count) }

    public func set(_ index: Int, _ result: Result<Value, any Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    /// The slot's result; nil while nothing was written there.
    public func get(_ index: Int) -> Result<Value, any Error>? {
        lock.lock()
        defer { lock.unlock() }
        return slots[index]
    }
}
