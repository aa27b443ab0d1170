import IR

/// What one pass did in a `PassManager` run.
public struct PassReport: Sendable, Equatable {
    public let pass: String
    public let fidelity: Fidelity
    /// False when the pipeline's fidelity is below the pass's, so it did not run.
    public let ran: Bool
    public let statistics: PassStatistics

    /// Whether the pass rewrote anything (every rewrite is counted in its statistics).
    public var changed: Bool { !statistics.isEmpty }
}

/// A pass failed, or left the graph invalid.
public enum PassError: Error, CustomStringConvertible {
    /// The graph given to the pass manager does not verify.
    case invalidInput(underlying: Error)
    /// The IR verifier rejected the graph a pass returned.
    case verificationFailed(pass: String, underlying: Error)

    public var description: String {
        switch self {
        case .invalidInput(let e): "input graph is invalid: \(e)"
        case .verificationFailed(let pass, let e): "after pass '\(pass)': \(e)"
        }
    }
}

/// Runs an ordered list of passes: skips those above the fidelity, verifies after each one
/// when asked (`--verify-each`, always in tests), and reports per-pass statistics.
public struct PassManager {
    public let passes: [any Pass]
    public let fidelity: Fidelity
    public let verifyEach: Bool
    /// Called after every pass that ran, with the graph it returned (`--dump-ir=after-each`).
    public let afterEach: ((any Pass, Graph) -> Void)?

    public init(
        passes: [any Pass], fidelity: Fidelity = .exact, verifyEach: Bool = false,
        afterEach: ((any Pass, Graph) -> Void)? = nil
    ) {
        self.passes = passes
        self.fidelity = fidelity
        self.verifyEach = verifyEach
        self.afterEach = afterEach
    }

    public func run(_ graph: Graph) throws -> (Graph, [PassReport]) {
        if verifyEach {
            do { try Verifier.verify(graph) } catch { throw PassError.invalidInput(underlying: error) }
        }
        var current = graph
        var reports: [PassReport] = []
        for pass in passes {
            guard pass.fidelity <= fidelity else {
                reports.append(PassReport(pass: pass.name, fidelity: pass.fidelity, ran: false, statistics: PassStatistics()))
                continue
            }
            var statistics = PassStatistics()
            current = try pass.run(current, statistics: &statistics)
            if verifyEach {
                do { try Verifier.verify(current) } catch { throw PassError.verificationFailed(pass: pass.name, underlying: error) }
            }
            afterEach?(pass, current)
            reports.append(PassReport(pass: pass.name, fidelity: pass.fidelity, ran: true, statistics: statistics))
        }
        return (current, reports)
    }
}
