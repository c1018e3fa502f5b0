// Fuzzes the fib protocol's request framer: arbitrary bytes, split into arbitrary
// chunks, must frame exactly as the same bytes fed in one piece, and every item must
// obey the framer's own limits.
import FibService

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFramer(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    // The first byte chooses the ceiling and the chunk sizes of the split feed.
    let ceiling = Int(first % 93)
    let input = bytes.dropFirst()

    var whole = RequestFramer(ceiling: ceiling)
    var wholeItems = whole.feed(input)
    if let last = whole.flushPartial() { wholeItems.append(last) }

    var split = RequestFramer(ceiling: ceiling)
    var splitItems: [RequestFramer.Item] = []
    var rest = input[...]
    var chunk = Int(first) % 7 + 1
    while !rest.isEmpty {
        let piece = rest.prefix(chunk)
        splitItems += split.feed(piece)
        rest = rest.dropFirst(piece.count)
        chunk = chunk % 13 + 1
    }
    if let last = split.flushPartial() { splitItems.append(last) }

    // Feeding in chunks must not change what is framed (flushPartial only at the end).
    precondition(wholeItems == splitItems, "chunked feed framed differently: \(wholeItems) vs \(splitItems)")
    for (i, item) in wholeItems.enumerated() {
        switch item {
        case .request(let n):
            precondition((0...ceiling).contains(n), "request \(n) above the ceiling \(ceiling)")
        case .bad(let reason):
            precondition(!reason.isEmpty && !reason.contains("\n"), "bad reply text: \(reason)")
        case .fatal(let reason):
            precondition(!reason.contains("\n"), "bad fatal text: \(reason)")
            precondition(i == wholeItems.count - 1, "items after a fatal one")
        }
    }
    // A parse of any text never traps either.
    _ = RequestFramer.parse(String(decoding: input, as: UTF8.self), ceiling: ceiling)
    return 0
}
