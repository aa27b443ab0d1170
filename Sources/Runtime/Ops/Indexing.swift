import IR

/// slice: a strided window of the input, any dtype. The geometry (start, step, count per axis)
/// is resolved when the plan is built; the step copies rows of the output, whose inner loop
/// is a memcpy when the last axis has step 1.
enum SliceKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), y = n.outShape(0)
        let axes = try ShapeInference.sliceAxes(x.map(Optional.some), n.attributes)
        var inStrides = Array(repeating: 1, count: x.count)
        for axis in stride(from: x.count - 2, through: 0, by: -1) { inStrides[axis] = inStrides[axis + 1] * x[axis + 1] }
        var base = 0
        var strides: [Int] = []
        for (axis, slice) in axes.enumerated() {
            base += (slice?.start ?? 0) * inStrides[axis]
            strides.append((slice?.step ?? 1) * inStrides[axis])
        }
        let elementSize = n.inputTypes[0].dtype.byteSize
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        let dims = y.isEmpty ? [1] : y, steps = y.isEmpty ? [1] : strides
        let inner = dims[dims.count - 1], innerStride = steps[steps.count - 1]
        let rows = dims.dropLast().reduce(1, *)
        guard dims.product > 0 else { return { _ in } }
        return { ctx in
            let source = ctx.raw(xSlot), destination = ctx.raw(ySlot)
            ctx.pool.parallelRanges(count: rows, minChunk: max(1, OpKernels.minElementsPerTask / max(1, inner))) { range in
                for row in range {
                    var rest = row, offset = base
                    for axis in stride(from: dims.count - 2, through: 0, by: -1) {
                        offset += (rest % dims[axis]) * steps[axis]
                        rest /= dims[axis]
                    }
                    let to = destination + row * inner * elementSize
                    if innerStride == 1 {
                        to.copyMemory(from: source + offset * elementSize, byteCount: inner * elementSize)
                    } else {
                        for i in 0..<inner {
                            (to + i * elementSize).copyMemory(from: source + (offset + i * innerStride) * elementSize, byteCount: elementSize)
                        }
                    }
                }
            }
        }
    }
}

/// gather along one axis, any data dtype, i32 or i64 indices read at run time (negative ones
/// count from the end). Each index copies one contiguous block of `inner` elements; an index
/// out of range fails the run naming the node.
enum GatherKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let data = n.inShape(0)
        var axis = n.attributes.int("axis", default: 0)
        if axis < 0 { axis += data.count }
        let outer = data[..<axis].reduce(1, *), extent = data[axis], inner = data[(axis + 1)...].reduce(1, *)
        let indexCount = n.inCount(1)
        let elementSize = n.inputTypes[0].dtype.byteSize
        let block = inner * elementSize
        let wideIndices = n.inputTypes[1].dtype == .i64
        let (xSlot, iSlot, ySlot) = (n.inputs[0], n.inputs[1], n.outputs[0])
        let name = n.name
        return { ctx in
            let source = ctx.raw(xSlot), destination = ctx.raw(ySlot)
            var resolved: [Int] = []
            resolved.reserveCapacity(indexCount)
            for i in 0..<indexCount {
                let raw = wideIndices
                    ? Int(ctx.raw(iSlot).assumingMemoryBound(to: Int64.self)[i])
                    : Int(ctx.raw(iSlot).assumingMemoryBound(to: Int32.self)[i])
                let index = raw < 0 ? raw + extent : raw
                guard (0..<extent).contains(index) else {
                    throw RuntimeError.shape(value: name, "gather index \(raw) is out of range for axis \(axis) of extent \(extent)")
                }
                resolved.append(index)
            }
            for o in 0..<outer {
                for (i, index) in resolved.enumerated() {
                    (destination + (o * indexCount + i) * block).copyMemory(from: source + (o * extent + index) * block, byteCount: block)
                }
            }
        }
    }
}

