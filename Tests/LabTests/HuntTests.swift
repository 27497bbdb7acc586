import Datasets
import Engine
import Foundation
import Lab
import XCTest

/// The resonant hunt on toy tables written by pandas (scripts/python/make_hunt_fixtures.py, which
/// shares nothing with the Pythia generator): the readers, the derived features, the methods'
/// ordering with signal, and the null test without it.
final class HuntTests: XCTestCase {
    enum Fixture {
        static func path(_ name: String) -> String { repositoryRoot + "/Tests/LabTests/Fixtures/" + name }
    }

    func testFeatureTablesFromPandasFixedTableAndH5pyLayoutsAgree() throws {
        let fixed = try FeatureTable(paths: [Fixture.path("hunt_toy.h5")])
        let table = try FeatureTable(paths: [Fixture.path("hunt_toy_table.h5")])
        let plain = try FeatureTable(paths: [Fixture.path("hunt_toy_h5py.h5")])
        XCTAssertEqual(fixed.rows, 27_000)
        XCTAssertEqual(table.rows, 200)
        XCTAssertEqual(plain.rows, 200)
        for name in FeatureTable.huntFeatures + ["label"] {
            let a = try Array(fixed.column(name).prefix(200)), b = try table.column(name), c = try plain.column(name)
            XCTAssertEqual(a, b, name)
            XCTAssertEqual(a, c, name)
        }
        // m_jj as numpy computes it from the same four-vectors (make_hunt_fixtures.py prints these).
        let mjj = try fixed.column("mjj")
        for (got, want) in zip(mjj.prefix(3), [2.76441, 2.84204, 3.54304]) {
            XCTAssertEqual(Double(got), want, accuracy: 1e-4)
        }
        // Jets ordered by mass: ΔmJ ≥ 0 and mJ1 the lighter.
        XCTAssertTrue(try fixed.column("deltaMJ").allSatisfy { $0 >= 0 })
        XCTAssertThrowsError(try fixed.column("nope")) {
            XCTAssertTrue("\($0)".contains("has no column nope"), "\($0)")
        }
    }

    func quickOptions(_ fractions: [Double]) -> HuntOptions {
        var o = HuntOptions()
        o.signalFractions = fractions
        o.flowEpochs = 10
        o.classifier.epochs = 10
        o.classifierSeeds = 2
        return o
    }

