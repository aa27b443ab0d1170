import IR
import Passes
import Runtime

/// A pass pipeline and the target it compiles for, as the agreement tests check them.
public struct CompileConfiguration: Sendable, CustomStringConvertible {
    public let level: OptimizationLevel
    public let target: Target

    public var passes: [any Pass] { OptimizationLevel.passes(for: level, target: target) }

    public var description: String { target.backends.contains(.dnnl) ? "\(level.rawValue)+dnnl" : level.rawValue }

    /// -O0 and -O2 on the native kernels, and -O2 for this machine's backends (oneDNN where it
    /// loads), so every reference checks both the reference backend and the fast one.
    public static var checked: [CompileConfiguration] {
        let native = [CompileConfiguration(level: .O0, target: .native), CompileConfiguration(level: .O2, target: .native)]
        return Target.host == .native ? native : native + [CompileConfiguration(level: .O2, target: .host)]
    }
}
