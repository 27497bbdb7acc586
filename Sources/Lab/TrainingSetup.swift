import Engine
import Datasets
import Foundation
import Formats
import Models
import NN

/// Builds a trainer from what `genlab train` is told: loads the data, chooses the scaling that
/// suits the model and the data (images in [−1, 1] for a tanh GAN, [0, 1] for a Bernoulli VAE,
/// pT fractions for jet images), holds out a validation split, and records it all in the run.
public enum TrainingSetup {
    public struct ModelOptions: Codable, Sendable {
        public var architecture = VAE.Architecture.conv
        public var beta: Float = 1
        public var warmupSteps = 0
        public var likelihood: VAE.Likelihood?
        public var hidden: [Int]?
        public var features: Int?
        public var channels: Int?
        public init() {}
    }

    public static func make(
        kind: ModelKind, data path: String, out: String, options: TrainOptions, model: ModelOptions
    ) throws -> Trainer {
        guard ModelKind.generative.contains(kind) else {
            throw FormatError(
                out,
                "a \(kind) is not trained by genlab train (use genlab \(kind == .tagger ? "classify" : "symmetry") "
                    + "train)"
            )
        }
        var set = try ImageSet.load(path, options: .init(size: options.imageSize, channels: model.channels))
        let jets = set.jetRecord != nil
        let size = set.height
        guard set.width == size else {
            throw FormatError(path, "images are \(set.width)×\(set.height); pass --image-size to crop them square")
        }
        let scaling: ImageSet.Scaling = jets ? .unitSum : (kind == .gan ? .minusOneToOne : .zeroToOne)
        set = set.scaled(scaling)
        var spec = DataSpec(source: set.source, imageSize: size, channels: set.channels, scaling: scaling)
        spec.preprocessing = set.jetRecord?.text ?? ""
        let run = try RunFolder(out)
        let task: TrainingTask
        let config: Data
        func checked(_ problems: [String]) throws {
            guard problems.isEmpty else {
                throw FormatError(path, "cannot build the model for this data: " + problems.joined(separator: "; "))
            }
        }
        // A batch whose activations alone would take more than 8× the input limit (2 GiB by default) is refused.
        func fits(_ c: ActivationEstimate) throws {
            let bytes = c.activationBytes(batch: options.batchSize), budget = Double(InputLimits.current.maxBytes) * 8
            guard bytes <= budget else {
                throw FormatError(
                    path,
                    String(
                        format:
                            "--batch-size %d would need about %.1f GiB for one step's activations (budget %.1f GiB, "
                            + "8× --max-input-mib): lower the batch size or raise --max-input-mib", options.batchSize,
                        bytes / Double(1 << 30), budget / Double(1 << 30)))
            }
        }
        if kind == .gan {
            var c = DCGAN.Config(
                imageSize: size, channels: set.channels, latentDim: options.latentDim ?? 100,
                output: jets ? .square : .tanh)
            if let f = model.features { c.generatorFeatures = f; c.discriminatorFeatures = f }
            try checked(c.problems)
            try fits(c)
            task = GANTask(
                c, images: TrainingImages(set, spec: spec), lr: options.learningRate ?? 2e-4, seed: options.seed)
            config = try RunFolder.json(c)
        } else {
            // A seeded validation split for the negative ELBO.
            var rng = PRNG(seed: options.seed).fork(5)
            let order = rng.permutation(set.count)
            let nVal = options.validationFraction > 0 ? max(1, Int(Double(set.count) * options.validationFraction)) : 0
            let validation = nVal > 0 ? set.batch(Array(order.prefix(nVal))) : nil
            var train = set
            train.images = set.batch(Array(order.dropFirst(nVal)))
            train.labels = nil
            set = train
            let likelihood = model.likelihood ?? (jets ? .gaussian : .bernoulli)
            let c = VAE.Config(
                imageSize: size, channels: set.channels, latentDim: options.latentDim ?? (jets ? 8 : 16),
                architecture: model.architecture, hidden: model.hidden, likelihood: likelihood,
                sigma: jets ? 0.01 : 0.1, beta: model.beta, plain: kind == .ae)
            try checked(c.problems)
            try fits(c)
            let t = VAETask(
                c, images: TrainingImages(set, spec: spec), lr: options.learningRate ?? 1e-3, seed: options.seed,
                validation: validation)
            t.warmupSteps = model.warmupSteps
            task = t
            config = try RunFolder.json(c)
        }
        var files = [
            ("config.json", config), ("data.json", try RunFolder.json(spec)),
            ("options.json", try RunFolder.json(options)),
        ]
        if !set.skipped.isEmpty {
            files.append(("skipped.txt", Data((set.skipped.joined(separator: "\n") + "\n").utf8)))
        }
        return Trainer(task: task, run: run, options: options, setupFiles: files)
    }
}
