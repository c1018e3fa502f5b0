// Writing text: whole lines to a file descriptor, and seconds as the seed prints them.
import Glibc

/// Writes `line` and a newline to `fd` in one system call (retrying short writes).
public func writeLine(_ line: String, to fd: Int32) {
    let bytes = Array((line + "\n").utf8)
    var sent = 0
    while sent < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + sent, $0.count - sent) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        sent += n
    }
}

/// Formats seconds as the seed's perf1 prints them: `0.2326`.
public func formatSeconds(_ seconds: Double) -> String {
    let tenThousandths = Int((seconds * 10_000).rounded())
    let whole = tenThousandths / 10_000
    let frac = String(tenThousandths % 10_000)
    return "\(whole)." + String(repeating: "0", count: 4 - frac.count) + frac
}