/// interpolate (ONNX Resize) on f32. nearest works on any axes: per axis a table of source
/// indices, then a row copy. linear and cubic interpolate the last two axes (the leading ones
/// must be left as they are) with per-axis tap tables built when the plan is made: plain
/// linear as two lerps, everything else (cubic, antialiased, cropped) as a weighted sum.
enum InterpolateKernel {
    static func make(_ n: NodeContext) throws -> StepBody {
        let x = n.inShape(0), y = n.outShape(0)
        let settings = try Interpolation(n.attributes, rank: x.count)
        let (xSlot, ySlot) = (n.inputs[0], n.outputs[0])
        guard y.product > 0 else { return { _ in } }
        var inStrides = Array(repeating: 1, count: x.count)
        for axis in stride(from: x.count - 2, through: 0, by: -1) { inStrides[axis] = inStrides[axis + 1] * x[axis + 1] }

        if settings.mode == .nearest {
            // Per axis, the input offset of every output index; the last axis is the inner loop.
            let tables = x.indices.map { axis in
                (0..<y[axis]).map { settings.nearestIndex($0, axis: axis, input: x[axis], output: y[axis]) * inStrides[axis] }
            }
            // tf_crop_and_resize: the output indices that take the extrapolation value.
            let cropping = settings.coordinates == .tfCropAndResize, fill = settings.extrapolationValue
            let outside = x.indices.map { axis in
                (0..<y[axis]).map { settings.isExtrapolated($0, axis: axis, input: x[axis], output: y[axis]) }
            }
            let inner = tables[tables.count - 1], innerOutside = outside[outside.count - 1]
            let rows = y.dropLast().reduce(1, *)
            return { ctx in
                let input = ctx.f32(xSlot), output = ctx.f32(ySlot)
                ctx.pool.parallelRanges(count: rows, minChunk: max(1, OpKernels.minElementsPerTask / max(1, inner.count))) { range in
                    for row in range {
                        var rest = row, offset = 0, rowOutside = false
                        for axis in stride(from: y.count - 2, through: 0, by: -1) {
                            offset += tables[axis][rest % y[axis]]
                            rowOutside = rowOutside || outside[axis][rest % y[axis]]
                            rest /= y[axis]
                        }
                        let source = input + offset, destination = output + row * inner.count
                        if rowOutside {
                            destination.update(repeating: fill, count: inner.count)
                        } else if cropping {
                            for (i, o) in inner.enumerated() { destination[i] = innerOutside[i] ? fill : source[o] }
                        } else {
                            for (i, o) in inner.enumerated() { destination[i] = source[o] }
                        }
                    }
                }
            }
        }

        guard x.count >= 2 else { throw n.unsupported("\(settings.mode.rawValue) interpolation needs at least 2 axes, found \(x)") }
        let (hAxis, wAxis) = (x.count - 2, x.count - 1)
        for axis in 0..<hAxis where !settings.isIdentity(axis: axis, input: x[axis], output: y[axis]) {
            throw n.unsupported("\(settings.mode.rawValue) interpolation resizes only the last two axes; axis \(axis) goes \(x[axis]) → \(y[axis])")
        }
        if settings.mode == .cubic || settings.antialias || settings.coordinates == .tfCropAndResize {
            return weighted(settings, x: x, y: y, xSlot: xSlot, ySlot: ySlot)
        }
        let rowTaps = (0..<y[hAxis]).map { settings.linearTaps($0, axis: hAxis, input: x[hAxis], output: y[hAxis]) }
        let columnTaps = (0..<y[wAxis]).map { settings.linearTaps($0, axis: wAxis, input: x[wAxis], output: y[wAxis]) }
        let planes = x.dropLast(2).reduce(1, *)
        let (inH, inW, outH, outW) = (x[hAxis], x[wAxis], y[hAxis], y[wAxis])
        return { ctx in
            let input = ctx.f32(xSlot), output = ctx.f32(ySlot)
            ctx.pool.parallelRanges(count: planes * outH, minChunk: max(1, OpKernels.minElementsPerTask / max(1, outW))) { range in
                for line in range {
                    let plane = line / outH, oy = line % outH
                    let (y0, y1, wy) = rowTaps[oy]
                    let top = input + plane * inH * inW + y0 * inW, bottom = input + plane * inH * inW + y1 * inW
                    let destination = output + line * outW
                    for (ox, (x0, x1, wx)) in columnTaps.enumerated() {
                        let upper = top[x0] + (top[x1] - top[x0]) * wx
                        let lower = bottom[x0] + (bottom[x1] - bottom[x0]) * wx
                        destination[ox] = upper + (lower - upper) * wy
                    }
                }
            }
        }
    }
}

extension InterpolateKernel {
    /// The taps of every output index on one axis, flattened: each index has `count` of them
    /// (the same count along an axis), and `outside` marks indices whose output is the
    /// extrapolation value.
    private struct AxisTaps {
        var count = 0
        var indices: [Int] = [], weights: [Float] = [], outside: [Bool] = []

        init(_ settings: Interpolation, axis: Int, input: Int, output: Int) {
            let all = (0..<output).map { settings.taps($0, axis: axis, input: input, output: output) }
            count = all.map(\.indices.count).max() ?? 0
            for taps in all {
                // An outside index has no taps: zero-weight ones keep the layout regular.
                let padding = count - taps.indices.count
                outside.append(taps.outside)
                indices += taps.indices + Array(repeating: 0, count: padding)
                weights += taps.weights + Array(repeating: 0, count: padding)
            }
        }
    }

    /// Per output row `rows.count` source rows, per output column `columns.count` source
    /// columns, and their weighted sum (separable weights, summed row by row, as ONNX's
    /// reference resizes one axis after the other); an output whose row or column is outside
    /// the input (tf_crop_and_resize) is the extrapolation value.
    fileprivate static func weighted(_ settings: Interpolation, x: [Int], y: [Int], xSlot: Int, ySlot: Int) -> StepBody {
        let (hAxis, wAxis) = (x.count - 2, x.count - 1)
        let rows = AxisTaps(settings, axis: hAxis, input: x[hAxis], output: y[hAxis])
        let columns = AxisTaps(settings, axis: wAxis, input: x[wAxis], output: y[wAxis])
        let planes = x.dropLast(2).reduce(1, *)
        let (inH, inW, outH, outW) = (x[hAxis], x[wAxis], y[hAxis], y[wAxis])
        let fill = settings.extrapolationValue
        let work = max(1, outW * rows.count * columns.count)
        return { ctx in
            let input = ctx.f32(xSlot), output = ctx.f32(ySlot)
            ctx.pool.parallelRanges(count: planes * outH, minChunk: max(1, OpKernels.minElementsPerTask / work)) { range in
                for line in range {
                    let plane = input + (line / outH) * inH * inW
                    let oy = line % outH
                    let destination = output + line * outW
                    if rows.outside[oy] {
                        destination.update(repeating: fill, count: outW)
                        continue
                    }
                    for ox in 0..<outW {
                        if columns.outside[ox] {
                            destination[ox] = fill
                            continue
                        }
                        var sum: Float = 0
                        for r in 0..<rows.count {
                            let source = plane + rows.indices[oy * rows.count + r] * inW
                            var across: Float = 0
                            for c in 0..<columns.count {
                                let tap = ox * columns.count + c
                                across += source[columns.indices[tap]] * columns.weights[tap]
                            }
                            sum += across * rows.weights[oy * rows.count + r]
                        }
                        destination[ox] = sum
                    }
                }
            }
        }
    }
}
