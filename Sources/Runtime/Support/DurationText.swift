// One grammar for durations everywhere (command line, REPL, scripts): a bare number of
// seconds (`3`, `0.5`) or a number with a unit (`500ms`, `2s`, `1m`, `1h`).

/// Parses and prints durations as people type them.
public enum DurationText {
    /// The longest duration accepted.
    public static let maximum: Duration = .seconds(24 * 3600)

    /// Parses `3`, `0.5`, `250ms`, `2s`, `1.5m`, `1h`, `20us`.
    ///
    /// - Throws: `DurationError` with a sentence saying what was wrong.
    public static func parse(_ text: String) throws(DurationError) -> Duration {
        let t = text.trimmingWhitespace().lowercased()
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(t)
        var scale = 1.0
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            number = t.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let value = Double(number), value.isFinite
        else {
            throw DurationError(text: text, reason: "expected a duration such as 3, 500ms, 2s or 1m")
        }
        let seconds = value * scale
        guard seconds <= 24 * 3600 else {
            throw DurationError(text: text, reason: "longer than 24h")
        }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// `"250ms"`, `"2s"`, `"1.5s"`, `"3m"`.
    public static func format(_ d: Duration) -> String {
        let ns = Double(d.clampedNanoseconds)
        if ns < 1e6 { return "\(trim(ns / 1e3))us" }
        if ns < 1e9 { return "\(trim(ns / 1e6))ms" }
        if ns < 60e9 || ns.truncatingRemainder(dividingBy: 60e9) != 0 { return "\(trim(ns / 1e9))s" }
        return "\(trim(ns / 60e9))m"
    }

    private static func trim(_ x: Double) -> String {
        let r = (x * 1000).rounded() / 1000
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}

/// A duration that could not be understood.
public struct DurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "'\(text)': \(reason)" }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
