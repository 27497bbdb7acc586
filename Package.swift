// swift-tools-version:6.1
import PackageDescription

// Release builds keep Swift's bounds, overflow and precondition checks (plain -O; never the unchecked mode):
// hostile input must end in an error, never in undefined behaviour. The kernels' inner loops work
// on unsafe pointers and wrapping arithmetic where they are vetted, so the checks cost them little.
let optimised: [SwiftSetting] = [.unsafeFlags(["-O", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "GenLab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "genlab", targets: ["genlab"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Formats", targets: ["Formats"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Physics", targets: ["Physics"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Lab", targets: ["Lab"]),
        .library(name: "Cluster", targets: ["Cluster"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The latent explorer's web server (genlab explore); its optional swift-configuration
        // support is left out (traits: none).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        // TOML run configs (`genlab train --config run.toml`): toml++ behind a Swift API.
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // OpenBLAS is loaded lazily (dlopen) so that OPENBLAS_CORETYPE can be set before its
        // constructor runs; see Sources/CBLAS/blas_loader.c.
        .target(name: "CBLAS", linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        // Plots: PLplot with its cairo drivers (PNG, PDF, SVG with real fonts).
        .systemLibrary(name: "CPLplot", pkgConfig: "plplot", providers: [.apt(["libplplot-dev", "plplot-driver-cairo"])]),
        // libpng, libjpeg and libhdf5 report errors by longjmp/stack: C shims turn them into messages.
        .target(name: "CFormats", dependencies: ["CPNG", "CJPEG", "CHDF5"], linkerSettings: [.linkedLibrary("z")]),
        .target(name: "CParallel", linkerSettings: [.linkedLibrary("pthread")]),
        // Fused kernels: small networks fitted by the hundred (the symmetry detector's decoys) and
        // the Adam update, each compiled for AVX-512, AVX2+FMA and SSE2 and chosen at run time.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-Wno-psabi", "-fno-math-errno"])], linkerSettings: [.linkedLibrary("m")]),
        // Open MPI, loaded at run time (dlopen) so that a single-process genlab needs no MPI; the
        // shim builds against its headers (libopenmpi-dev) and looks up the handle macros' globals.
        .target(name: "CMPI", linkerSettings: [.linkedLibrary("dl")]),
        // oneDNN's convolutions, loaded at run time (dlopen) where libdnnl2 is installed; built
        // against its headers (libdnnl-dev) when they are there, as a stub that declines otherwise.
        .target(name: "CDNNL", linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread")]),
        .target(name: "Cluster", dependencies: ["CMPI"], swiftSettings: optimised),
        .target(name: "Engine", dependencies: ["CBLAS", "CParallel", "CDNNL", "CKernels"], swiftSettings: optimised),
        .target(name: "Formats", dependencies: ["Engine", "CFormats"], swiftSettings: optimised),
        .target(name: "Physics", dependencies: ["Engine"], swiftSettings: optimised),
        .target(name: "Datasets", dependencies: ["Engine", "Formats", "Physics"], swiftSettings: optimised),
        .target(name: "NN", dependencies: ["Engine", "Formats", "CKernels"], swiftSettings: optimised),
        .target(name: "Models", dependencies: ["Engine", "NN"], swiftSettings: optimised),
        .target(name: "Lab", dependencies: ["Engine", "NN", "Formats", "Datasets", "Models", "Physics", "Cluster", "CPLplot", "CKernels"], swiftSettings: optimised),
        // Fuzz targets for every reader; genlab-fuzz drives them (`make fuzz`, or replaying files).
        .target(name: "Fuzzing", dependencies: ["Engine", "Formats", "Datasets", "NN", "Models", "Lab"], swiftSettings: optimised),
        .executableTarget(name: "genlab-fuzz", dependencies: ["Fuzzing"], swiftSettings: optimised),
        // genlab explore: the HTTP side of Lab/Explore (routes, the page, request checks).
        .target(
            name: "ExploreServer",
            dependencies: ["Lab", "Formats", "Engine", .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: optimised),
        .target(name: "Benchmarks", dependencies: ["Engine", "NN", "Models", "Formats", "Physics", "Lab"], swiftSettings: optimised),
        .executableTarget(
            name: "genlab",
            dependencies: ["Engine", "Formats", "Datasets", "NN", "Models", "Physics", "Lab", "Cluster", "Benchmarks", "ExploreServer", .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: optimised),
        .testTarget(name: "EngineTests", dependencies: ["Engine"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "Datasets", "Engine"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FuzzingTests", dependencies: ["Fuzzing", "Formats"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Formats", "Engine"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "Models", "NN", "Formats", "Datasets", "Engine", "Physics", "CKernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Formats", "Engine", "CKernels"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "ExploreServerTests",
            dependencies: [
                "ExploreServer", "Lab", "Models", "NN", "Formats", "Datasets", "Engine",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),
        .testTarget(
            name: "ModelsTests", dependencies: ["Models", "NN", "Engine", "Formats"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PhysicsTests", dependencies: ["Physics", "Engine", "Formats"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
