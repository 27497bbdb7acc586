import Datasets
import Engine
import Formats
import Lab
import Models
import NN
import XCTest

/// End-to-end training: exact resume after an interruption, and short runs reaching targets.
final class TrainerTests: XCTestCase {
    let faces = repositoryRoot + "/Datasets/faces"

    /// Set by a test to train under a learning-rate schedule, weight decay and clipping.
    var policy: OptimizerPolicy?

    func options(epochs: Int, batch: Int, maxSteps: Int? = nil) -> TrainOptions {
        var o = TrainOptions()
        o.epochs = epochs; o.batchSize = batch; o.seed = 7; o.quiet = true; o.maxSteps = maxSteps
        o.optimizer = policy
        return o
    }

    /// Stopped mid-epoch (as Ctrl-C does) and resumed, a run logs the same losses and ends with the
    /// same weights as one that was never interrupted.
    func checkResumeIsExact(kind: ModelKind, model: TrainingSetup.ModelOptions = .init()) throws {
        let straight = scratchFolder("\(kind)-straight"), split = scratchFolder("\(kind)-split")
        try TrainingSetup.make(
            kind: kind, data: faces, out: straight, options: options(epochs: 2, batch: 20), model: model
        ).train()
        let first = try TrainingSetup.make(
            kind: kind, data: faces, out: split, options: options(epochs: 2, batch: 20, maxSteps: 3), model: model
        )
        .train()
        XCTAssertEqual(first.steps, 3)
        try TrainingSetup.make(
            kind: kind, data: faces, out: split, options: options(epochs: 2, batch: 20), model: model
        ).train(resume: true)
        let a = try String(contentsOfFile: straight + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        let b = try String(contentsOfFile: split + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(a.count, b.count)
        // Every column but the wall-clock rate must match to the last digit.
        func strip(_ line: Substring) -> [Substring] {
            Array(line.split(separator: ",", omittingEmptySubsequences: false).dropLast())
        }
        XCTAssertEqual(a.map(strip), b.map(strip), "\(kind): losses differ after resuming")
        let wa = try SafeTensors.read(straight + "/checkpoint.safetensors").tensors
        let wb = try SafeTensors.read(split + "/checkpoint.safetensors").tensors
        XCTAssertEqual(Set(wa.keys), Set(wb.keys))
        for (k, t) in wa { XCTAssertEqual(t.scalars, wb[k]!.scalars, "\(kind): \(k) differs after resuming") }
    }

    func testVAEResumesExactly() throws { try checkResumeIsExact(kind: .vae) }
    func testGANResumesExactly() throws { try checkResumeIsExact(kind: .gan) }
    func testAEResumesExactly() throws { try checkResumeIsExact(kind: .ae) }

    /// The hinge loss, two critic steps, TTUR, DiffAugment and the weight average resume exactly too
    /// (the average and the augmentation's random stream included).
    func testGANRecipeResumesExactly() throws {
        var m = TrainingSetup.ModelOptions()
        m.loss = .hinge; m.nCritic = 2; m.lrD = 4e-4; m.ema = 0.9; m.augment = [.color, .translation, .cutout]
        try checkResumeIsExact(kind: .gan, model: m)
        let split = FileManager.default.temporaryDirectory.appendingPathComponent("genlab-lab-\(getpid())/gan-split")
        let keys = try SafeTensors.read(split.path + "/checkpoint.safetensors").tensors.keys
        XCTAssertTrue(keys.contains { $0.hasPrefix("_optimizer.ema.generator.") }, "no weight average saved")
    }

    /// Under a warm-up, a cosine schedule, AdamW and clipping, a stopped run resumes exactly too
    /// (the rate is a function of the step), and the policy changes what is learnt.
    func testScheduledRunsResumeExactlyAndDiffer() throws {
        var p = OptimizerPolicy()
        p.schedule = .cosine; p.warmupSteps = 2; p.weightDecay = 0.05; p.gradClip = 1
        policy = p
        try checkResumeIsExact(kind: .gan)
        try checkResumeIsExact(kind: .vae)
        // (scratchFolder would clear the folder: its path is spelt out here.)
        let straight = FileManager.default.temporaryDirectory.appendingPathComponent(
            "genlab-lab-\(getpid())/vae-straight")
        let scheduled = try SafeTensors.read(straight.path + "/checkpoint.safetensors")
        policy = nil
        let plain = scratchFolder("vae-plain")
        try TrainingSetup.make(
            kind: .vae, data: faces, out: plain, options: options(epochs: 2, batch: 20), model: .init()
        )
        .train()
        let weights = try SafeTensors.read(plain + "/checkpoint.safetensors")
        let differs = weights.tensors.contains { key, t in
            scheduled.tensors[key].map { $0.scalars != t.scalars } ?? false
        }
        XCTAssertTrue(differs, "the schedule, weight decay and clipping change the weights")
    }

    /// --keep-best: best.safetensors is the epoch with the lowest val_neg_elbo, and its record
    /// says so; a figure the run does not log is refused by name.
    func testKeepBestKeepsTheBestEpoch() throws {
        let folder = scratchFolder("keep-best")
        var o = options(epochs: 4, batch: 20)
        o.keepBest = "val_neg_elbo"
        try TrainingSetup.make(kind: .vae, data: faces, out: folder, options: o, model: .init()).train()
        let record = try JSONDecoder().decode(
            BestCheckpoint.Record.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/best.json")))
        let lines = try String(contentsOfFile: folder + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let column = try XCTUnwrap(header.firstIndex(of: "val_neg_elbo"))
        let values = lines.dropFirst().compactMap {
            Double($0.split(separator: ",", omittingEmptySubsequences: false)[column])
        }
        XCTAssertEqual(values.count, 4)
        XCTAssertEqual(record.value, values.min()!, accuracy: 1e-3)  // metrics.csv keeps 6 digits
        XCTAssertEqual(record.epoch, values.firstIndex(of: values.min()!)! + 1)
        XCTAssertFalse(record.higherIsBetter)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/best.safetensors"))
        XCTAssertTrue(BestCheckpoint.higherIsBetter("D_real"))
        XCTAssertTrue(BestCheckpoint.higherIsBetter("val_auc"))
        o.keepBest = "val_loss"
        XCTAssertThrowsError(
            try TrainingSetup.make(kind: .vae, data: faces, out: scratchFolder("keep-bad"), options: o, model: .init())
                .train()
        ) { XCTAssertTrue("\($0)".contains("val_loss"), "\($0)") }
    }

    func testScheduleRatesFollowTorch() {
        var p = OptimizerPolicy()
        p.plannedSteps = 12
        XCTAssertEqual(p.lrSchedule.rate(at: 7, base: 0.1), 0.1)
        p.schedule = .cosine
        XCTAssertEqual(p.lrSchedule.rate(at: 0, base: 0.1), 0.1, accuracy: 1e-7)
        XCTAssertEqual(p.lrSchedule.rate(at: 6, base: 0.1), 0.05, accuracy: 1e-7)
        XCTAssertEqual(p.lrSchedule.rate(at: 12, base: 0.1), 0, accuracy: 1e-7)
        p.warmupSteps = 4
        XCTAssertEqual(p.lrSchedule.rate(at: 0, base: 0.1), 0.025, accuracy: 1e-7)
        XCTAssertEqual(p.lrSchedule.rate(at: 3, base: 0.1), 0.1, accuracy: 1e-7)
        XCTAssertEqual(p.lrSchedule.rate(at: 8, base: 0.1), 0.05, accuracy: 1e-7)
        p.schedule = .step; p.warmupSteps = 0
        XCTAssertEqual(p.lrSchedule.rate(at: 3, base: 1), 1, accuracy: 1e-7)
        XCTAssertEqual(p.lrSchedule.rate(at: 4, base: 1), 0.1, accuracy: 1e-7)
        XCTAssertEqual(p.lrSchedule.rate(at: 8, base: 1), 0.01, accuracy: 1e-7)
        // Clipping: a gradient of norm 5 comes out with norm 1; AdamW where there is weight decay.
        let w = Tensor(shape: [2], data: [0, 0])
        w.requiresGrad = true
        w.grad = Tensor(shape: [2], data: [3, 4])
        p.gradClip = 1
        let adam = p.optimizer([("w", w)], lr: 0.1)
        p.prepare(adam, base: 0.1, step: 4)
        XCTAssertEqual(w.grad!.scalars[0], 0.6, accuracy: 1e-5)
        XCTAssertEqual(w.grad!.scalars[1], 0.8, accuracy: 1e-5)
        XCTAssertEqual(adam.learningRate, 0.01, accuracy: 1e-7)
        XCTAssertFalse(adam is AdamW)
        p.weightDecay = 0.01
        XCTAssertTrue(p.optimizer([("w", w)], lr: 0.1) is AdamW)
    }

    /// Two run folders hold the same figures (but the wall-clock rate) and the same weights.
    func assertSameRun(
        _ a: String, _ b: String, _ what: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let ma = try String(contentsOfFile: a + "/metrics.csv", encoding: .utf8),
            mb = try String(contentsOfFile: b + "/metrics.csv", encoding: .utf8)
        XCTAssertEqual(ma, mb, "\(what): metrics differ after resuming", file: file, line: line)
        let wa = try Checkpoint.load(a + "/checkpoint.safetensors"),
            wb = try Checkpoint.load(b + "/checkpoint.safetensors")
        XCTAssertEqual(Set(wa.model.keys), Set(wb.model.keys), file: file, line: line)
        for (k, t) in wa.model {
            XCTAssertEqual(
                t.scalars, wb.model[k]?.scalars, "\(what): \(k) differs after resuming", file: file, line: line)
        }
        XCTAssertEqual(wa.training, wb.training, "\(what): loop state differs", file: file, line: line)
    }

    /// The tagger trains in the same loop: stopped mid-epoch and resumed, it ends where an
    /// uninterrupted run ends (per-epoch metrics, the last partial batch, the validation AUC).
    func testTaggerResumesExactly() throws {
        let jets = repositoryRoot + "/Datasets/jets"
        let straight = scratchFolder("tagger-straight"), split = scratchFolder("tagger-split")
        func train(_ out: String, resume: Bool = false, maxSteps: Int? = nil) throws -> Tagger.Result {
            try Tagger.train(
                signal: jets + "/top_train.h5", background: jets + "/qcd_train.h5", out: out, epochs: 2, batchSize: 100,
                lr: 1e-3, seed: 3, quiet: true, resume: resume, maxSteps: maxSteps)
        }
        let a = try train(straight)
        let stopped = try train(split, maxSteps: 130)
        XCTAssertTrue(stopped.interrupted)
        XCTAssertEqual(stopped.epochs, 1, "130 steps of 100 images stop in the second epoch (96 steps each)")
        XCTAssertThrowsError(try train(split)) { XCTAssertTrue("\($0)".contains("--resume"), "\($0)") }
        let b = try train(split, resume: true)
        XCTAssertEqual(a.validationAUC, b.validationAUC)
        XCTAssertGreaterThan(a.validationAUC, 0.8)
        try assertSameRun(straight, split, "tagger")
    }

    /// The symmetry CNN too: its steps draw augmentations from the data stream, so resuming must
    /// restore that stream as it was, not as the epoch began.
    func testSymmetryClassifierResumesExactly() throws {
        var o = SymmetryTrainingOptions()
        o.perClass = 6; o.validationPerClass = 1; o.heldOutPerClass = 1; o.epochs = 2; o.batchSize = 8; o.quiet = true
        o.stabilityImages = 0; o.heldOutSeeds = 0; o.sweepsPerClass = 0; o.trainingSweepsPerClass = 1
        o.representation.decoy.steps = 20
        let straight = scratchFolder("symmetry-straight"), split = scratchFolder("symmetry-split")
        let a = try SymmetryTraining.train(o, out: straight) { _ in }
        XCTAssertThrowsError(try SymmetryTraining.train(o, out: split, maxSteps: 3) { _ in }) { error in
            XCTAssertTrue(error is SymmetryTraining.Stopped, "\(error)")
        }
        XCTAssertThrowsError(try SymmetryTraining.train(o, out: split) { _ in }) {
            XCTAssertTrue("\($0)".contains("--resume"), "\($0)")
        }
        var other = o
        other.seed = 1
        XCTAssertThrowsError(try SymmetryTraining.train(other, out: split, resume: true) { _ in }) {
            XCTAssertTrue("\($0)".contains("other options"), "\($0)")
        }
        let b = try SymmetryTraining.train(o, out: split, resume: true) { _ in }
        XCTAssertEqual(a.heldOut.confusionExact, b.heldOut.confusionExact)
        try assertSameRun(straight, split, "symmetry")
    }

    func testResumeWithoutACheckpointOrOnOtherDataIsAClearError() throws {
        let folder = scratchFolder("no-ckpt")
        XCTAssertThrowsError(
            try TrainingSetup.make(
                kind: .vae, data: faces, out: folder, options: options(epochs: 1, batch: 20), model: .init()
            )
            .train(resume: true)
        ) { XCTAssertTrue("\($0)".contains("no checkpoint"), "\($0)") }
        try TrainingSetup.make(
            kind: .vae, data: faces, out: folder, options: options(epochs: 1, batch: 20), model: .init()
        ).train()
        var o = options(epochs: 2, batch: 20)
        o.imageSize = 16
        XCTAssertThrowsError(
            try TrainingSetup.make(kind: .vae, data: faces, out: folder, options: o, model: .init()).train(resume: true)
        ) {
            XCTAssertTrue("\($0)".contains("trained on"), "\($0)")
        }
    }

    /// A short VAE run on the faces must learn: the validation negative ELBO falls well below
    /// that of the untrained model (measured here: 432 → 414 nats in 20 epochs).
    func testShortVAERunReachesTarget() throws {
        let folder = scratchFolder("vae-target")
        let s = try TrainingSetup.make(
            kind: .vae, data: faces, out: folder, options: options(epochs: 20, batch: 16), model: .init()
        ).train()
        let elbo = validationELBO(folder + "/metrics.csv").filter { $0.isFinite }
        XCTAssertGreaterThan(elbo.count, 10)
        XCTAssertLessThan(s.lastMetrics["val_neg_elbo"]!, 420)
        XCTAssertLessThan(elbo.last!, elbo.first! - 12)
        for name in ["loss.png", "samples.png", "samples_epoch_020.png", "config.json", "data.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/" + name), name)
        }
        let samples = try Image.read(folder + "/samples.png")
        XCTAssertGreaterThan(samples.width, 8 * 25)
    }

    /// A short GAN run produces a sample grid whose pixel statistics are close to the faces'
    /// (a collapsed or diverged generator gives a flat or saturated grid).
    func testShortGANRunMakesFaceLikeStatistics() throws {
        let folder = scratchFolder("gan-target")
        try TrainingSetup.make(
            kind: .gan, data: faces, out: folder, options: options(epochs: 40, batch: 20), model: .init()
        ).train()
        let model = try LoadedModel.load(folder + "/checkpoint.safetensors")
        let samples = Sampler.sample(model, count: 64, seed: 3)
        let real = try ImageSet.load(faces).scaled(.minusOneToOne).images
        func stats(_ t: Tensor) -> (Float, Float) {
            let m = t.mean().item(); return (m, (t - m).pow(2).mean().item().squareRoot())
        }
        let (ms, ss) = stats(samples), (mr, sr) = stats(real)
        XCTAssertEqual(ms, mr, accuracy: 0.25)
        XCTAssertEqual(ss, sr, accuracy: 0.2)
        // Not collapsed: samples differ from one another.
        let perImage = samples.variance(axes: [0]).mean().item()
        XCTAssertGreaterThan(perImage, 0.01)
    }
}

/// The validation negative ELBO column of a finished run's metrics.csv.
func validationELBO(_ path: String) -> [Double] {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    let rows = text.split(separator: "\n")
    guard let header = rows.first?.split(separator: ","), let col = header.firstIndex(of: "val_neg_elbo") else {
        return []
    }
    return rows.dropFirst().compactMap { r -> Double? in
        let cells = r.split(separator: ",", omittingEmptySubsequences: false)
        return col < cells.count ? Double(cells[col]) : nil
    }
}

/// The jet GAN plays its game on √pT: the generator emits s² (s ≥ 0) and the discriminator reads
/// √x, with finite gradients where pixels are exactly zero; the quality report tells a real jet
/// sample from the trivial baseline.
final class JetGANTests: XCTestCase {
    func testSquareOutputIsNonNegativeAndTheDiscriminatorSeesItsRoot() {
        var rng = PRNG(seed: 2)
        let gan = DCGAN(
            DCGAN.Config(
                imageSize: 25, channels: 1, latentDim: 8, generatorFeatures: 8, discriminatorFeatures: 8,
                output: .square), rng: &rng)
        let fake = gan.generator(Tensor.normal([6, 8], rng: &rng))
        XCTAssertEqual(fake.shape, [6, 1, 25, 25])
        XCTAssertGreaterThanOrEqual(fake.scalars.min()!, 0)
        XCTAssertTrue(fake.scalars.contains(0), "a ReLU'd root should leave empty pixels")
        let lossG = Loss.bceWithLogits(gan.discriminator(fake), Tensor.ones([6]))
        lossG.backward()
        for (name, p) in gan.generator.namedParameters() {
            XCTAssertTrue(
                p.grad?.scalars.allSatisfy(\.isFinite) ?? false,
                "\(name): gradient not finite through √x at zero pixels")
        }
    }

    func testQualityReportSeparatesRealJetsFromTheBaseline() throws {
        let set = try ImageSet.load(repositoryRoot + "/Datasets/jets/qcd_test.h5", options: .init(limit: 800)).scaled(
            .unitSum)
        let a = set.images.slice(axis: 0, start: 0, end: 400).detach(),
            b = set.images.slice(axis: 0, start: 400, end: 800).detach()
        let (report, figures) = Quality.jetComparison(generated: a, real: b)
        XCTAssertEqual(Set(figures.keys), ["mass/pT", "pixel multiplicity", "pixel intensity"])
        for (k, w) in report.wasserstein {
            // Two halves of the same real sample sit far closer to each other than the baseline does.
            XCTAssertLessThan(
                w * 4, report.baselineWasserstein[k]!, "\(k): real \(w), baseline \(report.baselineWasserstein[k]!)")
        }
    }
}
