// corepl-worker: a process-pool worker. Reads one decimal n per line on stdin, writes
// fib(n) (or `error: …`) per line on stdout, and exits at end of file — or when its parent
// dies, so that no worker outlives corepl.
import CLinux
import FibService
import Glibc
import Runtime

if corepl_die_with_parent() != 0 { exit(0) }

func reply(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    var sent = 0
    while sent < bytes.count {
        let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + sent, $0.count - sent) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { exit(0) }
        sent += n
    }
}

while let line = readLine() {
    let text = line.trimmingWhitespace()
    if let n = Int(text), n >= 0, n <= fibLargestN {
        reply(String(fib(n)))
    } else {
        reply("error: '\(text)' is not a number from 0 to \(fibLargestN)")
    }
}
