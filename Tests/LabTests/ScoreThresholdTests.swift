import Engine
import Lab
import XCTest

/// The scoring policy (`ScoreThreshold.choose`): which background sets the threshold, on which
/// score, in which units — checked on tables whose answer is known.
final class ScoreThresholdTests: XCTestCase {
    /// `n` events whose score grows with the jet mass (a sculpting score), labelled `label`.
    func table(_ n: Int, label: Int?, seed: UInt64, shift: Double = 0) -> AnomalyScorer.Table {
        var rng = PRNG(seed: seed)
        var t = AnomalyScorer.Table(names: ["mse"])
        var scores: [Double] = []
        for i in 0..<n {
            let mass = 20 + 200 * Double(rng.nextFloat())
            scores.append(mass / 100 + Double(rng.nextFloat()) + shift)
            t.mass.append(mass); t.labels.append(label); t.file.append("f"); t.index.append(i); t.problem.append(nil)
        }
        t.scores = [scores]
        return t
    }

    func flaggedFraction(_ values: [Double], above cut: Double) -> Double {
        Double(values.filter { $0 > cut }.count) / Double(values.count)
    }

    func testFalsePositiveRateOnLabelledBackgroundOrAllEvents() {
        var t = table(2000, label: 0, seed: 1)
        t.append(table(500, label: 1, seed: 2, shift: 1))
        let cut = ScoreThreshold.choose(
            .falsePositiveRate(0.05), primary: "mse", table: &t, calibration: nil, decorrelateMass: false)
        XCTAssertEqual(cut.score, "mse")
        XCTAssertEqual(cut.source, "fpr on labelled background 0.05")
        XCTAssertEqual(cut.falsePositiveRate, 0.05)
        XCTAssertEqual(flaggedFraction(t.backgroundScores("mse"), above: cut.value), 0.05, accuracy: 0.001)

        var unlabelled = table(1000, label: nil, seed: 3)
        let all = ScoreThreshold.choose(
            .falsePositiveRate(0.1), primary: "mse", table: &unlabelled, calibration: nil, decorrelateMass: false)
        XCTAssertEqual(all.source, "fpr on all events (no labels) 0.1")
        XCTAssertEqual(flaggedFraction(unlabelled.column("mse"), above: all.value), 0.1, accuracy: 0.002)

        let q = ScoreThreshold.choose(
            .quantile(0.9), primary: "mse", table: &unlabelled, calibration: nil, decorrelateMass: false)
        XCTAssertNil(q.falsePositiveRate)
        XCTAssertEqual(flaggedFraction(unlabelled.column("mse"), above: q.value), 0.1, accuracy: 0.002)
    }

    /// With a calibration file and mass decorrelation, the threshold and the thresholded score are
    /// in the same units (quantiles against the calibration background), so background events
    /// drawn like the calibration are flagged at the asked rate, in every mass range alike.
    func testDecorrelatedThresholdWithACalibrationFileIsInTheScoresUnits() {
        var events = table(4000, label: nil, seed: 4)
        let calibration = table(4000, label: nil, seed: 5)
        let cut = ScoreThreshold.choose(
            .falsePositiveRate(0.05), primary: "mse", table: &events, calibration: ("bkg.h5", calibration),
            decorrelateMass: true)
        XCTAssertEqual(cut.score, "mse_mass_decorrelated")
        XCTAssertEqual(cut.source, "fpr on bkg.h5 0.05")
        XCTAssertTrue((0...1).contains(cut.value), "a quantile threshold, not a raw score: \(cut.value)")
        let d = events.column("mse_mass_decorrelated")
        XCTAssertEqual(flaggedFraction(d, above: cut.value), 0.05, accuracy: 0.015)
        // No mass sculpting: light and heavy jets are flagged alike (the raw score would flag only heavy ones).
        let light = d.indices.filter { events.mass[$0]! < 80 }.map { d[$0] },
            heavy = d.indices.filter { events.mass[$0]! > 160 }.map { d[$0] }
        XCTAssertEqual(
            flaggedFraction(light, above: cut.value), flaggedFraction(heavy, above: cut.value), accuracy: 0.03)
        let raw = events.column("mse"),
            rawCut = ScoreThreshold.choose(
                .falsePositiveRate(0.05), primary: "mse", table: &events,
                calibration: ("bkg.h5", calibration), decorrelateMass: false
            ).value
        let rawLight = raw.indices.filter { events.mass[$0]! < 80 }.map { raw[$0] }
        XCTAssertEqual(flaggedFraction(rawLight, above: rawCut), 0, "the raw score sculpts: no light jet passes")
    }

    func testTooFewBackgroundMassesKeepTheRawScore() {
        var t = table(50, label: 0, seed: 6)
        let cut = ScoreThreshold.choose(
            .falsePositiveRate(0.1), primary: "mse", table: &t, calibration: nil, decorrelateMass: true)
        XCTAssertEqual(cut.score, "mse")
        XCTAssertEqual(t.names, ["mse"])
    }
}
