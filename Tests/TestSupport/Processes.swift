// Which processes are alive, read from /proc directly (no ps: a machine without procps
// would print nothing, and a check on its output would pass).
import Glibc
import Runtime

/// A process as /proc shows it.
public struct ProcessEntry: Sendable, CustomStringConvertible {
    public var pid: pid_t
    public var ppid: pid_t
    /// The command name (`comm`, at most 15 bytes).
    public var command: String
    /// One-letter state: R, S, D, Z (a zombie, not yet reaped), …
    public var state: Character

    public var description: String { "pid \(pid) ppid \(ppid) \(command) (\(state))" }
}

/// Every process /proc shows now (its `stat`). Throws if /proc cannot be read, or does not
/// list this process.
public func allProcesses() throws -> [ProcessEntry] {
    try scanProc { pid in readProcFile("/proc/\(pid)/stat").flatMap { parseStat(String(decoding: $0, as: UTF8.self)) } }
}

/// Every process whose environment holds `entry` (`NAME=value`), as /proc shows it now. A
/// test passes a mark of its own to a child (`ChildProcess(…, environment: [mark])`): the
/// child's children inherit it, so they are found even once they outlived their parent.
/// Processes of other users (their environment unreadable) and zombies (their environment
/// gone) are not found. Throws if /proc cannot be read.
public func processes(withEnvironment entry: String) throws -> [ProcessEntry] {
    try scanProc { pid in
        guard let environment = readProcFile("/proc/\(pid)/environ"),
              environment.split(separator: 0).contains(where: { $0.elementsEqual(entry.utf8) }) else { return nil }
        return readProcFile("/proc/\(pid)/stat").flatMap { parseStat(String(decoding: $0, as: UTF8.self)) }
    }
}

/// The processes `entry` returns an entry for, by pid.
private func scanProc(_ entry: (pid_t) -> ProcessEntry?) throws -> [ProcessEntry] {
    guard let dir = opendir("/proc") else {
        throw SystemCallError("opendir /proc", errno: .init(rawValue: errno))
    }
    defer { closedir(dir) }
    var found: [ProcessEntry] = []
    var sawSelf = false
    while let e = readdir(dir) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let pid = pid_t(name) else { continue }
        if pid == getpid() { sawSelf = true }
        if let process = entry(pid) { found.append(process) }
    }
    guard sawSelf else {
        throw SystemCallError("/proc does not list this process (\(getpid())): not a procfs", errno: .init(rawValue: ENOENT))
    }
    return found.sorted { $0.pid < $1.pid }
}

/// `pid (comm) S ppid …`: the command may hold spaces and parentheses; it ends at the last ')'.
private func parseStat(_ line: String) -> ProcessEntry? {
    guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")"),
          let pid = pid_t(line[..<open].trimmingCharacters(" ")) else { return nil }
    let fields = line[line.index(after: close)...].split(separator: " ")
    guard fields.count > 2, let state = fields[0].first, let ppid = pid_t(fields[1]) else { return nil }
    return ProcessEntry(pid: pid, ppid: ppid, command: String(line[line.index(after: open)..<close]), state: state)
}

/// A /proc file's bytes (its size shows as 0, so read to the end), or nil if unreadable.
private func readProcFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n < 0 { return nil }
        if n == 0 { return bytes }
        bytes += chunk[0..<n]
    }
}

extension Substring {
    fileprivate func trimmingCharacters(_ c: Character) -> Substring {
        var s = self
        while s.first == c { s.removeFirst() }
        while s.last == c { s.removeLast() }
        return s
    }
}
