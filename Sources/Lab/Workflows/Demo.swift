import Datasets
import Engine
import Formats
import Foundation

/// `genlab demo`: the main job on the bundled data, a few minutes on two cores.
public enum Demo {
    public struct Step {
        public var title: String
        public var outputs: [String]
        public var figures: [String]
    }

    // Long: the demo is a script: five steps in the order the README shows them.
    public static func run(
        root: String = "Outputs/demo", datasets: String = "Datasets", log: (String) -> Void
    ) throws -> [Step] {
        var steps: [Step] = []
        let faces = datasets + "/faces", jets = datasets + "/jets"

        // 1. A convolutional VAE on the bundled faces, then a walk between two real faces.
        log("1/5  VAE on \(faces)")
        var o = TrainOptions()
        o.epochs = 60; o.batchSize = 16; o.seed = 0; o.quiet = true
        var m = TrainingSetup.ModelOptions()
        m.warmupSteps = 100
        let vae = try TrainingSetup.make(kind: .vae, data: faces, out: root + "/faces_vae", options: o, model: m)
        let v = try vae.train(overwrite: true)  // the demo owns its folders
        let vaeModel = try LoadedModel.load(vae.run.file(Trainer.checkpointName))
        let a = try ImageSet.load(faces + "/face_000.png", options: .init(size: 25, channels: 1)).scaled(
            vaeModel.spec.scaling)
        let b = try ImageSet.load(faces + "/face_007.png", options: .init(size: 25, channels: 1)).scaled(
            vaeModel.spec.scaling)
        guard case let .vae(net, _) = vaeModel else { fatalError("unreachable") }
        let za = noGrad { net.encode(a.images).mu }.scalars, zb = noGrad { net.encode(b.images).mu }.scalars
        let frames = try Interpolator.render(
            vaeModel, frames: Interpolator.walk([za, zb], steps: 16, mode: .linear, loop: false),
            folder: root + "/faces_vae/walk")
        steps.append(
            Step(
                title: "VAE on faces",
                outputs: [vae.run.file("samples.png"), vae.run.file("loss.png"), root + "/faces_vae/walk/walk.gif"],
                figures: [
                    String(
                        format: "validation negative ELBO %.1f nats after %d steps",
                        v.lastMetrics["val_neg_elbo"] ?? .nan, v.steps),
                    "\(frames) frames from face_000 to face_007",
                ]))

        // 2. A DCGAN on the same faces, and a looping walk through its latent space.
        log("2/5  GAN on \(faces)")
        o.epochs = 120; o.batchSize = 20
        let gan = try TrainingSetup.make(kind: .gan, data: faces, out: root + "/faces_gan", options: o, model: .init())
        let g = try gan.train(overwrite: true)
        let ganModel = try LoadedModel.load(gan.run.file(Trainer.checkpointName))
        let loop = (0..<4).map { i -> [Float] in
            var r = PRNG(seed: 100 + UInt64(i)); return Tensor.normal([ganModel.latentDim], rng: &r).scalars
        }
        let n = try Interpolator.render(
            ganModel, frames: Interpolator.walk(loop, steps: 12, mode: .slerp, loop: true),
            folder: root + "/faces_gan/walk")
        steps.append(
            Step(
                title: "GAN on faces",
                outputs: [gan.run.file("samples.png"), gan.run.file("loss.png"), root + "/faces_gan/walk/walk.gif"],
                figures: [
                    String(
                        format: "after %d steps: D(real) %.2f, D(fake) %.2f", g.steps, g.lastMetrics["D_real"] ?? .nan,
                        g.lastMetrics["D_fake"] ?? .nan), "\(n)-frame latent loop",
                ]))

        // 3. An autoencoder on QCD jets only; 4. score top and W′ jets it never saw.
        log("3/5  autoencoder on QCD jets (\(jets)/qcd_train.h5)")
        o.epochs = 10; o.batchSize = 128
        let ae = try TrainingSetup.make(
            kind: .ae, data: jets + "/qcd_train.h5", out: root + "/jets_ae", options: o, model: .init())
        try ae.train(overwrite: true)
        log("4/5  anomaly scores: top and W′ against held-out QCD")
        let scorer = try AnomalyScorer(checkpoint: ae.run.file(Trainer.checkpointName))
        let background = try scorer.score(jets + "/qcd_test.h5")
        var figures: [String] = []
        var outputs: [String] = []
        for signal in ["top", "wprime"] {
            var table = background
            table.append(try scorer.score(jets + "/\(signal)_test.h5"))
            let cut = ScoreThreshold.choose(
                .falsePositiveRate(0.01), primary: scorer.primaryScore.rawValue, table: &table, calibration: nil,
                decorrelateMass: false)
            let folder = root + "/scores_\(signal)"
            let s = try ScoreReport(table: table, threshold: cut)
                .write(scoresPath: folder + "/scores.csv", flaggedPath: folder + "/flagged.csv", plotsFolder: folder)
            figures.append(
                String(
                    format: "%@ vs QCD: AUC %.3f (%@), %.3f (mse_pt); 1/εB at εS = 0.3: %.1f",
                    signal == "top" ? "top" : "W′",
                    s.auc[scorer.primaryScore.rawValue] ?? .nan, scorer.primaryScore.rawValue, s.auc["mse_pt"] ?? .nan,
                    s.rejectionAt30[scorer.primaryScore.rawValue] ?? .nan))
            outputs.append(folder + "/roc.png")
        }
        steps.append(Step(title: "Anomaly scoring (trained on QCD only)", outputs: outputs, figures: figures))

        // 5. The shipped symmetry detector on bundled fractals, a face and a jet image.
        log("5/5  symmetry scores of \(datasets)/symmetry/*.png")
        guard let checkpoint = SymmetryDetector.defaultCheckpoint() else {
            throw FormatError("Pretrained/symmetry.safetensors", "the shipped symmetry checkpoint is missing")
        }
        let detector = try SymmetryDetector(checkpoint: checkpoint)
        // The folder's own pictures only: test/ and photos/ below it are the detector's test sets.
        let images = ImageSet.imageFiles(in: datasets + "/symmetry").filter { !$0.contains("/") }.map {
            datasets + "/symmetry/" + $0
        }
        let scores = try SymmetryRun.score(
            images, detector: detector, seeds: SymmetryDetector.defaultFits, stopping: .standard,
            out: root + "/symmetry")
        steps.append(
            Step(
                title: "Symmetry detector (shipped checkpoint)",
                outputs: [root + "/symmetry/scores.json"]
                    + images.map {
                        root + "/symmetry/" + URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent
                            + "_report.png"
                    }.prefix(2),
                figures: scores.map(Self.symmetryLine)))
        try writeIndex(root: root, steps: steps)
        return steps
    }

