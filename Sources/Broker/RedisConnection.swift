import CHiredis
import Foundation
import PipelineSpec

/// One reply of a Redis command, as RESP2 gives it.
public indirect enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case status(String)
    case integer(Int)
    case array([RedisReply])
    case null
    case error(String)

    public var text: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    public var bytes: [UInt8]? {
        if case .string(let bytes) = self { return bytes }
        return nil
    }

    public var integer: Int? {
        switch self {
        case .integer(let value): value
        case .string: text.flatMap { Int($0) }
        default: nil
        }
    }

    public var elements: [RedisReply] {
        if case .array(let elements) = self { return elements }
        return []
    }
}

/// Why a broker operation failed: Redis unreachable or gone mid-command (`unavailable`:
/// retry later), or a reply that says the command was wrong (`command`).
public enum BrokerError: Error, CustomStringConvertible, Equatable {
    case unavailable(String)
    case command(String)
    case protocolError(String)

    public var description: String {
        switch self {
        case .unavailable(let message): "broker unavailable: \(message)"
        case .command(let message): "broker command failed: \(message)"
        case .protocolError(let message): "broker: \(message)"
        }
    }
}

/// One connection to a Redis server through hiredis's blocking API. Not thread-safe: each
/// thread that talks to Redis owns one. The connection is made on first use and again after
/// any I/O failure (the context is unusable after one), so a restarted server is picked up
/// by the next command.
public final class RedisConnection {
    public let host: String
    public let port: Int
    /// Connect and per-command socket timeout. A blocking read (XREAD BLOCK) must block for
    /// less than this.
    public let timeoutSeconds: Double
    private var context: UnsafeMutablePointer<redisContext>?

    /// AUTH arguments sent on every new connection: [password] or [user, password].
    private let credentials: [String]

    public init(host: String, port: Int, timeoutSeconds: Double = 5, user: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.timeoutSeconds = timeoutSeconds
        credentials = password.map { (user.map { [$0] } ?? []) + [$0] } ?? []
    }

    public convenience init(_ address: BrokerAddress, timeoutSeconds: Double = 5) {
        self.init(host: address.host, port: address.port, timeoutSeconds: timeoutSeconds, user: address.user, password: address.password)
    }

    deinit { close() }

    public func close() {
        if let context { redisFree(context) }
        context = nil
    }

    private var timeval: timeval {
        let whole = Int(timeoutSeconds)
        return Glibc.timeval(tv_sec: whole, tv_usec: Int((timeoutSeconds - Double(whole)) * 1e6))
    }

    private func connected() throws(BrokerError) -> UnsafeMutablePointer<redisContext> {
        if let context { return context }
        guard let made = redisConnectWithTimeout(host, Int32(port), timeval) else {
            throw .unavailable("redis://\(host):\(port): cannot allocate a connection")
        }
        if made.pointee.err != 0 {
            let reason = String(cString: visionc_redis_error(made))
            redisFree(made)
            throw .unavailable("redis://\(host):\(port): \(reason)")
        }
        redisSetTimeout(made, timeval)
        context = made
        if !credentials.isEmpty, case .error(let message) = try send((["AUTH"] + credentials).map { Array($0.utf8) }) {
            close()
            throw .command("redis://\(host):\(port): AUTH refused: \(message)")
        }
        return made
    }

    /// Sends one command (binary-safe arguments) and returns its reply; a Redis error reply
    /// comes back as `.error`, an I/O failure throws `unavailable` and drops the connection.
    public func send(_ arguments: [[UInt8]]) throws(BrokerError) -> RedisReply {
        let context = try connected()
        // One buffer holds every argument; hiredis copies them into its output buffer.
        let lengths = arguments.map(\.count)
        // Appended whole (a memcpy each): `flatMap` would copy byte by byte.
        var joined: [UInt8] = []
        joined.reserveCapacity(lengths.reduce(0, +))
        for argument in arguments { joined.append(contentsOf: argument) }
        let raw: UnsafeMutableRawPointer? = joined.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self)
            var offsets: [UnsafePointer<CChar>?] = []
            var offset = 0
            for length in lengths {
                offsets.append(base + offset)
                offset += length
            }
            return offsets.withUnsafeMutableBufferPointer { pointers in
                lengths.withUnsafeBufferPointer { sizes in
                    redisCommandArgv(context, Int32(arguments.count), pointers.baseAddress, sizes.baseAddress)
                }
            }
        }
        guard let raw else {
            let reason = String(cString: visionc_redis_error(context))
            close()
            throw .unavailable("redis://\(host):\(port): \(reason.isEmpty ? "connection lost" : reason)")
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.convert(reply.pointee)
    }

    /// `send` with text arguments, throwing on a Redis error reply.
    @discardableResult
    public func call(_ arguments: String...) throws(BrokerError) -> RedisReply {
        try call(arguments.map { Array($0.utf8) })
    }

    /// `send`, throwing on a Redis error reply.
    @discardableResult
    public func call(_ arguments: [[UInt8]]) throws(BrokerError) -> RedisReply {
        let reply = try send(arguments)
        if case .error(let message) = reply {
            throw .command("\(String(decoding: arguments.first ?? [], as: UTF8.self)): \(message)")
        }
        return reply
    }

    private static func convert(_ reply: redisReply) -> RedisReply {
        func bytes() -> [UInt8] {
            guard let str = reply.str else { return [] }
            return [UInt8](UnsafeRawBufferPointer(start: str, count: reply.len))
        }
        switch reply.type {
        case REDIS_REPLY_STRING: return .string(bytes())
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int(reply.integer))
        case REDIS_REPLY_ARRAY:
            guard let elements = reply.element else { return .array([]) }
            return .array((0..<reply.elements).map { index in elements[index].map { convert($0.pointee) } ?? .null })
        default: return .null
        }
    }
}
