import Engine
import Formats
import Foundation
import Lab
import Models
import NN
import Physics
import XCTest

/// The Lab's side of hostile input: event files whose shapes or labels lie, checkpoints whose
/// configs were edited, NaN scores, and run folders that already hold someone's work.
final class LabBadInputTests: XCTestCase {
    func bad(_ name: String) -> String { repositoryRoot + "/Tests/FormatsTests/Fixtures/bad/" + name }
    let faces = repositoryRoot + "/Datasets/faces"

    func testEventFilesWhoseShapesOrLabelsLieAreRefusedByName() throws {
        let scorer = try AnomalyScorer(checkpoint: AnomalyScorerTests.checkpoint)
        let cases = [
            "h5_three_channel.h5": "single-channel", "h5_jets_rank1.h5": "/jets has shape",
            "h5_jets_two_columns.h5": "/jets has shape",
            "h5_labels_nan.h5": "labels must be 0", "h5_labels_three.h5": "labels must be 0",
            "h5_labels_short.h5": "/labels has shape",
            "h5_constituents_4_features.h5": "(N, M, 3)", "h5_string_images.h5": "numbers",
            "h5_images_rank1.h5": "/images has shape",
            "h5_sparse_events.h5": "sparse or corrupt",
        ]
        for (name, words) in cases {
            XCTAssertThrowsError(try scorer.score(bad(name)), name) { error in
                XCTAssertTrue("\(error)".contains(name) && "\(error)".contains(words), "\(name): \(error)")
            }
        }
    }

    func testNonFinitePhysicsIsAProblemPerEventNeverATrap() throws {
        let scorer = try AnomalyScorer(checkpoint: AnomalyScorerTests.checkpoint)
        scorer.jetsPerEvent = 2
        let events = try scorer.score(bad("h5_lhco_nan.h5"))
        XCTAssertEqual(events.count, 4)
        XCTAssertEqual(events.labels.compactMap { $0 }, [0, 1, 0, 1])
        scorer.jetsPerEvent = 1
        let jets = try scorer.score(bad("h5_constituents_nan.h5"))
        XCTAssertEqual(jets.count, 4)
        // NaN and infinite jet axes leave no pixel: those jets are reported, not scored.
        XCTAssertNotNil(jets.problem[0]); XCTAssertNotNil(jets.problem[1]); XCTAssertNotNil(jets.problem[2])
        XCTAssertNil(jets.problem[3], "a jet with two bad constituents among thirty is still a jet")
        XCTAssertTrue(jets.column("mse")[3].isFinite)
    }

    func testJetImagesWithoutAPreprocessingRecordAreScoredWithAWarning() throws {
        let scorer = try AnomalyScorer(checkpoint: AnomalyScorerTests.checkpoint)
        let table = try scorer.score(bad("h5_no_preprocessing.h5"))
        XCTAssertEqual(table.count, 4)
        XCTAssertEqual(scorer.warnings.count, 1)
        XCTAssertTrue(
            scorer.warnings[0].contains("h5_no_preprocessing.h5")
                && scorer.warnings[0].contains("no preprocessing record"))
        _ = try scorer.score(repositoryRoot + "/Datasets/jets/qcd_test.h5")
        XCTAssertEqual(scorer.warnings.count, 1, "the bundled file records the checkpoint's own preprocessing")
    }

    func testImagesWithoutAPreprocessingRecordAreMadeAgainFromConstituents() throws {
        // The same jets with their stored images stripped of the record: scored from constituents.
        let src = try HDF5File(repositoryRoot + "/Datasets/jets/top_test.h5")
        let path = scratchFolder("unrecorded.h5")
        try HDF5File.write(to: path) { f in
            for name in ["/images", "/constituents", "/labels", "/jets"] {
                try f.write(name, src.readRows(name, 0, 300))
            }
        }
        let scorer = try AnomalyScorer(checkpoint: AnomalyScorerTests.checkpoint)
        let unrecorded = try scorer.score(path)
        XCTAssertTrue(
            scorer.warnings.last?.contains("made again from its /constituents") ?? false, "\(scorer.warnings)")
        scorer.fromConstituents = true
        let forced = try scorer.score(repositoryRoot + "/Datasets/jets/top_test.h5")
        for i in 0..<300 { XCTAssertEqual(unrecorded.column("mse")[i], forced.column("mse")[i], accuracy: 1e-6) }
        XCTAssertThrowsError(try scorer.score(bad("h5_no_preprocessing.h5"))) {
            XCTAssertTrue("\($0)".contains("--from-constituents"), "\($0)")
        }
    }

