/// Deterministic pseudo-random values (xorshift32), so failures reproduce.
public struct Noise {
    private var state: UInt32

    public init(seed: UInt32) { state = seed == 0 ? 0x9E37_79B9 : seed }

    public mutating func next() -> UInt32 {
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return state
    }

    /// Uniform in [-1, 1).
    public mutating func floats(_ count: Int) -> [Float] {
        (0..<count).map { _ in Float(next() % 2_000_000) / 1_000_000 - 1 }
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    public static func floats(_ count: Int, seed: UInt32) -> [Float] {
        var noise = Noise(seed: seed)
        return noise.floats(count)
    }

    public static func bytes(_ count: Int, seed: UInt32) -> [UInt8] {
        var noise = Noise(seed: seed)
        return noise.bytes(count)
    }
}
