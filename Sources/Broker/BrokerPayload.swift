import Foundation
import IR
import Runtime

/// What travels through Redis for one request, encoded without any library of our own making:
/// tensors as NumPy `.npy` bytes (so `redis-cli` users can read them with numpy), the rest as
/// UTF-8 text.
enum BrokerPayload {
    static let valuePrefix = "v:"

    /// What the stages behind the edge at `index` are, as both sides compiled them (names,
    /// kinds, what each reads and writes): a front end and a worker that disagree — a graph
    /// edited on one host, other compile flags — would exchange values under names the other
    /// does not know, so the worker refuses the entry with a clear error instead.
    static func fingerprint(of partition: StagePartition, from index: Int) -> String {
        String(fnv1a64((partition.carried(into: index) + partition.summary[index...]).joined(separator: "\n").utf8), radix: 16)
    }

    /// A stream entry's fields for the carried values: `v:<name>` → `.npy` bytes.
    static func fields(_ values: [String: Tensor]) -> [[UInt8]] {
        values.sorted { $0.key < $1.key }.flatMap { name, tensor in [Array((valuePrefix + name).utf8), NumPyFormat.encode(tensor)] }
    }

    /// Field name → bytes of a stream entry's flat field/value list.
    static func pairs(_ flat: [RedisReply]) -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].text { result[name] = flat[index + 1].bytes ?? [] }
            index += 2
        }
        return result
    }

    /// The tensors among an entry's or answer's fields.
    static func values(_ fields: [String: [UInt8]]) throws -> [String: Tensor] {
        var values: [String: Tensor] = [:]
        for (field, bytes) in fields where field.hasPrefix(valuePrefix) {
            let name = String(field.dropFirst(valuePrefix.count))
            do {
                values[name] = try NumPyFormat.decode(bytes)
            } catch {
                throw BrokerError.protocolError("value '\(name)' is not a readable .npy: \(error)")
            }
        }
        return values
    }

    /// How a request ended, as stored under its result key.
    enum Status: String {
        case ok
        /// The request's own data failed (a corrupt image): the front end answers 400.
        case input
        /// The stages failed for another reason.
        case error
        /// Delivered `max_deliveries` times without an answer (its workers died): dead-lettered.
        case dead
    }

    /// An answer: named byte fields, each as a 4-byte name length, the name, an 8-byte value
    /// length and the value (little-endian), so one Redis string holds it.
    static func answer(status: Status, message: String = "", result: RemoteResult? = nil) -> [UInt8] {
        var fields: [(String, [UInt8])] = [("status", Array(status.rawValue.utf8)), ("message", Array(message.utf8))]
        if let result {
            let timings = result.timings.map { "\($0.name)\t\($0.op.rawValue)\t\($0.category.rawValue)\t\($0.seconds)" }.joined(separator: "\n")
            fields.append(("timings", Array(timings.utf8)))
            for (name, tensor) in result.values.sorted(by: { $0.key < $1.key }) { fields.append((valuePrefix + name, NumPyFormat.encode(tensor))) }
        }
        var bytes: [UInt8] = []
        for (name, value) in fields {
            append(UInt32(name.utf8.count), to: &bytes)
            bytes += name.utf8
            append(UInt64(value.count), to: &bytes)
            bytes += value
        }
        return bytes
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    /// The fields of an answer; throws on a malformed one.
    static func answerFields(_ bytes: [UInt8]) throws -> [String: [UInt8]] {
        var fields: [String: [UInt8]] = [:]
        var offset = 0
        func read(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, count <= bytes.count - offset else { throw BrokerError.protocolError("a stored answer is truncated") }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }
        func integer(_ size: Int) throws -> Int {
            let raw = try read(size)
            let value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard value <= UInt64(Int.max) else { throw BrokerError.protocolError("a stored answer has a length past any buffer") }
            return Int(value)
        }
        while offset < bytes.count {
            let name = String(decoding: try read(try integer(4)), as: UTF8.self)
            fields[name] = Array(try read(try integer(8)))
        }
        return fields
    }

    /// A stored answer as what `RemoteSegment.run` returns, or the error it carries.
    static func decodeAnswer(_ bytes: [UInt8], stage: String) throws -> RemoteResult {
        let fields = try answerFields(bytes)
        let status = fields["status"].flatMap { Status(rawValue: String(decoding: $0, as: UTF8.self)) }
        let message = fields["message"].map { String(decoding: $0, as: UTF8.self) } ?? ""
        switch status {
        case .ok?:
            let timings = String(decoding: fields["timings"] ?? [], as: UTF8.self).split(separator: "\n").compactMap { line -> NodeTiming? in
                let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
                guard parts.count == 4, let op = Op(rawValue: String(parts[1])), let category = StageCategory(rawValue: String(parts[2])),
                      let seconds = Double(parts[3]) else { return nil }
                return NodeTiming(name: String(parts[0]), op: op, category: category, seconds: seconds)
            }
            return RemoteResult(values: try values(fields), timings: timings)
        case .input?: throw RemoteStageError(stage: stage, message: message, inputFault: true)
        case .error?, .dead?: throw RemoteStageError(stage: stage, message: message, inputFault: false)
        case nil: throw BrokerError.protocolError("a stored answer has no status")
        }
    }
}