    func testAFaceModelRefusesJetFiles() throws {
        let folder = scratchFolder("face-gan")
        var o = TrainOptions()
        o.epochs = 1; o.batchSize = 20; o.quiet = true; o.maxSteps = 1
        try TrainingSetup.make(kind: .gan, data: faces, out: folder, options: o, model: .init()).train()
        let scorer = try AnomalyScorer(checkpoint: folder + "/checkpoint.safetensors")
        XCTAssertThrowsError(try scorer.score(repositoryRoot + "/Datasets/jets/qcd_test.h5")) {
            XCTAssertTrue("\($0)".contains("jet images"), "\($0)")
        }
    }

    func testNaNScoresEndTheROCAndAreCounted() {
        // Once, a NaN sent ROC.init into an endless, growing loop.
        let roc = ROC(scores: [0.9, .nan, 0.1, 0.5, .nan], labels: [1, 1, 0, 0, 0])
        XCTAssertEqual(roc.auc, 1, accuracy: 1e-12)
        XCTAssertEqual(roc.thresholds.count, 4)
    }

    func testEditedCheckpointConfigsAreRefusedBeforeAnythingIsBuilt() throws {
        let ckpt = try Checkpoint.load(AnomalyScorerTests.checkpoint)
        for (from, to, words) in [
            ("\"latentDim\":8", "\"latentDim\":100000000", "latent dimension"),
            ("\"imageSize\":25", "\"imageSize\":0", "image size"),
            ("\"channels\":1", "\"channels\":-3", "channels"),
        ] {
            var edited = ckpt
            XCTAssertTrue(edited.config.contains(from), edited.config)
            edited.config = edited.config.replacingOccurrences(of: from, with: to)
            let path = scratchFolder("edited-\(words.count).safetensors")
            try edited.save(to: path)
            XCTAssertThrowsError(try LoadedModel.load(path)) {
                XCTAssertTrue("\($0)".contains(words) && "\($0)".contains("not valid"), "\($0)")
            }
        }
        XCTAssertFalse(
            VAE.Config(imageSize: 25, channels: 1, latentDim: 8, architecture: .mlp, hidden: [100_000]).problems.isEmpty
        )
        XCTAssertTrue(VAE.Config(imageSize: 25, channels: 1).problems.isEmpty)
        XCTAssertTrue(DCGAN.Config(imageSize: 64, channels: 3).problems.isEmpty)
        XCTAssertFalse(DCGAN.Config(imageSize: 512, channels: 3, generatorFeatures: 1024).problems.isEmpty)
    }

    func options(epochs: Int = 1, maxSteps: Int? = nil) -> TrainOptions {
        var o = TrainOptions()
        o.epochs = epochs; o.batchSize = 20; o.seed = 1; o.quiet = true; o.maxSteps = maxSteps
        return o
    }

