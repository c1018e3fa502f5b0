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

    /// Everything but the command name comes from the command's definition
    /// (`CommandRegistry.Entry.completion`): its options and their values, its value
    /// lists, tasks where it takes a task, files where it takes a file.
    static func candidates(after words: [String], word: String, registry: CommandRegistry, tasks: Tasks,
                           files: (String) -> [String]) -> [String] {
        let previous = words.last ?? ""
        guard var entry = registry.find(words[0]) else { return [] }
        if entry.name == "help" { return registry.entries.map(\.name) }
        if entry.traits.takesTaskKind {
            guard words.count >= 2, let kind = registry.taskKind(words[1]) else {
                return words.count == 1 ? registry.taskKinds.map(\.name) : []
            }
            entry = kind
        }
        let spec = entry.completion
        // Tasks where the command takes one, and after the words that introduce one in
        // the commands with a grammar of their own (`run until TASK done`,
        // `expect task TASK`, `expect queue Q contains TASK`).
        let takesTask = spec.takesTask || ["until", "task", "contains"].contains(previous)
        if word.hasPrefix("@") {
            // `@TASK` keeps its `@`: any task where a task is taken (`show @p2`), else the
            // tasks that listen, as addresses (`spawn perf2 @srv`).
            return taskWords(takesTask ? tasks : tasks.filter(\.listens)).map { "@" + $0 }
        }
        if let values = spec.optionValues[previous] { return values }
        if spec.takesFile { return files(word) }
        var result = spec.words
        if takesTask { result += taskWords(tasks) }
        return result
    }

    /// The words that name `tasks`: each id, and each name that is one word.
    static func taskWords(_ tasks: Tasks) -> [String] {
        tasks.map { String($0.id) } + tasks.map(\.name).filter { !$0.isEmpty && !$0.contains(" ") }
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
