import PipelineSpec

/// A lowering failure, pointing at the YAML that caused it: `file:line:column: error: …`.
public struct LoweringError: Error, CustomStringConvertible {
    public let location: SourceLocation
    public let message: String

    public init(at location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): error: \(message)" }
}
