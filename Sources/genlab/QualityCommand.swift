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
            "Judge a generator: jet observables' Wasserstein-1 distances to real jets (with a trivial baseline), or "
            + "a memorisation check."
    )
    @Option(help: "A gan or vae checkpoint.") var checkpoint: String
    @Option(
        name: [.customLong("reference"), .customLong("data")],
        help: ArgumentHelp(
            "Real images to compare with (held-out jets, or the training images for the memorisation check); "
                + "--data is the same flag."))
    var reference: String
    @Option(help: "How many samples.") var count = 2000
    @Option(help: "Noise seed of the samples.") var seed: UInt64 = 0
    @Option(
        help: ArgumentHelp(
            "Output folder: quality.json and the histograms (a .json file name is the deprecated form: the report "
                + "alone). (default: none)"))
    var out: String?
    @Option(help: "Folder for the jet histograms (quality_*.png; default: the checkpoint's run folder).") var plots:
        String?
    @OptionGroup var output: OutputOptions
    @OptionGroup var limits: InputLimitOptions

    func validate() throws { try Check.range(count, "--count", Quality.minimumSample...100_000) }

    func run() throws {
        try output.run { try judge() }
    }

    /// --out as a folder, or the deprecated JSON file name.
    var outFolder: String? { out.flatMap { $0.lowercased().hasSuffix(".json") ? nil : $0 } }

    // Long: prints the report table by table; the figures come from Lab.
    func judge() throws -> Quality.Report {
        try OutputGuard.refuse(outputs: out.map { [$0] } ?? [], inputs: [checkpoint, reference])
        let plots = self.plots ?? outFolder
        let model = try LoadedModel.load(checkpoint)
        let spec = model.spec
        // Jets: twice --count real jets, for the held-out sample and a disjoint truth-vs-truth one.
        // Jets: twice --count real jets, for the held-out sample and a disjoint truth-vs-truth one.
        var real = try ModelInputs.images(reference, spec: spec, limit: spec.isJetImages ? 2 * count : nil)
        try ModelInputs.checkMatches(real, path: reference, spec: spec)
        real = try ModelInputs.usable(
            real, path: reference, minimum: 2 * Quality.minimumSample, purpose: "genlab quality (two disjoint samples)")
        real = real.scaled(spec.scaling)
        var truth: Tensor?
        if spec.isJetImages {
            let n = min(count, real.count / 2)
            truth = real.images.slice(axis: 0, start: n, end: 2 * n).detach()
            real.images = real.images.slice(axis: 0, start: 0, end: n).detach()
            real.labels = nil
        }
        let generated = Sampler.sample(model, count: spec.isJetImages ? real.count : min(count, 256), seed: seed)
        var report: Quality.Report
        var written: [String] = []
        if spec.isJetImages {
            let comparison = Quality.jetComparison(generated: generated, real: real.images, seed: seed)
            report = comparison.report
            let window = spec.jetImage.window
            let suite = Quality.jetNetSuite(
                generated: generated, real: real.images, truth: truth!, window: window, seed: seed)
            report.jetnet = suite
            report.jetnetSamples = real.count
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
        } else {
            report = Quality.memorisation(generated: generated, training: real.images)
            report.featureFrechet = Quality.featureFrechet(generated: generated, real: real.images, seed: seed)
        }
        if spec.isJetImages {
            print("observable              W1(model, real)   W1(baseline, real)")
            for k in report.wasserstein.keys.sorted() {
                print(
                    k.padding(toLength: 22, withPad: " ", startingAt: 0)
                        + String(format: "  %15.5g   %18.5g", report.wasserstein[k]!, report.baselineWasserstein[k]!))
            }
        } else {
            print(
                String(
                    format: "median distance of a sample to its nearest training image: %.3f",
                    report.nearestTrainingDistance!))
            print(
                String(
                    format: "median nearest-neighbour distance between training images: %.3f",
                    report.realNearestNeighbourDistance!))
            print(
                report.nearestTrainingDistance! < 0.5 * report.realNearestNeighbourDistance!
                    ? "warning: samples sit much closer to training images than real images to each other "
                        + "(memorisation?)"
                    : "samples are no closer to the training images than real images are to each other: no sign of "
                        + "memorisation"
            )
        }
        if let f = report.featureFrechet {
            print(
                "Fréchet distance on features of an autoencoder trained on the real images (\(f.samples) images a "
                    + "sample; ± bootstrap):"
            )
            for (name, v) in [("model", f.model), ("truth vs truth", f.truth), ("baseline", f.baseline)] {
                print(
                    name.padding(toLength: 16, withPad: " ", startingAt: 0)
                        + String(format: "%.4g ± %.2g", v.value, v.error))
            }
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
        if let folder = spec.isJetImages ? (plots ?? (checkpoint as NSString).deletingLastPathComponent) : plots {
            try Quality.writePage(report, checkpoint: checkpoint, folder: folder.isEmpty ? "." : folder)
        }
        if let out, outFolder == nil {
            Deprecation.note("--out FILE.json", use: "--out DIR (it gets quality.json beside the pictures)")
            try AtomicFile.write(try RunFolder.json(report), to: out)
        } else if let outFolder {
            let run = try RunFolder(outFolder)
            try AtomicFile.write(try RunFolder.json(report), to: run.file("quality.json"))
            print("wrote \(run.file("quality.json"))")
        }
        return report
    }
}
