// The monitor's histograms give HdrHistogram's answers: `Nanos` is checked against
// hdrhistogram-swift's `Histogram`, configured as `Nanos` was before it had buckets of its
// own, on the same values.
import Histogram
import Insight
import Testing

@Suite struct NanosTests {
    /// Values spread over many magnitudes (1 ns … beyond an hour, clamped), from a fixed
    /// seed.
    static func values(_ n: Int, seed: UInt64) -> [UInt64] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let magnitude = (state >> 58) % 44  // up to 2^43 ns (2.4 h)
            let x = (state >> 8) & ((1 << magnitude) - 1)
            return x
        }
    }

    /// count, p50, p90, p99, p99.9, max.
    static func figures(_ d: Distribution) -> [UInt64] { [d.count, d.p50, d.p90, d.p99, d.p999, d.max] }

    static func reference(_ values: [UInt64], compact: Bool) -> [UInt64] {
        var h = compact
            ? Histogram<UInt32>(numberOfSignificantValueDigits: .two)
            : Histogram<UInt32>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000,
                                numberOfSignificantValueDigits: .three)
        for v in values { h.record(min(max(v, 1), 3_600_000_000_000)) }
        return [h.totalCount, h.valueAtPercentile(50), h.valueAtPercentile(90), h.valueAtPercentile(99),
                h.valueAtPercentile(99.9), h.max]
    }

    @Test(arguments: [false, true])
    func sameAnswersAsHdrHistogram(compact: Bool) {
        for (n, seed) in [(1, 1), (7, 2), (1_000, 3), (100_000, 4)] as [(Int, UInt64)] {
            let values = Self.values(n, seed: seed)
            var nanos = Nanos(compact: compact)
            for v in values { nanos.record(v) }
            #expect(Self.figures(nanos.distribution) == Self.reference(values, compact: compact),
                    "n=\(n) compact=\(compact)")
        }
        // Steps of a loop: tens of nanoseconds to microseconds, one value at each edge.
        var nanos = Nanos(compact: compact)
        let edges: [UInt64] = [0, 1, 2, 255, 256, 257, 2047, 2048, 2049, 4095, 4096, 1 << 40, 3_600_000_000_000, .max]
        for v in edges { nanos.record(v) }
        #expect(Self.figures(nanos.distribution) == Self.reference(edges, compact: compact))
        #expect(Nanos(compact: compact).distribution.p99 == 0)
    }

    @Test func aCopyKeepsItsOwnCounts() {
        var a = Nanos()
        for v in 1...100 as ClosedRange<UInt64> { a.record(v * 1_000) }
        let kept = a
        for _ in 0..<1_000 { a.record(5_000_000) }
        #expect(kept.count == 100)
        #expect(Self.figures(kept.distribution) == Self.reference((1...100).map { $0 * 1_000 }, compact: false))
        #expect(a.count == 1_100)
        #expect(a.distribution.p50 > kept.distribution.max)
    }
}
