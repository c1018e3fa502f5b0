// Files a test writes go into a directory of its own under $TMPDIR, removed with
// everything in it when the test is done, however it ends: nothing is left behind in the
// temporary directory or the working tree (.ci/run checks both).
import Foundation
import Runtime

/// Runs `body` with a fresh directory `$TMPDIR/corepl-LABEL-XXXXXX` (its path, without a
/// trailing slash), then removes the directory and everything in it, also when `body` throws.
public func withTemporaryDirectory<T>(_ label: String = "test", _ body: (String) throws -> T) throws -> T {
    let dir = try makeTemporaryDirectory(label)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

/// `withTemporaryDirectory` for an async body.
public func withTemporaryDirectory<T>(_ label: String = "test", _ body: (String) async throws -> T) async throws -> T {
    let dir = try makeTemporaryDirectory(label)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try await body(dir)
}

/// Writes `text` to `dir/name` and returns the file's path.
@discardableResult
public func writeFile(_ dir: String, _ name: String, _ text: String) throws -> String {
    let path = dir + "/" + name
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    return path
}

private func makeTemporaryDirectory(_ label: String) throws -> String {
    var base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    if base.isEmpty { base = "/tmp" }
    while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
    var template = Array("\(base)/corepl-\(label)-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw SystemCallError("mkdtemp in \(base)", errno: .init(rawValue: errno))
    }
    return String(cString: made)
}
