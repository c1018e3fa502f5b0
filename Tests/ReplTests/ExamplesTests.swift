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

    /// The scripts the tutorial walks through are the ones found here (and so run below,
    /// one test case each): none missing, none unnamed by the tutorial, numbered 01, 02, …
    /// without a gap. (An examples/ that could not be read would otherwise run no case.)
    @Test func everyExampleTheTutorialNamesIsFoundAndRun() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
        let tutorial = try String(contentsOf: root.appendingPathComponent("docs/TUTORIAL.md"), encoding: .utf8)
        let named = Set(tutorial.matches(of: /examples\/([0-9]{2}-[a-z0-9-]+\.repl)/).map { String($0.output.1) })
        let found = Self.examples.map { ($0 as NSString).lastPathComponent }
        #expect(!named.isEmpty, "the tutorial names its examples as examples/NN-name.repl")
        #expect(Set(found) == named, "found \(found.sorted()), the tutorial names \(named.sorted())")
        #expect(found.compactMap { Int($0.prefix(2)) } == Array(1...max(1, found.count)), "numbered without a gap: \(found)")
    }

    @Test(arguments: examples)
    func exampleRunsGreen(path: String) throws {
        // Each runs in a directory of its own: 09 writes its pictures under .build/pictures/
        // of the directory it runs in, never into the repository's docs/pictures/.
        try withTemporaryDirectory("example") { dir in
            let r = try runChild("/bin/sh", ["-c", "cd \"$1\" && exec \"$2\" --echo \"$3\"", "sh", dir, try coreplPath(), path],
                                 timeout: .seconds(120))
            #expect(r.status == 0, "\(path) failed:\n\(r.err)\n--- output ---\n\(r.out.suffix(3000))")
            #expect(r.err.isEmpty, "\(r.err)")
            // Run from the repository's root, an example rewrites none of its tracked files:
            // here, it makes no docs/ of its own.
            #expect(!FileManager.default.fileExists(atPath: dir + "/docs"), "\(path) wrote under docs/")
            if path.hasSuffix("09-pictures.repl") {
                for picture in ["09-inline.svg", "09-pool.svg"] {
                    let lanes = try SVGLanes(file: dir + "/.build/pictures/" + picture)
                    #expect(lanes.tasks.count >= 4, "\(picture): a lane per task")
                    #expect(lanes.pollLanes == 1)
                }
            }
        }
    }
}
