/// slice and gather on constants, for shape arithmetic (`Shape → Slice`, `Shape → Gather`).
extension ConstantEvaluator {
    static func sliced(_ x: Tensor, attributes a: Attributes, resultShape: [Int]) -> Tensor? {
        guard let axes = try? ShapeInference.sliceAxes(x.shape.map(Optional.some), a) else { return nil }
        let strides = rowMajorStrides(x.shape)
        var base = 0
        var steps: [Int] = []
        for (axis, slice) in axes.enumerated() {
            base += (slice?.start ?? 0) * strides[axis]
            steps.append((slice?.step ?? 1) * strides[axis])
        }
        let indices = stridedWalk(shape: resultShape, strides: steps).map { $0 + base }
        return Tensor(shape: resultShape, data: x.data.gathered(indices))
    }

    /// nil when an index is out of range, so the run-time step reports it.
    static func gathered(_ data: Tensor, indices: Tensor, axis rawAxis: Int, resultShape: [Int]) -> Tensor? {
        let axis = rawAxis < 0 ? rawAxis + data.shape.count : rawAxis
        guard data.shape.indices.contains(axis), indices.dtype == .i64 || indices.dtype == .i32 else { return nil }
        let extent = data.shape[axis]
        let outer = data.shape[..<axis].reduce(1, *), inner = data.shape[(axis + 1)...].reduce(1, *)
        var positions: [Int] = []
        for raw in indices.integers {
            let index = raw < 0 ? raw + extent : raw
            guard (0..<extent).contains(index) else { return nil }
            positions.append(index)
        }
        var elements: [Int] = []
        elements.reserveCapacity(outer * positions.count * inner)
        for o in 0..<outer {
            for index in positions { elements.append(contentsOf: ((o * extent + index) * inner)..<((o * extent + index + 1) * inner)) }
        }
        guard elements.count == resultShape.reduce(1, *) else { return nil }
        return Tensor(shape: resultShape, data: data.data.gathered(elements))
    }
}
