// corepl-bench SUITE: prints one figure per line as `name: value unit`.
import Glibc

let suites: [String: () throws -> Void] = [
    "steps": runStepSuite,
    // Single measurements, for profilers: `corepl-bench profile-step [YIELDS]`.
    "profile-bare": { for _ in 0..<5 { print(bareStep(tasks: 2, yields: profileYields)) } },
    "idle": { print(try idleTaskBytes(tasks: 100_000)) },
    "history-rss": { print(Double(try stepBack(tasks: 2).2)) },
    "idle-bare": { print(bareIdleTaskBytes(tasks: 100_000)) },
    // The same at 100,000 tasks: `corepl-bench ratio-many`.
    "ratio-many": {
        var ratios: [Double] = []
        for _ in 0..<9 {
            ratios.append(try loopStep(tasks: 100_000, yields: 10) / bareStep(tasks: 100_000, yields: 10))
        }
        figure("100000 tasks / bare at 100000, median of pairs", median(ratios), "x", digits: 2)
    },
    "profile-many": { for _ in 0..<3 { print(try loopStep(tasks: 100_000, yields: 10)) } },
    "profile-step": { for _ in 0..<5 { print(try loopStep(tasks: 2, yields: profileYields)) } },
    "profile-all": { for _ in 0..<5 { print(try loopStep(tasks: 2, yields: profileYields, observer: true, recording: true, monitor: true, history: true)) } },
    "profile-observer": { for _ in 0..<5 { print(try loopStep(tasks: 2, yields: profileYields, observer: true)) } },
    "profile-trace": { for _ in 0..<5 { print(try loopStep(tasks: 2, yields: profileYields, recording: true)) } },
    "profile-history": { for _ in 0..<5 { print(try loopStep(tasks: 2, yields: profileYields, history: true)) } },
    "profile-journal": { for _ in 0..<5 { print(try socketRoundTrip(trips: profileYields / 10, journal: true)) } },
    "journal": {
        var ratios: [Double] = []
        for _ in 0..<9 {
            let plain = try socketRoundTrip(trips: 50_000, journal: false)
            ratios.append(try socketRoundTrip(trips: 50_000, journal: true) / plain)
        }
        figure("journal / none, socket pair round trip, median of pairs", median(ratios), "x", digits: 2)
    },
    "profile-monitor": { for _ in 0..<5 { print(try loopStep(tasks: 2, yields: profileYields, monitor: true)) } },
    // The step against the bare executor only, alternating: `corepl-bench ratio [YIELDS]`.
    "ratio": {
        var ours: [Double] = [], bare: [Double] = [], ratios: [Double] = []
        for _ in 0..<41 {
            let o = try loopStep(tasks: 2, yields: profileYields)
            let b = bareStep(tasks: 2, yields: profileYields)
            ours.append(o); bare.append(b); ratios.append(o / b)
        }
        figure("yield step", median(ours), "ns")
        figure("yield step, bare executor", median(bare), "ns")
        figure("yield step / bare, median of pairs", median(ratios), "x", digits: 2)
    },
]

let args = CommandLine.arguments.dropFirst()
let profileYields = args.count > 1 ? Int(args[args.startIndex + 1]) ?? 1_000_000 : 1_000_000
guard let name = args.first, let suite = suites[name] else {
    Stderr.write("usage: corepl-bench \(suites.keys.sorted().joined(separator: "|"))\n")
    exit(2)
}
do {
    try suite()
} catch {
    Stderr.write("corepl-bench: \(error)\n")
    exit(1)
}
