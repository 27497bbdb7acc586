import Engine
import Foundation
import Lab
import XCTest

/// Decoy fits that stop once an image's verdict is settled (`DecoyFitStopping`, the default of
/// `symmetry score` and `evaluate --images`).
final class DecoyFitStoppingTests: XCTestCase {
    let rule = DecoyFitStopping(first: 3, round: 3, z: 3, scoreError: 0.02)
    let sixVerdicts = Array(0..<6)

    /// Scores that agree to within the rule's error, one per fit.
    func steadyScores(_ n: Int) -> [Double] { (0..<n).map { 0.8 + 0.001 * Double($0) } }

    func testUnanimousFitsAreSettledAndCloseCallsAreNot() {
        let clear = [[Double]](repeating: [0.9, 0.1, 0, 0, 0, 0], count: 3)
        XCTAssertTrue(
            rule.isSettled(clear, scores: steadyScores(clear.count), verdicts: sixVerdicts),
            "every fit leads by 0.8 with no spread")
        let close = [[0.6, 0.4, 0, 0, 0, 0], [0.3, 0.7, 0, 0, 0, 0], [0.55, 0.45, 0, 0, 0, 0]]
        XCTAssertFalse(
            rule.isSettled(close, scores: steadyScores(close.count), verdicts: sixVerdicts),
            "the lead changes sign from fit to fit")
        // A small lead with a small spread is settled; the same mean with a wide spread is not.
        let steady = [[0.52, 0.48, 0, 0, 0, 0], [0.53, 0.47, 0, 0, 0, 0], [0.51, 0.49, 0, 0, 0, 0]]
        XCTAssertTrue(rule.isSettled(steady, scores: steadyScores(steady.count), verdicts: sixVerdicts))
        let wide = [[0.9, 0.1, 0, 0, 0, 0], [0.2, 0.8, 0, 0, 0, 0], [0.44, 0.56, 0, 0, 0, 0]]
        XCTAssertFalse(rule.isSettled(wide, scores: steadyScores(wide.count), verdicts: sixVerdicts))
        XCTAssertFalse(
            rule.isSettled([clear[0]], scores: [0.8], verdicts: sixVerdicts), "one fit has no spread to judge")
        // A settled verdict whose score is still uncertain goes on.
        XCTAssertFalse(rule.isSettled(clear, scores: [0.5, 0.9, 0.7], verdicts: sixVerdicts))
    }

    /// Two classes that the pixel rules turn into the same verdict need not be told apart.
    func testClassesWithTheSameVerdictNeedNotBeToldApart() {
        let split = [[0.6, 0.4, 0, 0, 0, 0], [0.3, 0.7, 0, 0, 0, 0], [0.5, 0.5, 0, 0, 0, 0]]
        XCTAssertFalse(rule.isSettled(split, scores: steadyScores(split.count), verdicts: sixVerdicts))
        XCTAssertTrue(rule.isSettled(split, scores: steadyScores(split.count), verdicts: [1, 1, 2, 3, 4, 5]))
    }

    /// On the shipped detector: an image gets `first` fits, then `round` more at a time, and the fits
    /// it gets are the fixed-count run's first ones; clear templates stop early with the verdict that
    /// all the seeds give.
    func testImagesStopEarlyWithTheVerdictOfAllTheirSeeds() throws {
        let detector = try SymmetryDetector(checkpoint: ShippedSymmetryDetectorTests.checkpoint)
        let lib = SymmetryTemplates(size: detector.size, extrapolate: false)
        var rng = PRNG(seed: 2027)
        let templates = SymmetryClass.allCases.map { lib.template($0, epsilon: 0, rng: &rng) }
        let seeds = Array(UInt64(0)..<9)
        let all = detector.score(templates.map(\.pixels), seeds: seeds)
        var planned: [Int] = []
        let early = detector.score(templates.map(\.pixels), seeds: seeds, stopping: rule) { _, p in planned.append(p) }
        for (a, e) in zip(all, early) {
            XCTAssertTrue([3, 6, 9].contains(e.seeds), "\(e.seeds) fits")
            XCTAssertEqual(e.seedScores.count, e.seeds)
            // The same decoys; the classifier reads them in other batches (float rounding only).
            for (x, y) in zip(e.seedScores, a.seedScores.prefix(e.seeds)) { XCTAssertEqual(x, y, accuracy: 1e-5) }
            if e.seeds < seeds.count { XCTAssertEqual(e.mostLikely, a.mostLikely) }
        }
        let fits = early.reduce(0) { $0 + $1.seeds }
        XCTAssertLessThan(fits, templates.count * seeds.count, "exact templates settle before their last seed")
        XCTAssertEqual(planned.first, templates.count * seeds.count, "the first round plans every seed")
        XCTAssertEqual(planned.last, fits, "the last report is what was done")
        XCTAssertEqual(
            detector.score(templates.map(\.pixels), seeds: seeds, stopping: nil).map(\.seeds),
            [Int](repeating: seeds.count, count: templates.count), "without a rule every image gets every seed")
    }
}
