// swift-tools-version: 6.1
// The SwiftNIO peer of corepl's fib server, for `benchmarks/run peers` only: a package of
// its own so that SwiftNIO is never a dependency of the product nor of CI.
import PackageDescription

let package = Package(
    name: "nio-peer",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "nio-peer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
