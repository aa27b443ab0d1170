/// The values one request (or one fan-out child of it) carries between stages, by name.
///
/// A stage reads the values its `inputs` name and adds its result under its own name, so a
/// later stage can take several named inputs (the crop stage reads the image and the boxes).
/// Values are immutable Swift values; copying a record shares their storage.
public struct Record: Sendable {
    public private(set) var values: [String: any Sendable]

    public init(_ values: [String: any Sendable] = [:]) { self.values = values }

    public subscript(name: String) -> (any Sendable)? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// The value `name` as a `T`, or an error naming what was there instead.
    public func value<T>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let stored = values[name] else {
            throw PipelineError.missingValue(name, available: values.keys.sorted())
        }
        guard let typed = stored as? T else {
            throw PipelineError.wrongValueType(name, expected: "\(T.self)", found: "\(Swift.type(of: stored))")
        }
        return typed
    }
}

/// Errors of building or running a staged pipeline.
public enum PipelineError: Error, CustomStringConvertible, Equatable {
    case invalidStages(String)
    case missingValue(String, available: [String])
    case wrongValueType(String, expected: String, found: String)
    case wrongResultCount(stage: String, expected: Int, produced: Int)
    case shutDown

    public var description: String {
        switch self {
        case .invalidStages(let why): "invalid pipeline: \(why)"
        case .missingValue(let name, let available):
            "no value '\(name)' in the record; it holds \(available.joined(separator: ", "))"
        case .wrongValueType(let name, let expected, let found):
            "value '\(name)' is a \(found); expected \(expected)"
        case .wrongResultCount(let stage, let expected, let produced):
            "stage '\(stage)' returned \(produced) results for a batch of \(expected)"
        case .shutDown: "the pipeline was shut down"
        }
    }
}
