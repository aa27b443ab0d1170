/// Where a broker edge's stream lives: `redis://host:port/stream` (port defaults to 6379).
///
/// The stream name also prefixes the edge's other keys (results, dead letters, statistics),
/// written with it in braces so a Redis Cluster keeps them in one slot.
public struct BrokerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var stream: String
    /// Redis AUTH: a password, and an ACL user name when given (`redis://user:password@host`,
    /// percent-encoded; `redis://:password@host` for the default user).
    public var user: String?
    public var password: String?

    public init(host: String, port: Int, stream: String, user: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.stream = stream
        self.user = user
        self.password = password
    }

    public static let expected = "a Redis stream URL like redis://127.0.0.1:6379/classify (optional user:password@, host, optional port 1…65535, a stream name of letters, digits and _ . : -)"

    /// Parses `redis://[[user]:password@]host[:port]/stream`; nil when the text is not one.
    public init?(url: String) {
        let scheme = "redis://"
        guard url.hasPrefix(scheme) else { return nil }
        let rest = url.dropFirst(scheme.count)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        var authority = rest[..<slash]
        let stream = rest[rest.index(after: slash)...]
        var user: String?, password: String?
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            guard let colon = credentials.firstIndex(of: ":"),
                  let name = credentials[..<colon].removingPercentEncoding,
                  let secret = credentials[credentials.index(after: colon)...].removingPercentEncoding, !secret.isEmpty else { return nil }
            (user, password) = (name.isEmpty ? nil : name, secret)
        }
        var host = Substring(authority), port = 6379
        if let colon = authority.lastIndex(of: ":") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else { return nil }
            host = authority[..<colon]
            port = number
        }
        let streamCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")
        guard !host.isEmpty, !host.contains(where: { $0 == "/" || $0 == "@" || $0.isWhitespace }),
              !stream.isEmpty, stream.count <= 200, stream.allSatisfy(streamCharacters.contains) else { return nil }
        self.init(host: String(host), port: port, stream: String(stream), user: user, password: password)
    }

    public static let expectedServer = "a Redis server URL like redis://127.0.0.1:6379"

    /// Parses a server alone, `redis://host[:port]` (a stream path, if any, is ignored): what
    /// `--redis` takes to move every edge to another server.
    public init?(server url: String) {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard let parsed = BrokerAddress(url: trimmed.dropFirst("redis://".count).contains("/") ? trimmed : trimmed + "/_") else { return nil }
        self = parsed
    }

    /// The same stream on another server (`visionc worker --redis`, `serve --redis`).
    public func on(server: BrokerAddress) -> BrokerAddress {
        BrokerAddress(host: server.host, port: server.port, stream: stream, user: server.user, password: server.password)
    }

    /// The URL with the password masked (it goes into logs, metrics labels and errors).
    public var description: String {
        let credentials = password == nil ? "" : "\(user ?? ""):***@"
        return "redis://\(credentials)\(host):\(port)/\(stream)"
    }
}
