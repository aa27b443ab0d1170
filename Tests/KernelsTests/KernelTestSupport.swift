import Kernels
import XCTest

/// Deterministic pseudo-random numbers (SplitMix64), so failures reproduce.
struct TestRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    mutating func float(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24) }
    mutating func floats(_ count: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] { (0..<count).map { _ in float(lo, hi) } }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// Runs `compute` once per ISA this CPU supports (scalar first) and returns each result; the
/// best ISA is selected again afterwards.
func resultsPerISA<T>(_ compute: () throws -> T) rethrows -> [(isa: KernelISA, value: T)] {
    defer { KernelISA.select(maximum: CPUInfo.detectedISA) }
    var results: [(isa: KernelISA, value: T)] = []
    for isa in CPUInfo.supportedISAs {
        XCTAssertEqual(KernelISA.select(maximum: isa), isa)
        results.append((isa, try compute()))
    }
    return results
}

/// Asserts every ISA's result equals the scalar reference exactly.
func assertVariantsEqual<T: Equatable>(
    _ label: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line, _ compute: () throws -> [T]
) rethrows {
    let results = try resultsPerISA(compute)
    for (isa, value) in results.dropFirst() where value != results[0].value {
        let mismatch = zip(value, results[0].value).enumerated().first { $0.element.0 != $0.element.1 }
        XCTFail("\(label()): \(isa) differs from scalar at \(String(describing: mismatch))", file: file, line: line)
    }
}

/// Asserts every ISA's result is within `relative` (plus `absolute`) of the scalar reference.
func assertVariantsClose(
    _ label: @autoclosure () -> String, relative: Float = 1e-6, absolute: Float = 1e-30,
    file: StaticString = #filePath, line: UInt = #line, _ compute: () throws -> [Float]
) rethrows {
    let results = try resultsPerISA(compute)
    for (isa, value) in results.dropFirst() {
        XCTAssertEqual(value.count, results[0].value.count, file: file, line: line)
        for (i, (got, want)) in zip(value, results[0].value).enumerated()
        where !(abs(got - want) <= absolute + relative * abs(want)) && !(got.isNaN && want.isNaN) {
            XCTFail("\(label()): \(isa) element \(i) = \(got), scalar \(want)", file: file, line: line)
            return
        }
    }
}

func assertClose(
    _ got: [Float], _ want: [Float], relative: Float, absolute: Float, _ label: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(got.count, want.count, label, file: file, line: line)
    for (i, (g, w)) in zip(got, want).enumerated() where !(abs(g - w) <= absolute + relative * abs(w)) {
        XCTFail("\(label): element \(i) = \(g), expected \(w)", file: file, line: line)
        return
    }
}

/// Vector widths 8 (AVX2) and 16 (AVX-512): sizes below, at and past each, plus odd ones.
let tileEdgeSizes = [1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100]
