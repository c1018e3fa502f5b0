// Splitting lines into commands and words.
@testable import Repl
import Testing

@Suite(.timeLimit(.minutes(2))) struct TokenizerTests {
    func words(_ line: String) throws -> [[String]] {
        try Tokenizer.commands(in: line).map(\.words)
    }

    @Test func wordsQuotesSemicolonsAndComments() throws {
        #expect(try words("spawn server 0") == [["spawn", "server", "0"]])
        #expect(try words("show 'a b'; step 2") == [["show", "a b"], ["step", "2"]])
        #expect(try words("show \"it's\" here # a comment") == [["show", "it's", "here"]])
        #expect(try words("  # only a comment") == [])
        #expect(try words("show #3; goto #12 # to step 12") == [["show", "#3"], ["goto", "#12"]], "#digits is a word")
        #expect(try words("#1 starts no comment") == [["#1", "starts", "no", "comment"]])
        #expect(try words(";;") == [])
        #expect(try words(#"show a\ b"#) == [["show", "a b"]])
        #expect(try words("show 'x;y'") == [["show", "x;y"]])
    }

    @Test func echoAndExpectOutputTakeTheRestOfTheLineVerbatim() throws {
        let c = try Tokenizer.commands(in: "step; echo   The seed's loop;  here # not a comment")
        #expect(c.count == 2)
        #expect(c[1].rest == "The seed's loop;  here # not a comment")
        #expect(c[1].text == "echo The seed's loop;  here # not a comment")
        let e = try Tokenizer.commands(in: "expect output contains it's 'quoted'")
        #expect(e.first?.rest == "output contains it's 'quoted'")
    }

    @Test func badLinesAreRefusedClearly() {
        #expect(throws: TokenizeError(description: "unterminated quote")) { try Tokenizer.commands(in: "show 'abc") }
        #expect(throws: TokenizeError(description: "line contains a NUL byte")) { try Tokenizer.commands(in: "step\u{0}") }
        let long = String(repeating: "x", count: 20_000)
        #expect(throws: TokenizeError(description: "line too long (20000 bytes; at most 4096)")) { try Tokenizer.commands(in: long) }
    }

    @Test func quotingRoundTrips() throws {
        for word in ["plain", "two words", "it's", "a;b", "#x", ""] {
            #expect(try words("show " + Tokenizer.quote(word)) == [["show", word]])
        }
    }
}
