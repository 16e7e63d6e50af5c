// swift-tools-version:5.9
import PackageDescription

// Release builds add `-Ounchecked` and a target CPU through the Makefile (SWIFTFLAGS), not here,
// so that debug test builds stay portable and fast to compile.
let package = Package(
    name: "Logbook",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "logbook", targets: ["logbook"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "Recognition", targets: ["Recognition"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C libraries from Debian, found through pkg-config.
        .systemLibrary(name: "COpenBLAS", path: "Sources/CSystem/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CSystem/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CSystem/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CSystem/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CTIFF", path: "Sources/CSystem/CTIFF", pkgConfig: "libtiff-4",
                       providers: [.apt(["libtiff-dev"])]),

        .target(name: "Imaging", dependencies: ["CPNG", "CJPEG", "CTIFF"]),
        .target(name: "NeuralNet", dependencies: ["COpenBLAS"]),
        .target(name: "Recognition", dependencies: ["Imaging", "NeuralNet", "CZlib"]),
        .target(name: "Pipeline", dependencies: ["Imaging", "NeuralNet", "Recognition", "CZlib",
                                               .product(name: "Yams", package: "Yams")]),
        .executableTarget(name: "logbook", dependencies: [
            "Imaging", "NeuralNet", "Recognition", "Pipeline",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet"], resources: [.copy("Fixtures")]),
        .testTarget(name: "RecognitionTests", dependencies: ["Recognition", "NeuralNet", "Imaging"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Recognition", "Imaging"]),
    ]
)
