import Foundation
import Kernels

/// What a measurement ran on, printed by `bench` so a figure names its machine.
public struct MachineInfo: Sendable {
    public var cpu: String
    public var cores: Int
    public var threads: Int
    public var kernelISA: String
    public var blasCore: String

    public static func current(threads: Int?) -> MachineInfo {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let blasCore = (try? BLAS.load()).map(\.coreName) ?? "unavailable"
        return MachineInfo(
            cpu: CPUInfo.model, cores: cores, threads: threads ?? cores, kernelISA: KernelISA.active.name,
            blasCore: "OpenBLAS \(blasCore)")
    }

    public var summary: String {
        "\(cpu) · \(cores) cores · \(threads) threads · kernels \(kernelISA) · \(blasCore)"
    }
}
