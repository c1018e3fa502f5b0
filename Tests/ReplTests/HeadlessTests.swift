// The headless commands as the seed's scripts are used: `corepl serve` (its --host and
// --ceiling, and staying up when it runs out of fds), and the `perf1` / `perf2` clients
// (output, [HOST:]PORT, --duration, bad arguments and exit statuses). Every wait on a
// child has a deadline.
import Glibc
import Runtime
import Testing
import TestSupport

/// A blocking TCP connection from the test process to 127.0.0.x (reads time out).
final class TestConnection {
    let fd: Int32

    init?(host: String = "127.0.0.1", port: UInt16, nonBlockingConnect: Bool = false) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        if nonBlockingConnect { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard var sa = try? SocketAddress(parsing: "\(host):\(port)").sockaddrIn else { close(fd); return nil }
        let r = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if r != 0 && !(nonBlockingConnect && errno == EINPROGRESS) {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// One reply line (nil on end of file, error or the 30 s receive timeout).
    func readLine() -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = recv(fd, &byte, 1, 0)
            if n <= 0 { return nil }
            if byte == 10 { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }
}

/// The port in a `listening on HOST:PORT` line.
func port(inBanner line: String) throws -> UInt16 {
    try #require(line.split(separator: ":").last.flatMap { UInt16(String($0).trimmingWhitespace()) }, "no port in '\(line)'")
}

@Suite(.serialized, .timeLimit(.minutes(3))) struct HeadlessTests {

    /// Under `ulimit -n 64`, 200 clients: the server accepts what it can, backs off
    /// instead of spinning on the listener (which stays readable), does not exit, and
    /// serves again once fds free up.
    @Test func aServerOutOfFdsBacksOffAndServesAgainOnceFdsFreeUp() throws {
        let server = try ChildProcess("/bin/sh", ["-c", "ulimit -n 64 && exec \"$0\" serve 0 --pool thread:2", try coreplPath()])
        let port = try port(inBanner: try server.waitForLine(containing: "listening on"))
        var clients: [TestConnection] = []
        for _ in 0..<200 {
            if let c = TestConnection(port: port, nonBlockingConnect: true) { clients.append(c) }
        }
        #expect(clients.count == 200)
        try server.waitForLine(containing: "accept: 127.0.0.1:\(port): too many open files (EMFILE)", timeout: .seconds(30))
        // While it is out of fds, it must not spin: measure its CPU over a second.
        let before = try #require(server.cpuSeconds, "the server's CPU time from /proc"), started = monotonicNanos()
        var ts = timespec(tv_sec: 1, tv_nsec: 0)
        nanosleep(&ts, nil)
        let cpu = (try #require(server.cpuSeconds) - before) / (Double(monotonicNanos() - started) / 1e9)
        #expect(cpu < 0.3, "the server used \(Int(cpu * 100)) % of a CPU while out of fds")
        // The clients go away; a new one is served.
        clients.removeAll()
        try server.waitForLine(containing: "accept: accepting again after", timeout: .seconds(30))
        let fresh = try #require(TestConnection(port: port))
        fresh.send("20\n")
        #expect(fresh.readLine() == "6765")
        server.signal(SIGTERM)
        #expect(try server.waitForExit(timeout: .seconds(30)) == 0, "\(server.errors)")
    }

    @Test func serveListensOnTheHostItIsGivenAndRefusesAboveTheCeiling() throws {
        let server = try ChildProcess(try coreplPath(), ["serve", "0", "--host", "127.0.0.2", "--ceiling", "20", "--pool", "inline"])
        let banner = try server.waitForLine(containing: "listening on")
        #expect(banner.hasPrefix("listening on 127.0.0.2:"))
        let port = try port(inBanner: banner)
        // (Whether 127.0.0.1:PORT is refused is not asserted: another test's server may
        // bind that port on 127.0.0.1 meanwhile.)
        let c = try #require(TestConnection(host: "127.0.0.2", port: port))
        c.send("20\n")
        #expect(c.readLine() == "6765")
        c.send("21\n")
        let refused = try #require(c.readLine())
        #expect(refused == "error: 21 is over the ceiling of 20")
        c.send("3\n")
        #expect(c.readLine() == "2", "the connection stays usable after a refusal")
        server.signal(SIGINT)
        #expect(try server.waitForExit(timeout: .seconds(30)) == 0)
        let bad = try corepl(["serve", "0", "--ceiling", "93"])
        #expect(bad.status == 1)
        #expect(bad.err == "corepl: the ceiling must be from 0 to 92 (fib(93) does not fit in 64 bits)\n")
    }

    @Test func perf1AndPerf2PrintTheirFiguresForTheirDurationAndExitZero() throws {
        let server = try ChildProcess(try coreplPath(), ["serve", "0", "--pool", "thread:2"])
        let port = try port(inBanner: try server.waitForLine(containing: "listening on"))

        let p1 = try corepl(["perf1", "127.0.0.1:\(port)", "--n", "25", "--duration", "600ms"], timeout: .seconds(60))
        #expect(p1.status == 0, "\(p1.err)")
        let latencies = p1.out.split(separator: "\n").compactMap { Double($0) }
        #expect(!latencies.isEmpty && latencies.count == p1.out.split(separator: "\n").count, "\(p1.out)")
        #expect(latencies.allSatisfy { $0 > 0 }, "\(latencies)")

        // PORT alone means 127.0.0.1.
        let p2 = try corepl(["perf2", String(port), "--duration", "1.5s"], timeout: .seconds(60))
        #expect(p2.status == 0, "\(p2.err)")
        // A rate each whole second: one in 1.5 s.
        let rates = p2.out.split(separator: "\n").map { $0.wholeMatch(of: /([0-9]+) reqs\/sec/).flatMap { Int($0.output.1) } }
        #expect(rates.count == 1 && rates.allSatisfy { ($0 ?? 0) > 0 }, "\(p2.out)")

        server.signal(SIGTERM)
        #expect(try server.waitForExit(timeout: .seconds(30)) == 0)
    }

    @Test func theClientsRefuseBadArgumentsAndAnUnreachableServer() throws {
        // ArgumentParser's usage errors: the first line says what is wrong.
        for (args, error) in [
            (["perf1"], "Error: Missing expected argument '<addr>'"),
            (["perf1", "not-an-address"], "Error: The value 'not-an-address' is invalid for '<addr>': not-an-address: 'not-an-address' is not a port number (0-65535)"),
            (["perf2", "127.0.0.1:99999"], "Error: The value '127.0.0.1:99999' is invalid for '<addr>': 127.0.0.1:99999: '99999' is not a port number (0-65535)"),
            (["perf1", "25000", "--duration", "soon"], "Error: The value 'soon' is invalid for '--duration <duration>': 'soon': expected a duration such as 3, 500ms, 2s or 1m"),
            (["perf2", "25000", "--bogus"], "Error: Unknown option '--bogus'"),
        ] {
            let r = try corepl(args)
            #expect(r.status == 64, "\(args): \(r.status) \(r.err)")
            #expect(r.err.split(separator: "\n").first.map(String.init) == error, "\(args): \(r.err)")
        }
        // A port nothing listens on: bind one, close it, use it.
        let probe = try AsyncSocket.listen(on: try EventLoop(), host: SocketAddress.loopback, port: 0, backlog: 1)
        let free = try #require(probe.localAddress?.port)
        probe.close()
        for client in ["perf1", "perf2"] {
            let r = try corepl([client, "127.0.0.1:\(free)", "--duration", "1s"])
            #expect(r.status == 1, "\(client): \(r.status)")
            #expect(r.err == "corepl: 127.0.0.1:\(free): connection refused (ECONNREFUSED)\n", "\(client)")
        }
    }
}
