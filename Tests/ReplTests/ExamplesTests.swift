// Every demo script in examples/ runs green: exit 0, its expect lines holding.
import Foundation
import Testing

@Suite(.serialized, .timeLimit(.minutes(5))) struct ExamplesTests {
    static let examples: [String] = {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples").standardized
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".repl") }.sorted().map { dir.appendingPathComponent($0).path }
    }()

    @Test func thereAreEightExamples() {
        #expect(Self.examples.count == 8, "\(Self.examples)")
    }

    @Test(arguments: examples)
    func exampleRunsGreen(path: String) throws {
        let r = try corepl(["--echo", path])
        #expect(r.status == 0, "\(path) failed:\n\(r.err)\n--- output ---\n\(r.out.suffix(3000))")
        #expect(r.err.isEmpty, "\(r.err)")
    }
}
