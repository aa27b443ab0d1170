import PipelineSpec

/// The Redis keys of one broker edge. The stream is the key the YAML names (what an autoscaler
/// watches); every other key puts the stream's name in braces, so a Redis Cluster keeps them
/// all in the stream's slot and the scripts may touch them together.
public struct EdgeKeys: Sendable, Equatable {
    public let stream: String
    /// The consumer group every worker of the edge reads through.
    public static let group = "visionc-workers"

    public init(_ address: BrokerAddress) { stream = address.stream }

    /// Entries delivered `max_deliveries` times without an answer, for an operator to inspect.
    public var deadLetters: String { "{\(stream)}:dead" }
    /// Counters the workers keep: processed, failed, redelivered, dead-lettered.
    public var statistics: String { "{\(stream)}:stats" }
    /// The answer for one request id (kept `resultTTL` seconds).
    public func result(_ request: String) -> String { "{\(stream)}:result:\(request)" }
    /// Set when a request id is first published, so a second submission does not run it again.
    public func admitted(_ request: String) -> String { "{\(stream)}:request:\(request)" }
    /// Where workers tell one front end that a result is stored.
    public func replies(_ frontEnd: String) -> String { "{\(stream)}:replies:\(frontEnd)" }

    /// How long answers and admission marks live: long enough for any retry of a request.
    public static let resultTTLSeconds = 3600
}

/// The Lua scripts that make each broker step atomic on the server.
enum EdgeScripts {
    /// Publishes a request unless it was answered (returns {2, result}) or admitted before
    /// ({3}: in flight from another front end), or the stream holds `capacity` entries ({0}:
    /// full, answer 503). {1}: published.
    /// KEYS: stream, result key, admitted key. ARGV: capacity, ttl, request id, reply stream,
    /// then field/value pairs of the carried values.
    static let publish = """
        local answered = redis.call('GET', KEYS[2])
        if answered then return {2, answered} end
        if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return {0} end
        if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[2]) then return {3} end
        local fields = {'request', ARGV[3], 'reply', ARGV[4]}
        for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
        redis.call('XADD', KEYS[1], '*', unpack(fields))
        return {1}
        """

    /// Stores a request's answer once (the first of several deliveries wins), tells its front
    /// end, and acknowledges and deletes the entry — so an answer stored means the entry is
    /// done, and the stream's length is its backlog. Returns 1 when this call stored it.
    /// KEYS: stream, result key, reply stream, statistics. ARGV: group, entry id, ttl, result,
    /// request id, counter to increment.
    static let answer = """
        local stored = redis.call('SET', KEYS[2], ARGV[4], 'NX', 'EX', ARGV[3])
        if stored then
          redis.call('XADD', KEYS[3], 'MAXLEN', '~', '10000', '*', 'request', ARGV[5])
          redis.call('EXPIRE', KEYS[3], ARGV[3])
          redis.call('HINCRBY', KEYS[4], ARGV[6], 1)
        end
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        redis.call('XDEL', KEYS[1], ARGV[2])
        if stored then return 1 else return 0 end
        """
}
