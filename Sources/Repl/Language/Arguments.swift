// Typed arguments shared by every command (the core's and packs'): durations, addresses,
// tasks, word lists. Each parses in one place, so `@3`, `#3` and `3` name the same task
// everywhere and every duration accepts the same forms.
import ArgumentParser
import Runtime

/// A task, as a command names it: its id (`3`, `#3`, `@3`), its exact name, or a kind
/// that names one live task (`request`). Resolved against the loop when the command runs.
public struct TaskArgument: ExpressibleByArgument, Sendable, Hashable, CustomStringConvertible {
    /// The text as typed, e.g. `"@3"` or `"nap"`.
    public let text: String

    /// For argument-parser: any non-empty text (it is resolved when the command runs).
    public init?(argument: String) {
        guard !argument.isEmpty else { return nil }
        text = argument
    }

    /// The text as typed.
    public var description: String { text }

    /// The task's row in the session's table.
    ///
    /// - Throws: `ReplError` when no task (or more than one) answers to the text.
    public func resolve(in session: Session) throws -> TaskInfo {
        try session.task(text)
    }
}

/// Where to connect: `[HOST:]PORT` (HOST defaults to 127.0.0.1), or `@TASK`, the address
/// task TASK listens on (looked up when the command runs). Declare it with
/// `transform: Parse.address`.
public enum AddressArgument: Sendable, Hashable {
    case address(SocketAddress)
    case listener(of: TaskArgument)

    /// - Throws: `SocketError` for text that is neither `[HOST:]PORT` nor `@TASK`.
    public init(parsing text: String) throws {
        if text.hasPrefix("@"), let task = TaskArgument(argument: String(text.dropFirst())) {
            self = .listener(of: task)
        } else {
            self = .address(try SocketAddress(parsing: text))
        }
    }

    /// The socket address.
    ///
    /// - Throws: `ReplError` if the task does not exist or listens nowhere.
    public func resolve(in session: Session) throws -> SocketAddress {
        switch self {
        case .address(let a):
            return a
        case .listener(let task):
            let info = try task.resolve(in: session)
            guard let a = info.facts["address"] else {
                throw ReplError("task \(info.id.rawValue) (\(info.name)) does not listen anywhere")
            }
            do {
                return try SocketAddress(parsing: a)
            } catch {
                throw ReplError("\(error)")
            }
        }
    }
}

/// `on` or `off`.
public enum OnOff: String, ExpressibleByArgument, CaseIterable, Sendable {
    case on, off
}

extension PollerKind: ExpressibleByArgument {}

/// A word from a fixed list, named by its raw value (`epoll`, `on`, `recv`…).
public typealias Choice = CaseIterable & RawRepresentable<String> & ExpressibleByArgument

/// Parsers for `@Option(transform:)` / `@Argument(transform:)`: a value that does not
/// parse fails with the parser's own sentence (`'xyz': expected a duration such as …`).
public enum Parse {
    /// `3` (seconds), `500ms`, `2s`, `1m`.
    public static func duration(_ text: String) throws -> Duration {
        if isNegativeNumber(text) { throw ReplError("'\(text)' is negative: a duration is 0 or more, such as 3, 500ms, 2s or 1m") }
        return try DurationText.parse(text)
    }
    /// `[HOST:]PORT` or `@TASK`.
    public static func address(_ text: String) throws -> AddressArgument { try AddressArgument(parsing: text) }
    /// `[HOST:]PORT` only (for front ends without a loop, such as `corepl perf1`).
    public static func socketAddress(_ text: String) throws -> SocketAddress { try SocketAddress(parsing: text) }

    /// A parser for one of `T`'s words, failing with `no NOUN 'x'; use a, b or c`.
    public static func choice<T: Choice>(_ noun: String) -> @Sendable (String) throws -> T {
        { text in
            if let value = T(rawValue: text) { return value }
            throw ReplError("no \(noun) '\(text)'; use \(words(T.self))")
        }
    }

    /// `a, b or c`: the words of `T`, for messages.
    public static func words<T: Choice>(_ type: T.Type) -> String {
        let all = T.allCases.map(\.rawValue)
        guard all.count > 1 else { return all.joined() }
        return all.dropLast().joined(separator: ", ") + " or " + all.last!
    }

    /// Every word of `T`, for `completion: .list(...)`.
    public static func list<T: Choice>(_ type: T.Type) -> [String] { T.allCases.map(\.rawValue) }

    /// Whether `word` is a negative number, with or without a unit (`-3`, `-1ms`, `-0.5`,
    /// `-10%`): argument-parser takes it for an unknown option, where it is a value out of
    /// range. (No command has an option named by a digit.)
    public static func isNegativeNumber(_ word: String) -> Bool {
        word.count >= 2 && word.hasPrefix("-") && word.dropFirst().first.map { $0.isASCII && ($0.isNumber || $0 == ".") } == true
    }

    /// The words of a list declared `@Argument(parsing: .allUnrecognized)` (which keeps
    /// `-3` as a word, for the command to say what is wrong with it), checked for words
    /// that are options the command does not have.
    ///
    /// - Throws: `ReplError` naming the first unknown option, with `usage`.
    public static func words(_ words: [String], usage: String) throws -> [String] {
        if let option = words.first(where: { $0.hasPrefix("-") && $0 != "-" && !isNegativeNumber($0) }) {
            throw ReplError("unknown option '\(option)'\n\(usage)")
        }
        return words
    }
}

/// `1 task`, `2 tasks`.
public func plural(_ count: Int, _ noun: String, _ plural: String? = nil) -> String {
    count == 1 ? "1 \(noun)" : "\(count) \(plural ?? noun + "s")"
}
