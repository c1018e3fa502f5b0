// Printing and statistics shared by the suites.
import Foundation
import Glibc

enum Stderr {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Prints `name: value unit` and flushes, so piped output arrives line by line.
func figure(_ name: String, _ value: Double, _ unit: String, digits: Int = 1) {
    FileHandle.standardOutput.write(Data("\(name): \(format(value, digits: digits)) \(unit)\n".utf8))
}

func format(_ value: Double, digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Resident set size now and at its peak, from /proc/self/status, in bytes.
func rss() -> (current: Int, peak: Int) {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
    var current = 0, peak = 0
    for s in status.split(separator: "\n") {
        let kb = Int(s.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        if s.hasPrefix("VmRSS:") { current = kb * 1024 }
        if s.hasPrefix("VmHWM:") { peak = kb * 1024 }
    }
    return (current, peak)
}
