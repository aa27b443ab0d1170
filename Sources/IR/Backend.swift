/// A way the runtime can execute a set of ops. A node's backend is its `backend` attribute,
/// set by the `place-backends` pass; a node without one runs on `native`.
public enum Backend: String, Sendable, Hashable, CaseIterable {
    /// The project's own C kernels and OpenBLAS: every op, the reference (what `-O0` runs).
    case native
    /// oneDNN (`Sources/CDNNL`): 2-D convolutions with fused post-ops, and poolings.
    case dnnl
}

extension Node {
    /// The backend the node runs on (`native` unless placed elsewhere).
    public var backend: Backend { attributes.string("backend").flatMap(Backend.init(rawValue:)) ?? .native }
}