    func testWithSignalTheMethodsFindItAndWithoutItNoneDoes() throws {
        let table = try FeatureTable(paths: [Fixture.path("hunt_toy.h5")])
        let runner = try HuntRunner(table: table, options: quickOptions([0, 0.2]))
        runner.log = { _ in }
        let experiments = try runner.run()
        func sic(_ e: HuntExperiment, _ m: HuntMethod) -> Double { e.results.first { $0.method == m }!.maxSICMean }
        let null = experiments[0], signal = experiments[1]
        XCTAssertEqual(null.injectedInRegion, 0)
        XCTAssertEqual(signal.signalOverBackground, 0.2, accuracy: 0.001)
        // With signal: the supervised ceiling, the idealised detector and CATHODE all find it.
        XCTAssertGreaterThan(sic(signal, .supervised), 3.5)
        XCTAssertGreaterThan(sic(signal, .iad), 3)
        XCTAssertGreaterThan(sic(signal, .cathode), 2.5)
        // Without: the weakly supervised classifiers gain nothing over no cut.
        XCTAssertLessThan(sic(null, .cathode), 2)
        XCTAssertLessThan(sic(null, .cwola), 2)
        XCTAssertLessThan(sic(null, .iad), 2)
        // The supervised classifier does not need injected signal.
        XCTAssertGreaterThan(sic(null, .supervised), 3.5)
        // The null test is judged where no signal was injected, for the weakly supervised methods alone.
        for r in null.results { XCTAssertEqual(r.nullTestClean == nil, r.method == .supervised, "\(r.method)") }
        XCTAssertTrue(signal.results.allSatisfy { $0.nullTestClean == nil })
        // The side-band flow's samples in the SR are close to the true SR background: a classifier
        // told to separate them does little better than a coin.
        let fidelity = try XCTUnwrap(null.flowFidelityAUC)
        XCTAssertGreaterThan(fidelity, 0.45)
        XCTAssertLessThan(fidelity, 0.6)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hunt-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try HuntReport.write(experiments, options: runner.options, sources: table.sources, folder: folder)
        for name in ["report.json", "report.html", "max_sic_vs_sb.png", "mjj_after_cuts_cathode_sb0.2000.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/" + name), name)
        }
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("a classifier&#39;s AUC") || html.contains("a classifier's AUC"))
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: folder + "/report.json")))
        let document = try XCTUnwrap(json as? [String: Any])
        XCTAssertEqual((document["experiments"] as? [Any])?.count, 2)
    }

    func testInjectedSignalIsAFairDrawOfTheSignal() throws {
        // The test set's share of signal-region signal must not thin the injected draw there: the
        // injected events fall in the SR as often as signal does overall.
        let table = try FeatureTable(paths: [Fixture.path("hunt_toy.h5")])
        let labels = try table.column("label"), mjj = try table.column("mjj")
        let signal = (0..<table.rows).filter { labels[$0] == 1 }
        let share = Double(signal.filter { mjj[$0] >= 3.3 && mjj[$0] < 3.7 }.count) / Double(signal.count)
        let sample = try HuntSample(table: table, region: 3.3...3.7, fraction: 0.2, seed: 4)
        XCTAssertEqual(Double(sample.injectedInRegion) / Double(sample.injected), share, accuracy: 0.08)
        XCTAssertTrue(Set(sample.testSignal).isDisjoint(with: sample.data))
        XCTAssertTrue(Set(sample.testBackground).isDisjoint(with: sample.data))
        XCTAssertTrue(Set(sample.reference).isDisjoint(with: sample.data))
    }

    func testATableTooSmallForTheHuntIsRefusedByName() throws {
        let table = try FeatureTable(paths: [Fixture.path("hunt_toy_table.h5")])
        var options = quickOptions([0])
        options.methods = [.cwola]
        let runner = try HuntRunner(table: table, options: options)
        runner.log = { _ in }
        XCTAssertThrowsError(try runner.run()) {
            XCTAssertTrue("\($0)".contains("hunt_toy_table.h5") && "\($0)".contains("too few events"), "\($0)")
        }
    }

    func testAnInjectionTheFileCannotHoldIsRefusedByName() throws {
        // 100 background and 30 signal events, all at m_jj = 3.5: S/B = 0.6 needs 24 signal events in
        // the data's signal region (40 background there), but a quarter of the signal is kept for the test.
        let rows = (0..<100).map { _ in [Float(3.5), 0] } + (0..<30).map { _ in [Float(3.5), 1] }
        let table = FeatureTable(names: ["mjj", "label"], values: rows.flatMap { $0 }, sources: ["toy.h5"])
        XCTAssertNoThrow(try HuntSample(table: table, region: 3.3...3.7, fraction: 0.5, seed: 0))
        XCTAssertThrowsError(try HuntSample(table: table, region: 3.3...3.7, fraction: 0.6, seed: 0)) {
            XCTAssertTrue("\($0)".contains("toy.h5") && "\($0)".contains("needs 24 signal events"), "\($0)")
        }
    }

    /// CWoLa's side bands are weighted so that their mean m_jj is the signal region's, whatever
    /// the slope of the spectrum; uniform where the SR's mean is not between the bands'.
    func testCWoLaSideBandsAreBalancedToTheSignalRegionsMeanMass() {
        let below = (0..<900).map { 3.1 + 0.2 * Double($0) / 900 },
            above = (0..<100).map { 3.7 + 0.2 * Double($0) / 100 }
        let region = (0..<300).map { 3.3 + 0.3 * Double($0) / 300 }
        let (wL, wH) = HuntRunner.balancedBandWeights(below: below, above: above, region: region)
        let weighted =
            (below.reduce(0, +) * Double(wL) + above.reduce(0, +) * Double(wH))
            / (Double(below.count) * Double(wL) + Double(above.count) * Double(wH))
        XCTAssertEqual(weighted, region.reduce(0, +) / Double(region.count), accuracy: 1e-5)
        XCTAssertEqual(Double(below.count) * Double(wL) + Double(above.count) * Double(wH), 1000, accuracy: 0.01)
        XCTAssertGreaterThan(wH, wL)
        let (a, b) = HuntRunner.balancedBandWeights(below: below, above: above, region: [3.95])
        XCTAssertEqual([a, b], [1, 1])
    }

    /// Several data seeds pool into one result per S/B: every data seed × classifier seed's max SIC.
    func testDataSeedsPoolIntoOneResultPerSignalFraction() {
        func experiment(_ sb: Double, _ sics: [Double]) -> HuntExperiment {
            HuntExperiment(
                requestedFraction: 0.01, signalOverBackground: sb, significance: 1, injected: 10, injectedInRegion: 8,
                dataEvents: 100, dataInRegion: 20, testBackground: 30, testSignal: 5,
                results: [
                    HuntMethodResult(
                        method: .cathode, maxSIC: sics, auc: [0.5], sicCurve: ([0, 1], [0, 1]),
                        backgroundMjjAfterCuts: [:], seconds: 2)
                ], flowValidationNLL: -2, interpolationW1: ["mJ1": 0.01], truthW1: ["mJ1": 0.002])
        }
        let pooled = HuntExperiment.pooled(
            [[experiment(0.010, [4, 6])], [experiment(0.012, [8, 10])]], seeds: [0, 1])
        XCTAssertEqual(pooled.count, 1)
        let r = pooled[0].results[0]
        XCTAssertEqual(r.maxSIC, [4, 6, 8, 10])
        XCTAssertEqual(r.maxSICMean, 7, accuracy: 1e-12)
        XCTAssertEqual(r.maxSICSpread, (20.0 / 3).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(r.seconds, 4)
        XCTAssertEqual(pooled[0].signalOverBackground, 0.011, accuracy: 1e-12)
        XCTAssertEqual(pooled[0].dataSeeds, [0, 1])
        XCTAssertEqual(pooled[0].interpolationW1?["mJ1"] ?? 0, 0.01, accuracy: 1e-12)
        XCTAssertEqual(HuntExperiment.pooled([[experiment(0.01, [3])]], seeds: [5])[0].dataSeeds, nil)
    }

    /// The null test's verdict: a method clean by max SIC but whose classifier ranks signal above
    /// background with nothing to learn from fails it, as does one above the max-SIC limit; the
    /// supervised classifier and experiments with signal get no verdict; the verdict survives
    /// report.json and pooling.
    func testTheNullTestFlagsAMethodThatFindsSignalWhereThereIsNone() throws {
        func result(_ m: HuntMethod, _ sics: [Double], _ aucs: [Double]) -> HuntMethodResult {
            HuntMethodResult(
                method: m, maxSIC: sics, auc: aucs, sicCurve: ([0, 1], [0, 1]), backgroundMjjAfterCuts: [:], seconds: 1)
        }
        func experiment(injected: Int) -> HuntExperiment {
            var e = HuntExperiment(
                requestedFraction: 0, signalOverBackground: 0, significance: 0, injected: injected,
                injectedInRegion: injected, dataEvents: 100, dataInRegion: 20, testBackground: 30, testSignal: 5,
                results: [
                    result(.iad, [1.02, 1.06], [0.5, 0.52]), result(.cwola, [1.1, 1.2], [0.77, 0.8]),
                    result(.cathode, [1.4, 1.3], [0.55, 0.5]), result(.supervised, [9, 9], [0.99, 0.99]),
                ], flowValidationNLL: nil)
            e.judgeNullTest()
            return e
        }
        let null = experiment(injected: 0)
        XCTAssertEqual(null.results.map(\.nullTestClean), [true, false, false, nil])
        XCTAssertEqual(null.nullTestFailures.count, 2)
        XCTAssertTrue(
            null.nullTestLine?.contains("FAILED: cwola (max SIC 1.15, AUC 0.785)") ?? false,
            "\(null.nullTestLine ?? "")")
        XCTAssertTrue(experiment(injected: 3).results.allSatisfy { $0.nullTestClean == nil })
        XCTAssertNil(experiment(injected: 3).nullTestLine)
        let decoded = try JSONDecoder().decode(HuntExperiment.self, from: JSONEncoder().encode(null))
        XCTAssertEqual(decoded.results.map(\.nullTestClean), [true, false, false, nil])
        let pooled = HuntExperiment.pooled([[null], [null]], seeds: [0, 1])
        XCTAssertEqual(pooled[0].results.map(\.nullTestClean), [true, false, false, nil])
    }

    /// Keeping several epochs changes what the members say, not how they train: the validation
    /// losses are the same, the outputs are the mean over the kept epochs, and no more epochs are
    /// kept than were run.
    func testClassifiersAverageTheirBestEpochsWithoutTrainingDifferently() {
        var rng = PRNG(seed: 3)
        let n = 2000
        let x = Tensor.normal([n, 2], rng: &rng)
        // Class 1 is shifted along the first feature: a weak, learnable difference.
        let labels = (0..<n).map { $0 % 2 }
        for i in 0..<n where labels[i] == 1 { x.storage.pointer[2 * i] += 0.8 }
        let members = (0..<2).map { k in
            ClassifierEnsemble.Member(
                training: Array(stride(from: k, to: 1500, by: 1)), validation: Array(1500..<n), seed: UInt64(k))
        }
        func ensemble(epochs: Int, kept: Int) -> ClassifierEnsemble {
            var c = ClassifierEnsemble.Config()
            c.hidden = [16]; c.epochs = epochs; c.keptEpochs = kept; c.batchSize = 32
            return ClassifierEnsemble(config: c, inputs: x, labels: labels, members: members)
        }
        let one = ensemble(epochs: 6, kept: 1), four = ensemble(epochs: 6, kept: 4)
        XCTAssertEqual(one.bestLoss, four.bestLoss)
        XCTAssertEqual(one.bestEpoch, four.bestEpoch)
        let test = Tensor.normal([400, 2], rng: &rng)
        let p1 = one.probability(test, members: [0, 1]), p4 = four.probability(test, members: [0, 1])
        XCTAssertNotEqual(p1, p4)
        // Both separate the classes, the averaged one no worse than a little below the best epoch's.
        let scores = one.probability(x, members: [0]), averaged = four.probability(x, members: [0])
        let auc1 = ROC(scores: scores, labels: labels).auc, auc4 = ROC(scores: averaged, labels: labels).auc
        XCTAssertGreaterThan(auc1, 0.65)
        XCTAssertGreaterThan(auc4, auc1 - 0.02)
        // One epoch run: every kept count is that epoch alone.
        XCTAssertEqual(
            ensemble(epochs: 1, kept: 1).probability(test, members: [1]),
            ensemble(epochs: 1, kept: 5).probability(test, members: [1]))
    }
}
