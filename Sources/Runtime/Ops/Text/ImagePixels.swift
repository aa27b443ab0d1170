/// Pixels of one HWC u8 image, for the ops that work on whole images between plans
/// (perspective crops, rotations) and the staged cascades' stage values.
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public let pixels: [UInt8]

    /// - Throws: `RuntimeError.shape` when the pixel count does not match the size.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0, channels > 0, pixels.count == width * height * channels else {
            throw RuntimeError.shape(
                value: "image", "an image of \(width)×\(height)×\(channels) needs \(max(0, width * height * channels)) bytes, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// For pixels built here to the given size (the throwing init checks caller-supplied ones).
    public init(sized width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        assert(pixels.count == width * height * channels)
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}
