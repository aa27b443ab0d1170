/// A postprocessing or image-geometry error, phrased as what was wrong and what was expected.
public struct VisionError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
