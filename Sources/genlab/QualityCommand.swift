import ArgumentParser
import Engine
import Formats
import Foundation
import Lab

/// `genlab quality`.
struct QualityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quality",
        abstract: "Judge a generator: jet observables' Wasserstein-1 distances to real jets (with a trivial baseline), or a memorisation check.")
    @Option(help: "A gan or vae checkpoint.") var checkpoint: String
    @Option(help: "Real images to compare with (held-out jets, or the training images for the memorisation check).") var reference: String
    @Option(help: "How many samples.") var count = 2000
    @Option var seed: UInt64 = 0
    @Option(help: "Write the report as JSON here.") var out: String?
    @Option(help: "Folder for the jet histograms (quality_*.png; default: the checkpoint's run folder).") var plots: String?
    @OptionGroup var limits: InputLimitOptions

    func validate() throws { try Check.positive(count, "--count", max: 100_000) }

    func run() throws {
        try OutputGuard.refuse(outputs: out.map { [$0] } ?? [], inputs: [checkpoint, reference])
        let model = try LoadedModel.load(checkpoint)
        let spec = model.spec
        var real = try ImageSet.load(reference, options: .init(size: spec.imageSize, channels: spec.channels, limit: spec.isJetImages ? count : nil))
        real = real.scaled(spec.scaling)
        let generated = Sampler.sample(model, count: spec.isJetImages ? count : min(count, 256), seed: seed)
        var report: Quality.Report
        var written: [String] = []
        if spec.isJetImages {
            let comparison = Quality.jetComparison(generated: generated, real: real.images, seed: seed)
            report = comparison.report
            let parent = (checkpoint as NSString).deletingLastPathComponent
            let folder = plots ?? (parent.isEmpty ? "." : parent)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (name, plot) in comparison.figures.sorted(by: { $0.key < $1.key }) {
                let file = (folder as NSString).appendingPathComponent("quality_" + name.replacingOccurrences(of: "/", with: "_over_")
                    .replacingOccurrences(of: " ", with: "_") + ".png")
                try plot.write(file)
                written.append(file)
            }
        } else {
            report = Quality.memorisation(generated: generated, training: real.images)
        }
        if spec.isJetImages {
            print("observable              W1(model, real)   W1(baseline, real)")
            for k in report.wasserstein.keys.sorted() {
                print(k.padding(toLength: 22, withPad: " ", startingAt: 0)
                      + String(format: "  %15.5g   %18.5g", report.wasserstein[k]!, report.baselineWasserstein[k]!))
            }
        } else {
            print(String(format: "median distance of a sample to its nearest training image: %.3f", report.nearestTrainingDistance!))
            print(String(format: "median nearest-neighbour distance between training images: %.3f", report.realNearestNeighbourDistance!))
            print(report.nearestTrainingDistance! < 0.5 * report.realNearestNeighbourDistance! ? "warning: samples sit much closer to training images than real images to each other (memorisation?)"
                  : "samples are no closer to the training images than real images are to each other: no sign of memorisation")
        }
        if !written.isEmpty { print("histograms: " + written.joined(separator: ", ")) }
        if let out {
            try AtomicFile.write(try RunFolder.json(report), to: out)
        }
    }
}
