// swift-tools-version:6.0
import PackageDescription

// MARK: - Shared settings

/// Hot loops live in the C target `CKernels` (folder `Kernels/`). It is built for the
/// baseline x86-64 ISA; AVX2 / AVX-512 variants are marked per function with
/// `__attribute__((target(...)))` and picked once at start-up, so the binary stays portable.
let kernelCSettings: [CSetting] = [
    .unsafeFlags(["-O3", "-fno-math-errno", "-Wall", "-Wextra", "-Wno-unused-parameter"]),
]

let package = Package(
    name: "visionc",
    products: [
        .executable(name: "visionc", targets: ["visionc"]),
        .library(name: "Driver", targets: ["Driver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // MARK: - System libraries and C kernels
        .systemLibrary(
            name: "CTurboJPEG",
            path: "Sources/CTurboJPEG",
            pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]
        ),
        // hiredis, the C Redis client (Debian libhiredis-dev): broker edges are Redis streams.
        .systemLibrary(
            name: "CHiredis",
            path: "Sources/CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // OpenBLAS is not linked: CKernels loads it with dlopen after choosing
        // OPENBLAS_CORETYPE from our own CPU detection (see shared FINDINGS: the
        // variable is read in the library's constructor, so linking it would be too late).
        // oneDNN, the `dnnl` backend's convolutions and poolings: a C shim over its 2.x C API that
        // loads libdnnl.so.2 with dlopen (Debian's libdnnl-dev provides the headers), so a machine
        // without the library still runs everything on `native`.
        .target(name: "CDNNL", path: "Sources/CDNNL", cSettings: kernelCSettings, linkerSettings: [.linkedLibrary("dl")]),
        .target(
            name: "CKernels",
            path: "Kernels",
            cSettings: kernelCSettings,
            linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("m")]
        ),

        // MARK: - Compiler stages (spec → IR → passes → plan → runtime)
        .target(name: "IR"),
        .target(name: "PipelineSpec", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(
            name: "ONNXImport",
            dependencies: ["IR", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(name: "Frontend", dependencies: ["IR", "PipelineSpec", "ONNXImport"]),
        .target(name: "Passes", dependencies: ["IR"]),
        .target(name: "CPNG", path: "Sources/CPNG", cSettings: kernelCSettings, linkerSettings: [.linkedLibrary("png16")]),
        // libjpeg-turbo's libjpeg API (Debian libjpeg62-turbo-dev), the same library TurboJPEG
        // wraps: scan-pruned and restart-band decodes read a stream from byte ranges and need
        // block smoothing off, which TurboJPEG's API cannot do.
        .target(name: "CJPEG", path: "Sources/CJPEG", cSettings: kernelCSettings, linkerSettings: [.linkedLibrary("jpeg")]),
        .target(name: "Kernels", dependencies: ["CKernels", "CDNNL", "CTurboJPEG", "CPNG", "CJPEG"]),
        .target(name: "Runtime", dependencies: ["IR", "Kernels"]),
        // Broker edges: a queue carried by a Redis stream, its front-end side (a RemoteSegment)
        // and the `visionc worker` loop that consumes it.
        .target(name: "Broker", dependencies: ["IR", "PipelineSpec", "Runtime", "CHiredis"]),
        .target(name: "Driver", dependencies: ["IR", "PipelineSpec", "Frontend", "ONNXImport", "Passes", "Runtime", "Kernels", "Broker"]),
        // `visionc serve`: the Open Inference Protocol over HTTP and gRPC, Prometheus metrics.
        // Sources/Serve/Generated holds the code generated from Proto/open_inference.proto
        // (scripts/generate-grpc-proto), committed; the .proto itself is not compiled.
        .target(
            name: "Serve",
            dependencies: [
                "Driver", "IR", "Runtime", "Broker", "PipelineSpec", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Proto"]
        ),
        .executableTarget(
            name: "visionc",
            dependencies: ["Driver", "IR", "Serve", "Passes", "Runtime", "Broker", "PipelineSpec", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: ["IR", "Passes", "Runtime"], path: "Tests/TestSupport"),
        .testTarget(name: "IRTests", dependencies: ["IR", "TestSupport"]),
        .testTarget(name: "PipelineSpecTests", dependencies: ["PipelineSpec"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CKernels", "TestSupport"]),
        .testTarget(name: "ONNXImportTests", dependencies: ["ONNXImport", "IR", "TestSupport", "Runtime", "Passes"]),
        .testTarget(
            name: "PassesTests",
            dependencies: ["Passes", "IR", "Runtime", "TestSupport"],
            resources: [.copy("Golden")]
        ),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "IR", "Kernels", "TestSupport"]),
        .testTarget(name: "ServeTests", dependencies: ["Serve", "Driver", "Broker", "PipelineSpec", "Runtime", "IR", "TestSupport"]),
        .testTarget(
            name: "DriverTests",
            dependencies: ["Driver", "IR", "Kernels", "ONNXImport", "Passes", "Runtime", "TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
