import Kernels

/// GEMMs run on the executable's own thread pool: the output is cut into row or column tiles
/// and each tile is one single-threaded OpenBLAS call (the executable sets OpenBLAS to one
/// thread). With OpenBLAS's own threads beside our pool, 2 cores carried 4 busy threads:
/// OpenBLAS's workers keep spinning after each call while our pool runs im2col, the epilogue
/// and every other op, and each GEMM paid their wake-up. Tiles also let the epilogue (bias,
/// activation) run on a tile right after its GEMM, while it is still in cache. Exact up to
/// float rounding: every output element is the same k-long dot product as in one whole-matrix
/// call, though OpenBLAS may run a small tile through its small-matrix kernel, which can sum
/// in another order.
extension RunContext {
    /// Row-major `c = alpha * op(a) * op(b) + beta * c` (op(a) is m x k, op(b) is k x n), then
    /// `epilogue(rows, columns)` on each finished tile of `c`, on the thread that computed it.
    func sgemm(
        _ blas: BLAS, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafeBufferPointer<Float>, lda: Int, b: UnsafeBufferPointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutableBufferPointer<Float>, ldc: Int,
        epilogue: ((_ rows: Range<Int>, _ columns: Range<Int>) throws -> Void)? = nil
    ) throws {
        guard m > 0, n > 0 else { return }
        let tiling = GEMMTiling(m: m, n: n, k: k, threads: pool.threadCount)
        let tiles = tiling.rowTiles * tiling.columnTiles
        if tiles == 1 {
            try blas.sgemm(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                beta: beta, c: c, ldc: ldc)
            try epilogue?(0..<m, 0..<n)
            return
        }
        try pool.parallelRanges(count: tiles) { tileRange in
            for tile in tileRange {
                let rows = tiling.range(tile / tiling.columnTiles, of: m, step: tiling.rowStep)
                let columns = tiling.range(tile % tiling.columnTiles, of: n, step: tiling.columnStep)
                // op(a) rows `rows`: rows of a, or columns of aᵀ; op(b) columns likewise. Each
                // tile's call checks that its rebased operands hold every element it addresses.
                let aOffset = transA ? rows.lowerBound : rows.lowerBound * lda
                let bOffset = transB ? columns.lowerBound * ldb : columns.lowerBound
                let cOffset = rows.lowerBound * ldc + columns.lowerBound
                try blas.sgemm(
                    transA: transA, transB: transB, m: rows.count, n: columns.count, k: k, alpha: alpha,
                    a: UnsafeBufferPointer(rebasing: a[aOffset...]), lda: lda,
                    b: UnsafeBufferPointer(rebasing: b[bOffset...]), ldb: ldb, beta: beta,
                    c: UnsafeMutableBufferPointer(rebasing: c[cOffset...]), ldc: ldc)
                try epilogue?(rows, columns)
            }
        }
    }
}

/// How one GEMM is cut into tiles: up to `tilesPerThread` tiles per thread, along the longer of
/// m and n, so the operand every tile packs in full (A for column tiles, B for row tiles) is
/// the smaller one. Several tiles per thread let the pool balance them: with one tile per
/// thread, a core that the OS gives to another process for a while stalls the whole GEMM.
/// Tiny products stay whole: splitting them costs more in hand-offs than it saves.
struct GEMMTiling {
    /// Below this many multiply-adds a GEMM runs as one call on the calling thread; no tile is smaller.
    static let minMultiplyAddsPerTile = 1 << 18
    /// At most this many tiles per thread.
    static let tilesPerThread = 4
    /// Tile edges are multiples of the SkylakeX/Haswell sgemm micro-tile (16 rows or columns).
    static let edgeMultiple = 16

    let rowTiles: Int, columnTiles: Int
    let rowStep: Int, columnStep: Int

    init(m: Int, n: Int, k: Int, threads: Int) {
        let work = m * n * max(k, 1)
        let multiple = Self.edgeMultiple
        // No more tiles than the longer side has edge multiples, so that side can always be cut.
        let wanted = threads > 1
            ? max(1, min(threads * Self.tilesPerThread, work / Self.minMultiplyAddsPerTile, max(m, n) / multiple)) : 1
        let columnsSplit = n >= wanted * multiple, rowsSplit = m >= wanted * multiple
        // Column tiles each pack all of A (m x k), row tiles all of B (k x n): repeat the smaller.
        if wanted > 1, columnsSplit, !rowsSplit || n >= m {
            columnStep = ((n + wanted - 1) / wanted + multiple - 1) / multiple * multiple
            rowStep = m
        } else if wanted > 1, rowsSplit {
            rowStep = ((m + wanted - 1) / wanted + multiple - 1) / multiple * multiple
            columnStep = n
        } else {
            rowStep = m
            columnStep = n
        }
        rowTiles = (m + rowStep - 1) / rowStep
        columnTiles = (n + columnStep - 1) / columnStep
    }

    /// The `index`-th span of `step` within `0..<extent`.
    func range(_ index: Int, of extent: Int, step: Int) -> Range<Int> {
        (index * step)..<min(extent, (index + 1) * step)
    }
}