    /// One image's verdict as printed: the class the detector settles on, with its probability,
    /// and the best symmetry beside it when the verdict is none (so "none" is what is printed for
    /// an image whose verdict is none).
    static func symmetryLine(_ s: SymmetryDetector.Score) -> String {
        let name = URL(fileURLWithPath: s.image ?? "").lastPathComponent
        return String(format: "%@: score %.2f ± %.2f, ", name, s.score, s.scoreSpread) + s.verdict
    }

    /// Outputs/demo/index.html: the demo's steps and figures, linking each run's report.html.
    static func writeIndex(root: String, steps: [Step]) throws {
        let runs = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
            .filter { FileManager.default.fileExists(atPath: root + "/" + $0 + "/report.html") }
        var html =
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>GenLab demo</title>"
            + "<style>body { font-family: \"DejaVu Sans\", sans-serif; margin: 2em auto; max-width: 900px; "
            + "}</style></head><body>\n"
            + "<h1>GenLab demo</h1>\n"
        let page = RunReport(title: "")
        for step in steps {
            html +=
                "<h2>\(page.escape(step.title))</h2>\n<ul>\n"
                + step.figures.map { "<li>\(page.escape($0))</li>\n" }.joined() + "</ul>\n"
        }
        html +=
            "<h2>Runs</h2>\n<ul>\n"
            + runs.map { "<li><a href=\"\(HTML.relativeLink($0 + "/report.html"))\">\(HTML.escape($0))</a></li>\n" }
            .joined()
            + "</ul>\n</body></html>\n"
        try AtomicFile.write(Data(html.utf8), to: root + "/index.html")
    }
}
