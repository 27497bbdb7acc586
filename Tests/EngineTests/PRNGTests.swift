import Engine
import XCTest

final class PRNGTests: XCTestCase {
    func testSameSeedSameStreamAndKnownFirstValues() {
        var a = PRNG(seed: 42), b = PRNG(seed: 42)
        let first = (0..<4).map { _ in a.next() }
        XCTAssertEqual(first, (0..<4).map { _ in b.next() })
        var g = PRNG(seed: 42)
        XCTAssertEqual((0..<3).map { _ in g.next() }, PRNGTests.golden42)
        XCTAssertNotEqual(PRNG(seed: 43).stateWords, PRNG(seed: 42).stateWords)
    }

    // xoshiro256** after SplitMix64 seeding with 42, computed independently (Python, the reference
    // algorithm): a change here breaks the reproducibility of every saved seed.
    static let golden42: [UInt64] = [1546998764402558742, 6990951692964543102, 12544586762248559009]

    func testStateRoundTripsExactly() {
        var a = PRNG(seed: 5)
        _ = a.next()
        var b = PRNG(state: a.stateWords)
        XCTAssertEqual((0..<10).map { _ in a.nextFloat() }, (0..<10).map { _ in b.nextFloat() })
    }

    func testUniformAndNormalMoments() {
        var rng = PRNG(seed: 1)
        let u = Tensor.uniform([200_000], low: -1, high: 3, rng: &rng).scalars
        XCTAssertTrue(u.allSatisfy { $0 >= -1 && $0 < 3 })
        let um = u.reduce(0, +) / Float(u.count)
        XCTAssertEqual(um, 1, accuracy: 0.01)
        let n = Tensor.normal([200_001], mean: 2, std: 0.5, rng: &rng).scalars
        let mean = n.reduce(0, +) / Float(n.count)
        let variance = n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(n.count)
        XCTAssertEqual(mean, 2, accuracy: 0.01)
        XCTAssertEqual(variance.squareRoot(), 0.5, accuracy: 0.01)
    }

    func testIntegersPermutationsAndForks() {
        var rng = PRNG(seed: 9)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[rng.nextInt(7)] += 1 }
        XCTAssertTrue(counts.allSatisfy { abs($0 - 10_000) < 500 }, "\(counts)")
        let p = rng.permutation(1000)
        XCTAssertEqual(Set(p).count, 1000)
        XCTAssertNotEqual(p, Array(0..<1000))
        let f1 = rng.fork(1), f2 = rng.fork(2)
        XCTAssertNotEqual(f1.stateWords, f2.stateWords)
        XCTAssertEqual(rng.fork(1).stateWords, f1.stateWords, "forking does not advance the parent")
    }
}
