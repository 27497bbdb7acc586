import Datasets
import Engine
import Formats
import Foundation
import Lab
import Models
import NN
import XCTest

/// `train flow` through the shared loop: exact resume, the checkpoint's flow reloaded alone, the
/// side bands left out, and hostile tables refused by name.
final class FlowTrainingTests: XCTestCase {
    let toy = repositoryRoot + "/Tests/LabTests/Fixtures/hunt_toy.h5"

    func options(maxSteps: Int? = nil) -> TrainOptions {
        var o = TrainOptions()
        o.epochs = 2; o.batchSize = 256; o.seed = 3; o.quiet = true; o.maxSteps = maxSteps
        return o
    }

    var flowOptions: FlowOptions {
        var f = FlowOptions()
        f.blocks = 3; f.hidden = [32, 32]
        f.exclude = [RangeCut(column: "mjj", low: 3.3, high: 3.7)]
        f.backgroundOnly = true
        return f
    }

    func testFlowRunResumesExactlyAndItsCheckpointSamples() throws {
        let straight = scratchFolder("flow-straight"), split = scratchFolder("flow-split")
        let s = try TrainingSetup.makeFlow(data: toy, out: straight, options: options(), flow: flowOptions).train()
        XCTAssertGreaterThan(s.steps, 50)
        _ = try TrainingSetup.makeFlow(data: toy, out: split, options: options(maxSteps: 7), flow: flowOptions).train()
        _ = try TrainingSetup.makeFlow(data: toy, out: split, options: options(), flow: flowOptions).train(resume: true)
        let wa = try SafeTensors.read(straight + "/checkpoint.safetensors").tensors
        let wb = try SafeTensors.read(split + "/checkpoint.safetensors").tensors
        for (k, t) in wa where !k.hasPrefix("_optimizer") {
            XCTAssertEqual(t.scalars, wb[k]?.scalars, "\(k) differs after resuming")
        }
        // The checkpoint alone rebuilds the flow; it models the side-band background it saw.
        let flow = try ConditionalFlow.load(straight + "/checkpoint.safetensors")
        XCTAssertEqual(flow.config.featureNames, ["mJ1", "deltaMJ", "tau21J1", "tau21J2"])
        let table = try FeatureTable(paths: [toy])
        let rows = try flowOptions.selectedRows(table)
        let labels = try table.column("label"), mjj = try table.column("mjj")
        XCTAssertTrue(rows.allSatisfy { labels[$0] == 0 && !(mjj[$0] >= 3.3 && mjj[$0] < 3.7) })
        let metrics = try String(contentsOfFile: straight + "/metrics.csv", encoding: .utf8)
        XCTAssertTrue(metrics.hasPrefix("step,epoch,loss,val_nll"), metrics)
        var rng = PRNG(seed: 1)
        let samples = flow.sample(context: Tensor.full([500, 1], 3.0), count: 500, rng: &rng)
        XCTAssertEqual(samples.shape, [500, 4])
        XCTAssertTrue(samples.scalars.allSatisfy(\.isFinite))
        // Held-out background is likelier than signal under a background flow.
        let background = try flowOptions.data(table, rows: Array(rows.prefix(2000)), source: "toy")
        let signal = try flowOptions.data(table, rows: (0..<table.rows).filter { labels[$0] == 1 }, source: "toy")
        let lb = noGrad { flow.logProbability(background.features, context: background.context).mean().item() }
        let ls = noGrad { flow.logProbability(signal.features, context: signal.context).mean().item() }
        XCTAssertGreaterThan(lb, ls + 1)
        // `genlab score`'s table: minus the log-density, higher for the signal it never saw.
        let scored = try FlowScoring.table(flow, paths: [toy])
        XCTAssertEqual(scored.count, table.rows)
        XCTAssertEqual(scored.names, ["log_density"])
        let roc = ROC(scores: scored.column("log_density"), labels: scored.labels.map { $0 ?? 0 })
        XCTAssertGreaterThan(roc.auc, 0.8)
    }

    func testHostileTablesAndOptionsAreRefusedByName() throws {
        // An HDF5 file with no DataFrame, a column the table lacks, a cut nothing passes, a bad flag value.
        let notFrame = repositoryRoot + "/Datasets/jets/qcd_test.h5"
        XCTAssertThrowsError(try FeatureTable(paths: [notFrame])) {
            XCTAssertTrue("\($0)".contains("qcd_test.h5"), "\($0)")
        }
        var f = flowOptions
        f.features = ["mJ1", "nope"]
        XCTAssertThrowsError(
            try TrainingSetup.makeFlow(data: toy, out: scratchFolder("flow-bad"), options: options(), flow: f)
        ) {
            XCTAssertTrue("\($0)".contains("has no column nope"), "\($0)")
        }
        f = flowOptions
        f.keep = [RangeCut(column: "mjj", low: 100, high: 101)]
        XCTAssertThrowsError(
            try TrainingSetup.makeFlow(data: toy, out: scratchFolder("flow-none"), options: options(), flow: f)
        ) {
            XCTAssertTrue("\($0)".contains("rows pass the cuts"), "\($0)")
        }
        XCTAssertThrowsError(try RangeCut(parsing: "mjj:3.7:3.3", flag: "--exclude")) {
            XCTAssertTrue("\($0)".contains("--exclude"), "\($0)")
        }
        f = flowOptions
        f.hidden = [32, 64]
        XCTAssertFalse(f.problems.isEmpty)
        // A checkpoint whose config was edited to an unbuildable flow is refused before anything is built.
        let run = scratchFolder("flow-edit")
        _ = try TrainingSetup.makeFlow(data: toy, out: run, options: options(maxSteps: 1), flow: flowOptions).train()
        var ckpt = try Checkpoint.load(run + "/checkpoint.safetensors")
        ckpt.config = ckpt.config.replacingOccurrences(of: "\"blocks\":3", with: "\"blocks\":100000")
        XCTAssertThrowsError(try ConditionalFlow.load(ckpt, file: "edited.safetensors")) {
            XCTAssertTrue("\($0)".contains("edited.safetensors") && "\($0)".contains("--blocks"), "\($0)")
        }
    }
}
