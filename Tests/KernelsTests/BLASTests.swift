import Kernels
import XCTest

final class BLASTests: XCTestCase {
    func testLoadsWithAKnownCore() throws {
        let blas = try BLAS.load()
        XCTAssertFalse(blas.coreName.isEmpty)
        XCTAssertFalse(blas.config.isEmpty)
        if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, CPUInfo.detectedISA == .avx512 {
            // Our detection chose the core type before the library loaded (not Debian's Prescott fallback).
            XCTAssertEqual(blas.coreName.lowercased(), "skylakex")
        }
    }

    func testSgemmMatchesNaiveProductForEveryTransposition() throws {
        let blas = try BLAS.load()
        var random = TestRandom(seed: 3)
        let (m, n, k) = (5, 7, 9)
        for transA in [false, true] {
            for transB in [false, true] {
                // Stored with a leading dimension wider than the rows to exercise lda/ldb/ldc.
                let (aRows, aCols) = transA ? (k, m) : (m, k)
                let (bRows, bCols) = transB ? (n, k) : (k, n)
                let (lda, ldb, ldc) = (aCols + 2, bCols + 1, n + 3)
                let a = random.floats(aRows * lda), b = random.floats(bRows * ldb)
                var c = random.floats(m * ldc)
                var expected = c
                for i in 0..<m {
                    for j in 0..<n {
                        var sum: Float = 0
                        for p in 0..<k {
                            sum += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j])
                        }
                        expected[i * ldc + j] = 0.5 * sum + 2 * c[i * ldc + j]
                    }
                }
                try a.withUnsafeBufferPointer { a in
                    try b.withUnsafeBufferPointer { b in
                        try c.withUnsafeMutableBufferPointer { c in
                            try blas.sgemm(
                                transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b,
                                ldb: ldb, beta: 2, c: c, ldc: ldc)
                        }
                    }
                }
                assertClose(c, expected, relative: 1e-5, absolute: 1e-5, "sgemm transA=\(transA) transB=\(transB)")
            }
        }
    }

    func testSgemmRejectsShortBuffers() throws {
        let blas = try BLAS.load()
        let a = [Float](repeating: 1, count: 5), b = [Float](repeating: 1, count: 6)
        var c = [Float](repeating: 0, count: 6)
        XCTAssertThrowsError(
            try a.withUnsafeBufferPointer { a in
                try b.withUnsafeBufferPointer { b in
                    try c.withUnsafeMutableBufferPointer { c in
                        try blas.sgemm(
                            transA: false, transB: false, m: 2, n: 3, k: 3, alpha: 1, a: a, lda: 3, b: b, ldb: 3,
                            beta: 0, c: c, ldc: 3)
                    }
                }
            }
        ) { error in
            XCTAssertEqual((error as? KernelError)?.message, "a holds 5 elements, needs at least 6")
        }
    }
}
