import IR

/// Everything one concrete input binding needs, computed once and reused by every request
/// of the same sizes: concrete types, the steps with their kernels' parameters, and where
/// every value lives (arena offset, constant, or nowhere).
final class ExecutionPlan {
    /// Where a slot's bytes are.
    enum Location {
        case arena(offset: Int)
        case fixed(UnsafeMutableRawPointer)
        /// Not materialised: encoded JPEG inputs read straight from the request's tensor.
        case absent
    }

    let steps: [Step]
    let arenaBytes: Int
    /// Concrete type of every value (nil for values never defined).
    let types: [TensorType?]
    /// Slot holding each value's bytes (views share their source's slot).
    let slotOfValue: [Int]
    /// Per slot (values, then scratch).
    let locations: [Location]
    /// Graph inputs copied into the arena before the steps run.
    let inputCopies: [(position: Int, slot: Int)]
    /// Keeps plan-time constants (folded shape arithmetic) alive.
    let ownedBuffers: [AlignedBuffer]

    private var resolved: [UnsafeMutableRawPointer] = []
    private var resolvedBase: UnsafeMutableRawPointer?

    init(
        steps: [Step], arenaBytes: Int, types: [TensorType?], slotOfValue: [Int], locations: [Location],
        inputCopies: [(position: Int, slot: Int)], ownedBuffers: [AlignedBuffer]
    ) {
        self.steps = steps
        self.arenaBytes = arenaBytes
        self.types = types
        self.slotOfValue = slotOfValue
        self.locations = locations
        self.inputCopies = inputCopies
        self.ownedBuffers = ownedBuffers
    }

    /// Address of every slot for an arena at `base`; recomputed only when the arena moved.
    func pointers(arenaBase base: UnsafeMutableRawPointer, absent: UnsafeMutableRawPointer) -> [UnsafeMutableRawPointer] {
        if resolvedBase == base { return resolved }
        resolved = locations.map { location in
            switch location {
            case .arena(let offset): base + offset
            case .fixed(let pointer): pointer
            case .absent: absent
            }
        }
        resolvedBase = base
        return resolved
    }
}

/// The concrete sizes of one request: what selects (and keys) a cached plan.
struct PlanKey: Hashable {
    /// Shape of each graph input (empty for encoded inputs, whose length does not matter).
    var inputShapes: [[Int]]
    /// Output shape [h, w, c] of each decode_jpeg node, by node index, from the JPEG header.
    var decodedShapes: [[Int]]
    /// Values kept alive to the end of the run to be copied out.
    var captured: [ValueID]
}
