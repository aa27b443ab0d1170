import PipelineSpec

/// What one broker edge looks like in Redis now: the figures an autoscaler reads (KEDA's Redis
/// Streams scaler: `streamLength`, `pendingEntriesCount`, `lagCount`) and the workers' counters.
public struct EdgeFigures: Sendable, Equatable, Codable {
    public var edge: String
    /// Entries in the stream: its backlog, since workers delete what they answer.
    public var length: Int
    /// Entries delivered to a worker and not yet answered.
    public var pending: Int
    /// Entries no worker has taken yet (length − pending): what more workers would absorb.
    public var lag: Int { max(0, length - pending) }
    /// Workers in the edge's consumer group (live or not yet cleaned up).
    public var consumers: Int
    /// Counters since the edge was created: answers stored, failed requests, takeovers of a
    /// dead worker's entries, dead-lettered entries.
    public var processed: Int
    public var failed: Int
    public var redelivered: Int
    public var deadLetters: Int

    enum CodingKeys: String, CodingKey {
        case edge, length, pending, consumers, processed, failed, redelivered
        case deadLetters = "dead_letters"
    }

    /// Reads the figures with one connection (five commands).
    public static func read(_ address: BrokerAddress, on connection: RedisConnection) throws -> EdgeFigures {
        let keys = EdgeKeys(address)
        let length = try connection.call("XLEN", keys.stream).integer ?? 0
        var pending = 0, consumers = 0
        // XPENDING and XINFO answer NOGROUP until the first worker made the group.
        if case .array(let summary) = try connection.send([Array("XPENDING".utf8), Array(keys.stream.utf8), Array(EdgeKeys.group.utf8)]) {
            pending = summary.first?.integer ?? 0
        }
        if case .array(let groups) = try connection.send(["XINFO", "GROUPS", keys.stream].map { Array($0.utf8) }) {
            for group in groups {
                let fields = group.elements
                let pairs = stride(from: 0, to: fields.count - 1, by: 2).map { (fields[$0].text ?? "", fields[$0 + 1]) }
                guard pairs.first(where: { $0.0 == "name" })?.1.text == EdgeKeys.group else { continue }
                consumers = pairs.first(where: { $0.0 == "consumers" })?.1.integer ?? 0
            }
        }
        let counters = try connection.call("HGETALL", keys.statistics).elements
        var counts: [String: Int] = [:]
        for index in stride(from: 0, to: counters.count - 1, by: 2) {
            if let name = counters[index].text { counts[name] = counters[index + 1].integer ?? 0 }
        }
        return EdgeFigures(
            edge: address.description, length: length, pending: pending, consumers: consumers, processed: counts["processed"] ?? 0,
            failed: counts["failed"] ?? 0, redelivered: counts["redelivered"] ?? 0, deadLetters: counts["dead_letters"] ?? 0)
    }
}
