// The fib protocol's framing, as a pure value so every case can be tested without a
// socket. A request is a decimal integer ending in "\n" or "\r\n" (nc, telnet), or — as
// the seed's clients send b'30' and wait — unterminated at the end of what has arrived,
// which the handler hands over only once no more bytes are immediately available.
import Runtime

/// Splits received bytes into requests and protocol errors.
public struct RequestFramer: Sendable {
    /// A request line longer than this is refused (the connection stays usable).
    public static let maxLineBytes = 100
    /// More than this without a newline closes the connection.
    public static let maxPendingBytes = 4096

    /// What a piece of input means.
    public enum Item: Sendable, Equatable {
        /// fib(n) is asked for.
        case request(Int)
        /// Reply `error: <reason>` and keep the connection.
        case bad(String)
        /// Reply `error: <reason>` and close the connection.
        case fatal(String)
    }

    /// The largest n served.
    public let ceiling: Int
    private var pending: [UInt8] = []
    private var failed = false

    public init(ceiling: Int) {
        self.ceiling = ceiling
    }

    /// Whether an unterminated piece of a request is waiting.
    public var hasPartial: Bool { !pending.isEmpty && !failed }

    /// Feeds received bytes; returns the items of every complete line, in order. After a
    /// `.fatal` item nothing more is produced.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [Item] {
        var items: [Item] = []
        feed(bytes, into: &items)
        return items
    }

    /// Feeds received bytes, appending the items of every complete line to `items` (a
    /// buffer the caller keeps between calls: no allocation per request).
    public mutating func feed(_ bytes: some Collection<UInt8>, into items: inout [Item]) {
        guard !failed else { return }
        for byte in bytes {
            guard Self.isText(byte) else {
                return fail(&items, "binary data in the request; closing the connection")
            }
            if byte == 10 {
                if let item = item(forLine: pending) { items.append(item) }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                if pending.count > Self.maxPendingBytes {
                    return fail(&items, "more than \(Self.maxPendingBytes) bytes without a newline; closing the connection")
                }
            }
        }
    }

    /// Takes the unterminated remainder as a request (call once no more bytes are
    /// immediately available, or at end of file).
    public mutating func flushPartial() -> Item? {
        guard hasPartial else { return nil }
        defer { pending.removeAll(keepingCapacity: true) }
        return item(forLine: pending)
    }

    private mutating func fail(_ items: inout [Item], _ reason: String) {
        failed = true
        pending.removeAll()
        items.append(.fatal(reason))
    }

    /// Text is printable ASCII, tab, CR and LF; anything else is binary garbage.
    private static func isText(_ byte: UInt8) -> Bool {
        (32...126).contains(byte) || byte == 9 || byte == 10 || byte == 13
    }

    /// The item for one line (without its "\n"); nil for a blank line.
    private func item(forLine line: [UInt8]) -> Item? {
        if line.count > Self.maxLineBytes {
            return .bad("request longer than \(Self.maxLineBytes) bytes")
        }
        if let n = Self.plainNumber(line), n <= ceiling { return .request(n) }
        let text = String(decoding: line, as: UTF8.self).trimmingWhitespace()
        if text.isEmpty { return nil }
        return Self.parse(text, ceiling: ceiling)
    }

    /// The common case without building a string: up to 18 ASCII digits, optionally
    /// followed by "\r". Anything else (and a number over the ceiling) goes the long way,
    /// `parse`, which explains it.
    @inline(__always)
    static func plainNumber(_ line: [UInt8]) -> Int? {
        var count = line.count
        if count > 0 && line[count - 1] == 13 { count -= 1 }
        guard count > 0 && count <= 18 else { return nil }
        var n = 0
        for i in 0..<count {
            let d = line[i] &- 48
            guard d < 10 else { return nil }
            n = n &* 10 &+ Int(d)
        }
        return n
    }

    /// Validates one request's text.
    public static func parse(_ text: String, ceiling: Int) -> Item {
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative || digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return .bad("'\(text)' is not a number")
        }
        if negative { return .bad("\(text) is negative; fib needs n >= 0") }
        guard let n = Int(digits), n <= ceiling else {
            return .bad("\(digits) is over the ceiling of \(ceiling)")
        }
        return .request(n)
    }
}
