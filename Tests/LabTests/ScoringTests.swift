import Datasets
import Engine
import Formats
import Lab
import Physics
import XCTest

final class ROCTests: XCTestCase {
    func testAUCIsTheProbabilityThatSignalOutscoresBackground() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.5, 0.5]
        let labels = [0, 0, 1, 1, 1, 0]
        // Pairs (signal, background): 9; signal wins 0.35>0.1, 0.8>all, 0.5>0.1, 0.5>0.4, tie 0.5=0.5 → 1 + 3 + 2 +
        // 0.5 = 6.5.
        XCTAssertEqual(ROC(scores: scores, labels: labels).auc, 6.5 / 9, accuracy: 1e-12)
        let perfect = ROC(scores: [1, 2, 3, 4], labels: [0, 0, 1, 1])
        XCTAssertEqual(perfect.auc, 1)
        XCTAssertEqual(perfect.backgroundEfficiency(atSignal: 0.5), 0)
        XCTAssertEqual(ROC(scores: [1, 2, 3, 4], labels: [1, 1, 0, 0]).auc, 0)
    }

    func testThresholdGivesTheAskedFalsePositiveRate() {
        let bkg = (0..<1000).map(Double.init)
        let t = threshold(forFalsePositiveRate: 0.01, background: bkg)
        XCTAssertEqual(bkg.filter { $0 > t }.count, 10)
    }

    func testCorrelationAndHistogram() {
        XCTAssertEqual(correlation([1, 2, 3], [2, 4, 6]), 1, accuracy: 1e-12)
        XCTAssertEqual(correlation([1, 2, 3], [3, 2, 1]), -1, accuracy: 1e-12)
        let h = histogram([0.1, 0.2, 0.6, 5], bins: 2, range: (0, 1), density: false)
        XCTAssertEqual(h.counts, [2, 1])
    }
}

final class JetImageTests: XCTestCase {
    /// GenLab's preprocessing against the Python reference (make_jets.py) on the same stored jets.
    func testMatchesTheReferencePreprocessingPixelForPixel() throws {
        let url = Bundle.module.url(forResource: "jet_images", withExtension: "json", subdirectory: "Fixtures")!
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: [[String: Any]]]
        var compared = 0
        for (name, cases) in reference {
            let file = try HDF5File(repositoryRoot + "/Datasets/jets/\(name).h5")
            let c = try file.readRows("/constituents", 0, cases.count), j = try file.readRows("/jets", 0, cases.count)
            let m = c.shape[1], p = c.storage.pointer, q = j.storage.pointer
            for item in cases {
                let k = item["index"] as! Int
                let rows = (0..<m).map {
                    (
                        pt: Double(p[(k * m + $0) * 3]), eta: Double(p[(k * m + $0) * 3 + 1]),
                        phi: Double(p[(k * m + $0) * 3 + 2])
                    )
                }
                let mine = try XCTUnwrap(
                    JetImage().image(rows, jetEta: Double(q[k * 4 + 1]), jetPhi: Double(q[k * 4 + 2])))
                let theirs = (item["image"] as! [NSNumber]).map(\.floatValue)
                for (a, b) in zip(mine, theirs) {
                    XCTAssertEqual(a, b, accuracy: 1e-3 * max(1, abs(b)), "\(name) jet \(k)")
                }
                compared += 1
            }
        }
        XCTAssertEqual(compared, 45)
        XCTAssertNil(JetImage().image([(0, 0, 0)], jetEta: 0, jetPhi: 0), "an empty jet has no image")
    }
}

final class AnomalyScorerTests: XCTestCase {
    static var checkpoint: String = {
        let folder = scratchFolder("scorer-ae")
        var o = TrainOptions()
        o.epochs = 1; o.batchSize = 128; o.seed = 3; o.quiet = true; o.maxSteps = 30
        let t = try! TrainingSetup.make(
            kind: .ae, data: repositoryRoot + "/Datasets/jets/qcd_train.h5", out: folder, options: o, model: .init())
        try! t.train()
        return folder + "/checkpoint.safetensors"
    }()

    func testScoresImagesAndConstituentsAlikeAndSeparatesTopFromQCD() throws {
        let scorer = try AnomalyScorer(checkpoint: AnomalyScorerTests.checkpoint)
        scorer.chunkSize = 300
        var table = try scorer.score(repositoryRoot + "/Datasets/jets/qcd_test.h5")
        table.append(try scorer.score(repositoryRoot + "/Datasets/jets/top_test.h5"))
        XCTAssertEqual(table.count, 5000)
        XCTAssertTrue(table.problem.allSatisfy { $0 == nil })
        let auc = ROC(scores: table.column("mse_pt"), labels: table.labels.map { $0! }).auc
        XCTAssertGreaterThan(auc, 0.75, "even 30 steps of training separate top from QCD")

        // The same jets as constituents only: images are rebuilt with the checkpoint's preprocessing.
        let src = try HDF5File(repositoryRoot + "/Datasets/jets/top_test.h5")
        let path = scratchFolder("constituents.h5")
        try HDF5File.write(to: path) { f in
            try f.write("/constituents", try src.readRows("/constituents", 0, 50))
            try f.write("/jets", try src.readRows("/jets", 0, 50))
        }
        let fromConstituents = try scorer.score(path).column("mse")
        let fromImages = Array(table.column("mse")[3000..<3050])
        for (a, b) in zip(fromConstituents, fromImages) { XCTAssertEqual(a, b, accuracy: 0.02 * b + 1e-9) }
    }

