// The fib protocol's framing, case by case, without sockets.
import FibService
import Runtime
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct RequestFramerTests {
    func items(_ text: String, ceiling: Int = 45) -> [RequestFramer.Item] {
        var f = RequestFramer(ceiling: ceiling)
        return f.feed(Array(text.utf8))
    }

    @Test func newlineAndCRLFTerminateRequests() {
        #expect(items("30\n") == [.request(30)])
        #expect(items("30\r\n") == [.request(30)])
        #expect(items(" 7 \n") == [.request(7)])
    }

    @Test func severalRequestsInOneSegmentComeOutInOrder() {
        #expect(items("1\n2\r\n3\n") == [.request(1), .request(2), .request(3)])
    }

    @Test func blankLinesAreIgnored() {
        #expect(items("\n\r\n  \n5\n\n") == [.request(5)])
    }

    @Test func badRequestsKeepTheConnection() {
        #expect(items("abc\n") == [.bad("'abc' is not a number")])
        #expect(items("-3\n") == [.bad("-3 is negative; fib needs n >= 0")])
        #expect(items("46\n") == [.bad("46 is over the ceiling of 45")])
        #expect(items("99999999999999999999999\n") == [.bad("99999999999999999999999 is over the ceiling of 45")])
        #expect(items("3.5\n") == [.bad("'3.5' is not a number")])
        let long = String(repeating: "1", count: 101)
        #expect(items(long + "\n5\n") == [.bad("request longer than 100 bytes"), .request(5)])
        #expect(items(String(repeating: "1", count: 100) + "\n", ceiling: 45) == [.bad("\(String(repeating: "1", count: 100)) is over the ceiling of 45")])
    }

    @Test func moreThanFourKiBWithoutANewlineIsFatal() {
        var f = RequestFramer(ceiling: 45)
        #expect(f.feed(Array(repeating: UInt8(ascii: "1"), count: 4096)) == [])
        #expect(f.feed([UInt8(ascii: "1")]) == [.fatal("more than 4096 bytes without a newline; closing the connection")])
        #expect(f.feed(Array("5\n".utf8)) == [], "nothing after a fatal error")
    }

    @Test func binaryGarbageIsFatalButEarlierRequestsStillCount() {
        #expect(items("5\n\u{0}\u{1}\n") == [.request(5), .fatal("binary data in the request; closing the connection")])
        var f = RequestFramer(ceiling: 45)
        #expect(f.feed([0xff, 0xfe]) == [.fatal("binary data in the request; closing the connection")])
    }

    @Test func anUnterminatedRequestIsHeldUntilFlushed() {
        var f = RequestFramer(ceiling: 45)
        #expect(f.feed(Array("30".utf8)) == [])
        #expect(f.hasPartial)
        #expect(f.flushPartial() == .request(30))
        #expect(!f.hasPartial)
        #expect(f.flushPartial() == nil)
        // A "1" flushed, then its "\n" arriving later, is one request: the "\n" is blank.
        #expect(f.feed(Array("1".utf8)) == [])
        #expect(f.flushPartial() == .request(1))
        #expect(f.feed(Array("\n".utf8)) == [])
    }

    @Test func fibIsTheSeedsFunction() {
        #expect(fib(1) == 1)
        #expect(fib(2) == 1)
        #expect(fib(3) == 2)
        #expect(fib(30) == 832040)
        #expect(fib(36) == 14930352)
    }

    @Test func poolAndWaitSpecsParseAndRefuseClearly() throws {
        #expect(try PoolSpec(parsing: "inline") == .inline)
        #expect(try PoolSpec(parsing: "thread") == .thread(4))
        #expect(try PoolSpec(parsing: "thread:2") == .thread(2))
        #expect(try PoolSpec(parsing: "process:3") == .process(3))
        #expect(throws: FibServiceError("pool size must be a number from 1 to 64, got '0'")) { try PoolSpec(parsing: "thread:0") }
        #expect(throws: FibServiceError("expected inline, thread[:N] or process[:N], got 'fiber'")) { try PoolSpec(parsing: "fiber") }
        #expect(throws: FibServiceError("expected inline, thread[:N] or process[:N], got 'inline:2'")) { try PoolSpec(parsing: "inline:2") }
        #expect(try WaitMode(parsing: "block") == .block)
        #expect(throws: FibServiceError("expected yield or block, got 'spin'")) { try WaitMode(parsing: "spin") }
    }

    @Test func latenciesPrintLikeTheSeed() {
        #expect(formatSeconds(0.2326054573059082) == "0.2326")
        #expect(formatSeconds(0.0021) == "0.0021")
        #expect(formatSeconds(1.5) == "1.5000")
    }
}
