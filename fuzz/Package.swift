// swift-tools-version: 6.1
// libFuzzer targets for corepl's parsers: the fib wire protocol's request framer, and the
// REPL's tokenizer and command parser. Not part of the main build (a fuzz target has no
// `main`: libFuzzer supplies it). Build and run them with fuzz/run.
import PackageDescription

let package = Package(
    name: "corepl-fuzz",
    dependencies: [.package(name: "corepl", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "FuzzFramer",
            dependencies: ["FuzzSupport", .product(name: "FibService", package: "corepl")]
        ),
        .executableTarget(
            name: "FuzzRepl",
            dependencies: [
                "FuzzSupport",
                .product(name: "Repl", package: "corepl"),
                .product(name: "FibPack", package: "corepl"),
                .product(name: "FibService", package: "corepl"),
                .product(name: "Runtime", package: "corepl"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
