/// What the machine a graph is compiled for offers the passes that choose how it runs:
/// its backends and what they can do. The driver fills it from the CPU and the libraries
/// it finds at start-up (`Target.host` in Runtime); tests build one by hand, so a pass's
/// choices never depend on the machine the tests run on unless they ask.
public struct Target: Sendable, Hashable {
    /// Backends nodes may be placed on (`native` is always there).
    public var backends: Set<Backend>
    /// Whether the heavy ops' backend runs bf16 natively (AVX512-BF16 or AMX) and faster than
    /// f32 (measured, `Target.host`): the `lower-precision` pass only uses bf16 where it is fast.
    public var bf16: Bool

    public init(backends: Set<Backend>, bf16: Bool = false) {
        self.backends = backends.union([.native])
        self.bf16 = bf16
    }

    /// Only the project's own kernels.
    public static let native = Target(backends: [.native])
}