    func testBadEventsAreFlaggedWithAReasonAndBadFilesAreErrors() throws {
        let scorer = try AnomalyScorer(checkpoint: AnomalyScorerTests.checkpoint)
        var images = [Float](repeating: 0, count: 3 * 625)
        images[700] = .nan  // event 1: NaN
        images[1300] = 5  // event 2: fine; event 0: empty
        let path = scratchFolder("bad.h5")
        try HDF5File.write(to: path) { f in try f.write("/images", Tensor(shape: [3, 25, 25], data: images)) }
        let t = try scorer.score(path)
        XCTAssertEqual(t.problem[0], "empty jet (zero total pT)")
        XCTAssertEqual(t.problem[1], "non-finite input (NaN/Inf)")
        XCTAssertNil(t.problem[2])
        XCTAssertTrue(t.column("mse")[0].isNaN && t.column("mse")[1].isNaN && t.column("mse")[2].isFinite)

        let wrongSize = scratchFolder("wrong.h5")
        try HDF5File.write(to: wrongSize) { f in try f.write("/images", Tensor.ones([2, 32, 32])) }
        XCTAssertThrowsError(try scorer.score(wrongSize)) {
            XCTAssertTrue("\($0)".contains("32×32") && "\($0)".contains("25×25"), "\($0)")
        }
        let noEvents = scratchFolder("none.h5")
        try HDF5File.write(to: noEvents) { f in try f.write("/other", Tensor.ones([2, 3])) }
        XCTAssertThrowsError(try scorer.score(noEvents)) {
            XCTAssertTrue("\($0)".contains("neither /images nor /constituents"), "\($0)")
        }
        let plain = scratchFolder("plain.safetensors")
        try SafeTensors.write(["w": Tensor.ones([2])], to: plain)
        XCTAssertThrowsError(try AnomalyScorer(checkpoint: plain)) {
            XCTAssertTrue("\($0)".contains("cannot score"), "\($0)")
        }
    }
}

/// Whole events in the LHC Olympics layout: clustered, the leading jet (or two) scored.
final class WholeEventScoringTests: XCTestCase {
    func testScoresWholeEventsInTheLHCOlympicsLayout() throws {
        let scorer = try AnomalyScorer(checkpoint: AnomalyScorerTests.checkpoint)
        let t = try scorer.score(repositoryRoot + "/Datasets/jets/lhco_events.h5")
        XCTAssertEqual(t.count, 200)
        XCTAssertEqual(Set(t.labels.compactMap { $0 }), [0, 1])
        XCTAssertGreaterThan(t.column("mse").filter(\.isFinite).count, 190)
        XCTAssertTrue(t.mass.compactMap { $0 }.allSatisfy { $0 > 0 })
        // Two jets an event: each event's score is the larger of its two jets'.
        scorer.jetsPerEvent = 2
        let two = try scorer.score(repositoryRoot + "/Datasets/jets/lhco_events.h5")
        for (a, b) in zip(t.column("mse"), two.column("mse")) where a.isFinite { XCTAssertGreaterThanOrEqual(b, a) }
        XCTAssertTrue(zip(t.column("mse"), two.column("mse")).contains { $0.1 > $0.0 })
    }
}

/// One routine turns a data file into a trained model's inputs for scoring, inspection and quality:
/// a file of constituents alone gives the images a file of stored images gives.
final class ModelInputsTests: XCTestCase {
    func testConstituentsAloneGiveTheStoredJetImages() throws {
        let source = try HDF5File(repositoryRoot + "/Datasets/jets/qcd_test.h5")
        let constituents = try source.readRows("/constituents", 0, 40)
        let path = scratchFolder("constituents-only") + ".h5"
        try HDF5File.write(to: path) { f in
            try f.write("/constituents", constituents)
            for (k, v) in try source.attributes() { try f.setAttribute(k, v) }
        }
        let record = try XCTUnwrap(JetImageRecord(attributes: try source.attributes()))
        let spec = DataSpec(source: "test", imageSize: 25, channels: 1, scaling: .unitSum, preprocessing: record.text)
        let made = try ModelInputs.images(path, spec: spec)
        let stored = try ModelInputs.images(repositoryRoot + "/Datasets/jets/qcd_test.h5", spec: spec, limit: 40)
        XCTAssertEqual(made.images.shape, [40, 1, 25, 25])
        XCTAssertEqual(stored.images.shape, made.images.shape)
        for (a, b) in zip(made.images.scalars, stored.images.scalars) {
            XCTAssertEqual(a, b, accuracy: 1e-3 * max(1, abs(b)))
        }
    }
}
