import Foundation
import IR
import Kernels
import Runtime

/// What a measurement ran on, printed and written by `bench` so a figure names its machine.
public struct MachineInfo: Sendable, Codable, Equatable {
    public var cpu: String
    public var cores: Int
    /// Kernel threads per runner when the user fixed them (`--threads`); nil: chosen per load.
    public var threads: Int?
    /// ISA of the visionc C kernels picked at start-up (scalar, avx2, avx512).
    public var kernelISA: String
    /// The OpenBLAS kernel family in use, e.g. "OpenBLAS SkylakeX".
    public var blasCore: String
    /// OpenBLAS's own build string (version, threading).
    public var blasConfig: String
    /// oneDNN's version and the ISA it dispatches, e.g. "oneDNN 2.6.3 avx512_core_bf16", or why not.
    public var dnnl: String
    public var os: String
    public var linuxKernel: String

    enum CodingKeys: String, CodingKey {
        case cpu, cores, threads, os
        case kernelISA = "kernel_isa"
        case blasCore = "blas_core"
        case blasConfig = "blas_config"
        case dnnl
        case linuxKernel = "linux_kernel"
    }

    public static func current(threads: Int?) -> MachineInfo {
        let blas = try? BLAS.load()
        var system = utsname()
        uname(&system)
        let release = withUnsafeBytes(of: system.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return MachineInfo(
            cpu: CPUInfo.model, cores: ProcessInfo.processInfo.activeProcessorCount, threads: threads,
            kernelISA: KernelISA.active.name, blasCore: "OpenBLAS \(blas?.coreName ?? "unavailable")",
            blasConfig: blas?.config ?? "unavailable", dnnl: dnnlSummary(), os: osName(), linuxKernel: release)
    }

    private static func dnnlSummary() -> String {
        do {
            let dnnl = try DNNL.load()
            let bf16 = DNNL.bf16Speedup.map {
                " (bf16 conv \(String(format: "%.2f", $0))× f32: \(Target.host.bf16 ? "used at fast" : "not used"))"
            } ?? ""
            return "oneDNN \(dnnl.version) \(dnnl.isa)\(bf16)"
        } catch {
            return "oneDNN unavailable"
        }
    }

    /// PRETTY_NAME from /etc/os-release, else the generic OS description.
    private static func osName() -> String {
        if let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") }) {
            return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return ProcessInfo.processInfo.operatingSystemVersionString
    }

    public var summary: String {
        let threadText = threads.map { "\($0) threads per runner" } ?? "threads: cores / workers"
        return "\(cpu) · \(cores) cores · \(threadText) · kernels \(kernelISA) · \(blasCore) · \(dnnl) · \(os)"
    }
}
