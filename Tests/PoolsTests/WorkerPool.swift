// The process pool's tests run corepl-worker (built with the tests) as its worker.
import Pools
import Testing

/// A process pool of `size` corepl-worker processes; nil, with an issue recorded, when
/// corepl-worker is not built.
func workerPool(size: Int, sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessPool? {
    guard let worker = ProcessPool.locate("corepl-worker") else {
        Issue.record("corepl-worker is not built", sourceLocation: sourceLocation)
        return nil
    }
    return try ProcessPool(size: size, executable: worker)
}
