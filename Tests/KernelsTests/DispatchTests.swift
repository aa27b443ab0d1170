import CKernels
import Foundation
import Kernels
import XCTest

final class DispatchTests: XCTestCase {
    func testDetectedISAIsSelectableAndNamed() {
        let detected = CPUInfo.detectedISA
        XCTAssertEqual(KernelISA.select(maximum: .avx512), detected)
        XCTAssertEqual(KernelISA.active, detected)
        XCTAssertEqual(KernelISA.allCases.map(\.name), ["scalar", "avx2", "avx512"])
        XCTAssertEqual(KernelISA(name: "avx2"), .avx2)
        XCTAssertNil(KernelISA(name: "sse"))
        XCTAssertEqual(String(cString: vc_isa_name(vc_isa(rawValue: 7))), "unknown")
    }

    func testForcingLowerISAsCascades() {
        defer { KernelISA.select(maximum: CPUInfo.detectedISA) }
        XCTAssertEqual(KernelISA.select(maximum: .scalar), .scalar)
        XCTAssertEqual(KernelISA.active, .scalar)
        // Never above what the CPU has, whatever is asked.
        XCTAssertEqual(KernelISA.select(maximum: .avx512), CPUInfo.detectedISA)
        XCTAssertEqual(CPUInfo.supportedISAs.first, .scalar)
        XCTAssertEqual(CPUInfo.supportedISAs.last, CPUInfo.detectedISA)
    }

    func testCPUModelIsReported() {
        let model = CPUInfo.model
        XCTAssertFalse(model.isEmpty)
        XCTAssertEqual(model, model.trimmingCharacters(in: .whitespaces))
    }
}
