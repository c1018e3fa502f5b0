// Tab completion: command names, subcommands and options, task ids and names, @TASK
// addresses, pool kinds, and file paths after `source` / `save`. Pure, so it is tested
// without a terminal.
import Foundation

/// Completes the word under the cursor.
public enum Completer {
    /// What the front end knows about tasks (from `LoopService.status`).
    public typealias Tasks = [(id: Int, name: String, listens: Bool)]

    /// The word being completed and the candidates for it, sorted.
    public static func complete(_ textBeforeCursor: String, registry: CommandRegistry, tasks: Tasks,
                                files: (String) -> [String] = Completer.paths) -> (word: String, candidates: [String]) {
        let segment = textBeforeCursor.split(separator: ";", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        let endsWithSpace = segment.last.map { $0 == " " || $0 == "\t" } ?? false
        var words = segment.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let word = endsWithSpace ? "" : (words.popLast() ?? "")
        let all: [String]
        if words.isEmpty {
            all = registry.entries.flatMap { [$0.name] + $0.aliases }.filter { $0.count > 1 }
        } else {
            all = candidates(after: words, word: word, registry: registry, tasks: tasks, files: files)
        }
        let matching = Set(all.filter { $0.hasPrefix(word) })
        return (word, matching.sorted())
    }

    static func candidates(after words: [String], word: String, registry: CommandRegistry, tasks: Tasks,
                           files: (String) -> [String]) -> [String] {
        let command = registry.find(words[0])?.name ?? words[0]
        let previous = words.last ?? ""
        if word.hasPrefix("@") { return tasks.filter(\.listens).map { "@\($0.id)" } }
        if command == "source" || command == "save" { return files(word) }
        if previous == "--pool" || command == "pool" && words.count == 1 {
            return ["inline", "thread", "thread:2", "thread:4", "process", "process:2", "process:4"]
        }
        if previous == "--wait" { return ["yield", "block"] }
        if command == "poller" { return ["epoll", "poll", "select"] }
        if command == "help" { return registry.entries.map(\.name) }
        let ids = tasks.map { String($0.id) }
        let taskCommands: Set = ["show", "where", "cancel", "mark", "break", "run", "continue"]
        var result = registry.find(command)?.words ?? registry.taskKind(command)?.words ?? []
        if command == "spawn" {
            if words.count == 1 { result += registry.taskKinds.map(\.name) }
            if words.count >= 2, let kind = registry.taskKind(words[1]) { result = kind.words }
        }
        if taskCommands.contains(command) || (command == "expect" && (previous == "task" || previous == "contains")) {
            result += ids
            result += tasks.map(\.name).filter { !$0.contains(" ") }
        }
        return result
    }

    /// Paths starting with `prefix` (directories with a trailing `/`).
    public static func paths(_ prefix: String) -> [String] {
        let (dir, base): (String, String)
        if let slash = prefix.lastIndex(of: "/") {
            dir = String(prefix[...slash])
            base = String(prefix[prefix.index(after: slash)...])
        } else {
            (dir, base) = ("", prefix)
        }
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir) else { return [] }
        return names.filter { $0.hasPrefix(base) && (!$0.hasPrefix(".") || base.hasPrefix(".")) }.map { name in
            var isDir: ObjCBool = false
            let path = dir + name
            _ = fm.fileExists(atPath: dir.isEmpty ? name : path, isDirectory: &isDir)
            return path + (isDir.boolValue ? "/" : "")
        }
    }

    /// The longest common prefix of `words`.
    public static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for w in words.dropFirst() {
            while !w.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }
}
