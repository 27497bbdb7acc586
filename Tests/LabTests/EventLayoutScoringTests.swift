import Datasets
import Formats
import Foundation
import Lab
import XCTest

/// Every event layout scores as its twin in GenLab's own layout (the same jets), trains a model
/// from its background, and is never mistaken for pictures.
final class EventLayoutScoringTests: XCTestCase {
    static let folder = repositoryRoot + "/Tests/DatasetsTests/Fixtures/events/"

    func testEveryLayoutScoresAsItsTwin() throws {
        let scorer = try AnomalyScorer(checkpoint: AnomalyScorerTests.checkpoint)
        let twin = try scorer.score(Self.folder + "genlab.h5")
        for name in ["toptagging_fixed.h5", "toptagging_table.h5", "atlas.h5"] {
            let table = try scorer.score(Self.folder + name)
            XCTAssertEqual(table.labels, twin.labels, name)
            for (a, b) in zip(table.column("mse_pt"), twin.column("mse_pt")) {
                XCTAssertEqual(a, b, accuracy: 0.02 * abs(b) + 1e-9, name)
            }
        }
        // Whole events are clustered again: most leading jets are the twin's jet exactly.
        let events = try scorer.score(Self.folder + "lhco_rnd.h5")
        XCTAssertEqual(events.labels, twin.labels)
        let same = zip(events.column("mse_pt"), twin.column("mse_pt")).filter { abs($0 - $1) <= 0.02 * abs($1) }.count
        XCTAssertGreaterThanOrEqual(same, 14, "\(same) of 20 events score as their twin")
        let jetnet = try scorer.score(Self.folder + "jetnet.h5"),
            twin30 = try scorer.score(Self.folder + "genlab_jetnet.h5")
        for (a, b) in zip(jetnet.column("mse_pt"), twin30.column("mse_pt")) {
            XCTAssertEqual(a, b, accuracy: 0.02 * abs(b) + 1e-9)
        }
    }

    func testAModelTrainsOnALabelledLayoutsBackgroundAlone() throws {
        let out = scratchFolder("layout-train")
        var o = TrainOptions()
        o.epochs = 1; o.batchSize = 5; o.quiet = true
        var warnings: [String] = []
        let saved = Warnings.handler
        Warnings.handler = { warnings.append($0) }
        defer { Warnings.handler = saved }
        let trainer = try TrainingSetup.make(
            kind: .ae, data: Self.folder + "toptagging_table.h5", out: out, options: o, model: .init())
        let background = try EventFile(Self.folder + "genlab.h5")!.read(0, 20).labels.filter { $0 == 0 }.count
        let used = try XCTUnwrap(trainer.images?.set.count)
        XCTAssertLessThan(background, 20)
        XCTAssertTrue(
            (1...background).contains(used), "\(used) images from \(background) background jets (less validation)")
        XCTAssertTrue(warnings.contains { $0.contains("signal events left out") }, "\(warnings)")
        _ = try trainer.train()
        let spec = try LoadedModel.load(out + "/checkpoint.safetensors").spec
        XCTAssertEqual(spec.jetRecord, JetImageRecord.standard(size: 25), "the preprocessing is recorded")
    }
}
