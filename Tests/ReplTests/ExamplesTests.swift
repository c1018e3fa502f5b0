// Every demo script in examples/ runs green: exit 0, its expect lines holding.
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(5))) struct ExamplesTests {
    static let examples: [String] = {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples").standardized
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".repl") }.sorted().map { dir.appendingPathComponent($0).path }
    }()

    @Test func thereAreElevenExamples() {
        #expect(Self.examples.count == 12, "\(Self.examples)")
    }

    @Test(arguments: examples)
    func exampleRunsGreen(path: String) throws {
        // Each runs in a directory of its own: 09 writes its pictures under docs/pictures/
        // of the directory it runs in (the repository's own when run from its root).
        let dir = NSTemporaryDirectory() + "corepl-examples-\(getpid())-\((path as NSString).lastPathComponent)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runChild("/bin/sh", ["-c", "cd \"$1\" && exec \"$2\" --echo \"$3\"", "sh", dir, try coreplPath(), path],
                             timeout: .seconds(120))
        #expect(r.status == 0, "\(path) failed:\n\(r.err)\n--- output ---\n\(r.out.suffix(3000))")
        #expect(r.err.isEmpty, "\(r.err)")
        if path.hasSuffix("09-pictures.repl") {
            for picture in ["09-inline.svg", "09-pool.svg"] {
                let lanes = try SVGLanes(file: dir + "/docs/pictures/" + picture)
                #expect(lanes.tasks.count >= 4, "\(picture): a lane per task")
                #expect(lanes.pollLanes == 1)
            }
        }
    }
}
