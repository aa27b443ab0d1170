import CKernels
import IR

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// softmax along one axis (ONNX ≥ 13 semantics; default the last). The last axis runs the SIMD
/// kernel row by row; other axes a strided scalar loop.
enum SoftmaxKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0)
        var axis = n.attributes.int("axis", default: -1)
        if axis < 0 { axis += x.count }
        guard x.indices.contains(axis) else { throw n.unsupported("axis \(axis) for rank \(x.count)") }
        let length = x[axis], outer = x[..<axis].reduce(1, *), inner = x[(axis + 1)...].reduce(1, *)
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        let perTask = max(1, OpKernels.minElementsPerTask / max(1, length))
        if inner == 1 {
            return { ctx in
                let input = ctx.f32(xSlot), output = ctx.f32(ySlot)
                ctx.pool.parallelRanges(count: outer, minChunk: perTask) { rows in
                    vc_f32_softmax(input, output, length, rows.lowerBound, rows.upperBound)
                }
            }
        }
        return { ctx in
            let input = ctx.f32(xSlot), output = ctx.f32(ySlot)
            ctx.pool.parallelRanges(count: outer * inner, minChunk: perTask) { lines in
                for line in lines {
                    let base = (line / inner) * length * inner + line % inner
                    var largest = -Float.infinity
                    for i in 0..<length { largest = max(largest, input[base + i * inner]) }
                    var total: Float = 0
                    for i in 0..<length {
                        let e = expf(input[base + i * inner] - largest)
                        output[base + i * inner] = e
                        total += e
                    }
                    for i in 0..<length { output[base + i * inner] /= total }
                }
            }
        }
    }
}

/// topk along one axis: the k largest (or, with `largest=0`, smallest) values and their
/// indices, sorted best first, ties broken by the lower index; NaN ranks above every number.
/// Each slice keeps a k-entry heap of indices in scratch memory, so a run allocates nothing.
enum TopKKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0)
        var axis = n.attributes.int("axis", default: -1)
        if axis < 0 { axis += x.count }
        let k = n.outShape(0)[axis]
        let length = x[axis], outer = x[..<axis].reduce(1, *), inner = x[(axis + 1)...].reduce(1, *)
        let largest = n.attributes.int("largest", default: 1) != 0
        let slices = outer * inner
        let heapSlot = n.scratch(bytes: slices * k * 4)
        let (xSlot, valuesSlot, indicesSlot) = (n.inputs[0], n.outputs[0], n.outputs[1])
        return { ctx in
            let input = ctx.f32(xSlot), values = ctx.f32(valuesSlot)
            let indices = ctx.raw(indicesSlot).assumingMemoryBound(to: Int64.self)
            let heaps = ctx.raw(heapSlot).assumingMemoryBound(to: Int32.self)
            ctx.pool.parallelRanges(count: slices, minChunk: max(1, OpKernels.minElementsPerTask / max(1, length))) { range in
                for slice in range {
                    let inBase = (slice / inner) * length * inner + slice % inner
                    let outBase = (slice / inner) * k * inner + slice % inner
                    // `better(i, j)`: element i ranks before element j.
                    let better = { (i: Int32, j: Int32) -> Bool in
                        let a = input[inBase + Int(i) * inner], b = input[inBase + Int(j) * inner]
                        if a.isNaN || b.isNaN { return a.isNaN && (!b.isNaN || i < j) }
                        if a != b { return largest ? a > b : a < b }
                        return i < j
                    }
                    let heap = UnsafeMutableBufferPointer(start: heaps + slice * k, count: k)
                    let count = selectBest(k: k, length: length, heap: heap, better: better)
                    for rank in 0..<count {
                        let index = Int(heap[rank])
                        values[outBase + rank * inner] = input[inBase + index * inner]
                        indices[outBase + rank * inner] = Int64(index)
                    }
                }
            }
        }
    }

    /// Leaves the best min(k, length) indices of 0..<length in heap[0..<k], best first.
    /// The heap keeps its worst entry at the root so a better candidate replaces it in O(log k).
    static func selectBest(k: Int, length: Int, heap: UnsafeMutableBufferPointer<Int32>, better: (Int32, Int32) -> Bool) -> Int {
        var size = 0
        func siftDown(_ start: Int, _ size: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1, right = left + 1
                var worst = parent
                if left < size, better(heap[worst], heap[left]) { worst = left }
                if right < size, better(heap[worst], heap[right]) { worst = right }
                if worst == parent { return }
                heap.swapAt(parent, worst)
                parent = worst
            }
        }
        for candidate in 0..<Int32(length) {
            if size < k {
                heap[size] = candidate
                var child = size
                size += 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard better(heap[parent], heap[child]) else { break }
                    heap.swapAt(parent, child)
                    child = parent
                }
            } else if better(candidate, heap[0]) {
                heap[0] = candidate
                siftDown(0, size)
            }
        }
        // Pop the worst to the back until the heap is empty: the array ends up best first.
        for end in stride(from: size - 1, to: 0, by: -1) {
            heap.swapAt(0, end)
            siftDown(0, end)
        }
        return size
    }
}
