import IR
import PipelineSpec

extension BrokerAddress {
    /// The stream of a broker edge from its queue's attributes, on `server` when one is given
    /// for every edge (`--redis`); nil for a queue without `broker`.
    public init?(queue: Attributes, server: BrokerAddress?) {
        guard let url = queue.string("broker"), let named = BrokerAddress(url: url) else { return nil }
        self = server.map(named.on) ?? named
    }
}
