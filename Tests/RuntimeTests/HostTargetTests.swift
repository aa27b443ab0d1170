import IR
import Kernels
import Runtime
import XCTest

/// `Target.host`: what the passes are told about this machine follows from what was found
/// and measured, never from the vendor.
final class HostTargetTests: XCTestCase {
    func testBF16IsUsedOnlyWhereTheMeasuredConvolutionIsFaster() throws {
        guard let dnnl = DNNL.available else {
            XCTAssertEqual(Target.host, .native)
            throw XCTSkip("oneDNN is not available here")
        }
        XCTAssertTrue(Target.host.backends.contains(.dnnl))
        guard dnnl.hasBF16 else {
            XCTAssertNil(DNNL.bf16Speedup, "no native bf16: nothing to measure")
            XCTAssertFalse(Target.host.bf16)
            throw XCTSkip("this CPU has no native bf16 (\(dnnl.isa))")
        }
        let speedup = try XCTUnwrap(DNNL.bf16Speedup, "the probe's primitives build wherever bf16 is native")
        // Both primitives ran: a real ratio, within what any CPU gives (bf16 halves the work at most twice over).
        XCTAssertTrue((0.1...8).contains(speedup), "\(speedup)")
        XCTAssertEqual(Target.host.bf16, speedup >= Target.bf16MinimumSpeedup, "measured \(speedup)")
    }
}
