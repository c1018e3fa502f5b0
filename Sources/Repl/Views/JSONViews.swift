// `--json` output: one JSON document per command, for `corepl -c 'tasks --json' | jq .`.
// The runtime's snapshot types encode themselves (Runtime/Loop/Snapshot.swift, TaskModel.swift).
import Foundation
import Runtime

enum JSONViews {
    /// A breakpoint as `breaks --json` prints it.
    struct Breakpoint: Encodable {
        var id: Int
        var on: String
        var hits: Int
    }

    /// Encodes `value` as pretty, key-sorted JSON text.
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