    func testAFolderHoldingARunIsNeitherOverwrittenNorRewrittenWithoutBeingAsked() throws {
        let folder = scratchFolder("kept-run")
        try TrainingSetup.make(kind: .vae, data: faces, out: folder, options: options(epochs: 2), model: .init())
            .train()
        let before = try Data(contentsOf: URL(fileURLWithPath: folder + "/checkpoint.safetensors"))
        let config = try Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))
        var m = TrainingSetup.ModelOptions()
        m.architecture = .mlp
        XCTAssertThrowsError(
            try TrainingSetup.make(kind: .vae, data: faces, out: folder, options: options(), model: m).train()
        ) {
            XCTAssertTrue("\($0)".contains("--resume") && "\($0)".contains("--overwrite"), "\($0)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/checkpoint.safetensors")), before)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: folder + "/config.json")), config,
            "a refused run rewrote config.json")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/samples_epoch_002.png"))
        // Asked: the old run's files go, the new run's come.
        try TrainingSetup.make(kind: .vae, data: faces, out: folder, options: options(), model: m).train(
            overwrite: true)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: folder + "/samples_epoch_002.png"), "a stale sample grid stayed")
        XCTAssertTrue(
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: folder + "/config.json")), as: UTF8.self)
                .contains("mlp"))
    }

    func testAFolderInUseIsLockedAndOrphanTemporariesAreCleaned() throws {
        let folder = scratchFolder("locked-run")
        let run = try RunFolder(folder)
        // A temporary file left by a process that is gone (pid 2^22 + 1 is beyond Linux's pid_max default).
        let orphan = folder + "/.checkpoint.safetensors.tmp-4194305-12345"
        FileManager.default.createFile(atPath: orphan, contents: Data([1, 2, 3]))
        let held = try run.lock()
        XCTAssertThrowsError(
            try TrainingSetup.make(kind: .ae, data: faces, out: folder, options: options(), model: .init()).train()
        ) {
            XCTAssertTrue("\($0)".contains("in use") && "\($0)".contains("\(getpid())"), "\($0)")
        }
        held.unlock()
        try TrainingSetup.make(kind: .ae, data: faces, out: folder, options: options(maxSteps: 1), model: .init())
            .train()
        XCTAssertFalse(FileManager.default.fileExists(atPath: orphan), "the orphan temporary file stayed")
    }

    /// A task whose loss turns NaN at its third step.
    final class DivergingTask: TrainingTask {
        let inner: TrainingTask
        var steps = 0
        init(_ inner: TrainingTask) { self.inner = inner }
        var kind: ModelKind { inner.kind }
        var exampleCount: Int { inner.exampleCount }
        var metricNames: [String] { inner.metricNames }
        var plottedMetrics: [String] { inner.plottedMetrics }
        func step(_ examples: [Int], at position: StepPosition, data: inout PRNG, noise: inout PRNG) -> [String: Double]
        {
            steps += 1
            var m = inner.step(examples, at: position, data: &data, noise: &noise)
            if steps >= 8 { m[metricNames[0]] = .nan }
            return m
        }
        func evaluate(noise: inout PRNG) -> [String: Double] { inner.evaluate(noise: &noise) }
        func samples() -> SampleImages? { inner.samples() }
        func checkpoint(training: TrainingState) throws -> Checkpoint { try inner.checkpoint(training: training) }
        func restore(_ checkpoint: Checkpoint, file: String) throws { try inner.restore(checkpoint, file: file) }
        func useDataParallel(_ parallel: DataParallel, synchroniseBatchNorm: Bool) {
            inner.useDataParallel(parallel, synchroniseBatchNorm: synchroniseBatchNorm)
        }
    }

    func testADivergingRunStopsAndKeepsTheLastGoodCheckpoint() throws {
        let folder = scratchFolder("diverging")
        let t = try TrainingSetup.make(
            kind: .vae, data: faces, out: folder, options: options(epochs: 3), model: .init())
        let diverging = Trainer(task: DivergingTask(t.task), run: t.run, options: t.options, setupFiles: t.setupFiles)
        // 90 training faces in batches of 20: 4 steps an epoch, so the NaN comes in the second epoch.
        XCTAssertThrowsError(try diverging.train()) { error in
            guard let d = error as? Trainer.Diverged else { return XCTFail("\(error)") }
            XCTAssertEqual(d.step, 8)
            XCTAssertTrue(d.description.contains("--lr"), d.description)
        }
        let ckpt = try Checkpoint.load(folder + "/checkpoint.safetensors")
        XCTAssertEqual(ckpt.training?.epoch, 1, "the checkpoint of the last good epoch stays")
        XCTAssertTrue(ckpt.model.values.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
    }
}
