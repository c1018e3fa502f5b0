// swift-tools-version: 6.1
// corepl: an embeddable, line-editing REPL that drives a cooperative coroutine runtime.
import PackageDescription

let package = Package(
    name: "corepl",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Runtime", targets: ["Runtime"]),
        .library(name: "Pools", targets: ["Pools"]),
        .library(name: "TimeTravel", targets: ["TimeTravel"]),
        .library(name: "Repl", targets: ["Repl"]),
        .library(name: "Trace", targets: ["Trace"]),
        .library(name: "Insight", targets: ["Insight"]),
        // The seed's demo service (also for fuzz/ and benchmarks/).
        .library(name: "FibService", targets: ["FibService"]),
        // The fib demo's commands, as a command pack a host can install too.
        .library(name: "FibPack", targets: ["FibPack"]),
        .executable(name: "corepl", targets: ["corepl"]),
        .executable(name: "corepl-worker", targets: ["corepl-worker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // libedit as a system library; the header holds static inline shims for its
        // variadic calls (el_set, history), which Swift cannot call directly.
        .systemLibrary(
            name: "CEditline",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // Linux headers the Glibc module lacks (epoll, eventfd).
        .target(name: "CLinux"),
        // The cooperative runtime: no terminal code, no libedit.
        .target(
            name: "Runtime",
            dependencies: [
                "CLinux",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Time travel: the virtual clock, the input journal and its replay, the history
        // (step back, goto), the simulated network, the non-FIFO policies. It drives the
        // loop through the core's seams (Runtime/Loop/Seams.swift); the core knows nothing of it.
        .target(
            name: "TimeTravel",
            dependencies: [
                "Runtime",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Worker pools whose results wake the loop as futures: OS threads, worker processes.
        // The loop core knows nothing of them.
        .target(
            name: "Pools",
            dependencies: ["Runtime", "TimeTravel", "CLinux", .product(name: "DequeModule", package: "swift-collections")]
        ),
        // Pictures of the loop over time, from an observer: Perfetto traces and timelines.
        .target(
            name: "Trace",
            dependencies: ["Runtime", .product(name: "DequeModule", package: "swift-collections")]
        ),
        // Being told what is wrong: a monitor of every step (lints, latency histograms, rates).
        .target(
            name: "Insight",
            dependencies: ["Runtime"]
        ),
        // The seed's demo: the fib microservice, its pools, and the perf clients.
        // A nonisolated async function here runs on its caller's executor (SE-0461): a
        // handler's calls cost no hop through swift_task_switch, which for a task with an
        // executor preference looks that preference up under a lock. (Not for every module:
        // in Runtime it would add a hop to each resumption of a yield — see
        // docs/PERFORMANCE.md; AsyncSocket's methods say `nonisolated(nonsending)` instead.)
        .target(
            name: "FibService", dependencies: ["Runtime", "TimeTravel", "Pools"],
            swiftSettings: [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]
        ),
        // A process-pool worker: reads n, writes fib(n), one line each.
        .executableTarget(name: "corepl-worker", dependencies: ["FibService", "Runtime", "CLinux"]),
        // The REPL as a library: commands, scripting, line editing. It knows nothing of fib.
        .target(
            name: "Repl",
            dependencies: [
                "Runtime",
                "TimeTravel",
                "Pools",
                "Trace",
                "Insight",
                "CEditline",
                "CLinux",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The fib demo as a command pack: spawn server/perf1/perf2/request, pool.
        .target(
            name: "FibPack",
            dependencies: [
                "Repl",
                "Runtime",
                "TimeTravel",
                "FibService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The thin executable.
        .executableTarget(
            name: "corepl",
            dependencies: [
                "Repl",
                "Trace",
                "FibPack",
                "FibService",
                "Runtime",
                "CLinux",
                // Built with corepl, so process pools find their worker next to it.
                "corepl-worker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "TestSupport", dependencies: ["Runtime", "CLinux"], path: "Tests/TestSupport"),
        // examples/embed: a host program with its own task kinds and commands.
        .target(
            name: "EmbedExample",
            dependencies: [
                "Repl", "Runtime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "examples/embed/Sources/EmbedExample"
        ),
        .executableTarget(
            name: "corepl-embed",
            dependencies: ["EmbedExample", "Repl", "Runtime"],
            path: "examples/embed/Sources/corepl-embed"
        ),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "TimeTravel", "Pools", "TestSupport"]),
        .testTarget(name: "FibServiceTests", dependencies: ["FibService", "Pools", "Runtime", "TestSupport", "corepl-worker"]),
        // The process pool's tests run corepl-worker as its worker.
        .testTarget(name: "PoolsTests", dependencies: ["Pools", "Runtime", "TestSupport", "corepl-worker"]),
        .testTarget(name: "TimeTravelTests", dependencies: ["TimeTravel", "Runtime", "Pools", "TestSupport"]),
        .testTarget(name: "TraceTests", dependencies: ["Trace", "Runtime", "Pools", "TestSupport"]),
        // (hdrhistogram-swift: the reference the monitor's histograms are checked against.)
        .testTarget(
            name: "InsightTests",
            dependencies: ["Insight", "Runtime", "Pools", "TestSupport", .product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
        .testTarget(name: "FibPackTests", dependencies: ["FibPack", "Repl", "FibService", "Runtime", "TestSupport"]),
        .testTarget(
            name: "ReplTests",
            dependencies: ["Repl", "Trace", "Insight", "FibPack", "FibService", "Pools", "Runtime", "TimeTravel", "TestSupport", "EmbedExample", "corepl", "corepl-worker", "corepl-embed"],
            exclude: ["pty_session.py", "pty_typed_tutorial.py", "pty_output.py", "Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
