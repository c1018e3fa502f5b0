// corepl-bench SUITE: prints one figure per line as `name: value unit`.
import Glibc

let suites: [String: () throws -> Void] = [
    "steps": runStepSuite,
    // Single measurements, for profilers: `corepl-bench profile-step [YIELDS]`.
    "profile-bare": { for _ in 0..<5 { print(bareStep(tasks: 2, yields: profileYields)) } },
    "profile-step": { for _ in 0..<5 { print(try loopStep(tasks: 2, yields: profileYields)) } },
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
