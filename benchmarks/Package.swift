// swift-tools-version: 6.1
// Benchmarks for corepl, kept out of the product's package so that CI never builds them
// and peers (SwiftNIO, later) are only ever linked here. Run through `benchmarks/run`.
import PackageDescription

let package = Package(
    name: "corepl-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "corepl", path: ".."),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "corepl-bench",
            dependencies: [
                .product(name: "Runtime", package: "corepl"),
                .product(name: "TimeTravel", package: "corepl"),
                .product(name: "Trace", package: "corepl"),
                .product(name: "Insight", package: "corepl"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
