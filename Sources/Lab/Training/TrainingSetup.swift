import Datasets
import Engine
import Formats
import Foundation
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
        /// GAN: how it is trained (loss, TTUR rate, critic steps, weight average, augmentation, gradient
        /// penalties); nil: the defaults.
        public var loss: GANRecipe.Loss?
        public var lrD: Float?
        public var nCritic: Int?
        public var ema: Float?
        public var augment: [DiffAugment.Policy]?
        public var gp: Float?
        public var gpOneSided: Bool?
        public var r1: Float?
        /// GAN: spectral normalisation of the discriminator's weights.
        public var spectralNorm: Bool?
        /// A class-conditional GAN or VAE, on the data's class labels.
        public var conditional: Bool?
        public init() {}

        /// The GAN recipe these options ask for.
        public var ganRecipe: GANRecipe {
            var r = GANRecipe()
            if let loss { r.loss = loss }
            r.lrD = lrD
            if let nCritic { r.nCritic = nCritic }
            r.ema = ema
            if let augment { r.augment = augment }
            r.gp = gp; r.gpOneSided = gpOneSided; r.r1 = r1
            return r
        }
    }

    /// options.json: the loop's options at the top level (as ever), with the kind, the data and
    /// the model's options (an image model's `model`, a flow's `flow`) beside them — what
    /// `genlab train --config options.json` replays.
    struct RunRecipe: Encodable {
        var options: TrainOptions
        var kind: ModelKind
        /// The --data sources: written as one string for one source (as ever), a list for several.
        var data: [String]
        var model: ModelOptions?
        var flow: FlowOptions?

        enum Keys: String, CodingKey { case kind, data, model, flow }

        func encode(to encoder: Encoder) throws {
            try options.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(kind, forKey: .kind)
            if data.count == 1 { try c.encode(data[0], forKey: .data) } else { try c.encode(data, forKey: .data) }
            try c.encodeIfPresent(model, forKey: .model)
            try c.encodeIfPresent(flow, forKey: .flow)
        }
    }

    public static func make(
        kind: ModelKind, data path: String, out: String, options: TrainOptions, model: ModelOptions
    ) throws -> Trainer {
        try make(kind: kind, sources: [path], out: out, options: options, model: model)
    }

    /// A trainer on several sources at once (`--data A --data B`), combined in the order given.
    public static func make(
        kind: ModelKind, sources: [String], out: String, options: TrainOptions, model: ModelOptions
    ) throws -> Trainer {
        guard let path = sources.first else { throw FormatError("--data", "give the data: --data PATH") }
        guard ModelKind.generative.contains(kind) else {
            throw FormatError(
                out,
                "a \(kind) is not trained by genlab train (use genlab \(kind == .tagger ? "classify" : "symmetry") "
                    + "train)"
            )
        }
        let (set, spec) = try images(sources, kind: kind, options: options, model: model)
        let run = try RunFolder(out)
        let (task, config, used) =
            kind == .gan
            ? try ganTask(set, spec, path: path, options: options, model: model)
            : try vaeTask(set, spec, kind: kind, path: path, options: options, model: model)
        var files = [
            ("config.json", config), ("data.json", try RunFolder.json(spec)),
            ("options.json", try RunFolder.json(RunRecipe(options: options, kind: kind, data: sources, model: model))),
        ]
        if !used.skipped.isEmpty {
            files.append(("skipped.txt", Data((used.skipped.joined(separator: "\n") + "\n").utf8)))
        }
        return Trainer(task: task, run: run, options: options, setupFiles: files)
    }

    /// The images, square and scaled for the model (pT fractions for jet images, [−1, 1] for a
    /// GAN, [0, 1] otherwise), and their description.
    static func images(
        _ sources: [String], kind: ModelKind, options: TrainOptions, model: ModelOptions
    ) throws
        -> (ImageSet, DataSpec)
    {
        var sets: [ImageSet] = []
        for path in sources {
            if let events = try ModelInputs.particlesOnly(path) {
                if model.conditional == true {
                    throw FormatError(
                        path, "--conditional needs class labels: a jet event file trains on its background alone")
                }
                guard sources.count == 1 else {
                    throw FormatError(path, "is a jet event file: jets train from one --data file at a time")
                }
                return try jetImages(events, kind: kind, options: options)
            }
            // Later sources are loaded at the first one's size and channels.
            let first = sets.first
            sets.append(
                try ImageSet.load(
                    path,
                    options: .init(
                        size: options.imageSize ?? first?.height, channels: model.channels ?? first?.channels)))
        }
        if model.conditional == true, let why = ImageSet.classDisagreement(sets) {
            throw FormatError("--conditional", "the --data sources must name the same classes: \(why)")
        }
        let set = try ImageSet.combined(sets)
        let path = sources.count == 1 ? sources[0] : set.source
        guard set.width == set.height else {
            throw FormatError(path, "images are \(set.width)×\(set.height); pass --image-size to crop them square")
        }
        let scaling: ImageSet.Scaling = set.jetRecord != nil ? .unitSum : (kind == .gan ? .minusOneToOne : .zeroToOne)
        var spec = DataSpec(source: set.source, imageSize: set.height, channels: set.channels, scaling: scaling)
        spec.preprocessing = set.jetRecord?.text ?? ""
        if model.conditional == true {
            spec.classNames = try set.requireClasses(for: "--conditional").names
        }
        return (set.scaled(scaling), spec)
    }

    /// Jet images made from an event file (any layout `EventFile` reads) with the standard
    /// preprocessing at `--image-size` (default 25), recorded in the checkpoint as for the bundled
    /// jets; a labelled file trains on its background (label 0) alone.
    static func jetImages(_ events: EventFile, kind: ModelKind, options: TrainOptions) throws -> (ImageSet, DataSpec) {
        let spec = DataSpec.standardJets(source: events.path, size: options.imageSize ?? 25)
        var set = try ModelInputs.jetImages(events, spec: spec)
        if let labels = set.labels, labels.contains(1) {
            let background = labels.indices.filter { labels[$0] == 0 }
            guard !background.isEmpty else {
                throw FormatError(events.path, "holds only signal-labelled events: train on background (label 0)")
            }
            Warnings.emit(
                "\(events.path): training on its \(background.count) background events (label 0); "
                    + "\(labels.count - background.count) signal events left out")
            set.images = set.images.indexSelect(axis: 0, indices: background).detach()
            set.labels = background.map { _ in 0 }
        }
        return (set.scaled(.unitSum), spec)
    }

    static func ganTask(
        _ set: ImageSet, _ spec: DataSpec, path: String, options: TrainOptions, model: ModelOptions
    )
        throws -> (TrainingTask, Data, ImageSet)
    {
        var c = DCGAN.Config(
            imageSize: spec.imageSize, channels: set.channels, latentDim: options.latentDim ?? 100,
            output: spec.isJetImages ? .square : .tanh)
        if let f = model.features { c.generatorFeatures = f; c.discriminatorFeatures = f }
        let recipe = model.ganRecipe
        guard recipe.problems.isEmpty else { throw FormatError(path, recipe.problems.joined(separator: "; ")) }
        // A penalised input gradient is per image: batch statistics would mix the images (and have
        // no differentiable backward here).
        if recipe.differentiatesCritic { c.discriminatorNorm = .none }
        c.spectralNorm = model.spectralNorm ?? false
        c.classes = spec.classNames?.count
        try check(c, path: path, batch: options.batchSize)
        let task = GANTask(
            c, images: TrainingImages(set, spec: spec), lr: options.learningRate ?? 2e-4, seed: options.seed,
            policy: options.plannedPolicy(examples: set.count), recipe: recipe)
        return (task, try RunFolder.json(c), set)
    }

    /// A VAE or AE on all but a seeded validation split (for the negative ELBO).
    static func vaeTask(
        _ set: ImageSet, _ spec: DataSpec, kind: ModelKind, path: String, options: TrainOptions, model: ModelOptions
    ) throws -> (TrainingTask, Data, ImageSet) {
        var rng = PRNG(seed: options.seed).fork(5)
        let split = HoldOut(
            count: set.count, held: HoldOut.size(of: set.count, fraction: options.validationFraction), rng: &rng)
        let validation = split.validation.isEmpty ? nil : set.batch(split.validation)
        var train = set
        train.images = set.batch(split.training)
        // A conditional model keeps each split's classes.
        let conditional = spec.classNames != nil
        train.labels = conditional ? set.labels.map { l in split.training.map { l[$0] } } : nil
        let validationLabels =
            conditional && validation != nil ? set.labels.map { l in split.validation.map { l[$0] } } : nil
        let jets = spec.isJetImages
        var c = VAE.Config(
            imageSize: spec.imageSize, channels: set.channels, latentDim: options.latentDim ?? (jets ? 8 : 16),
            architecture: model.architecture, hidden: model.hidden,
            likelihood: model.likelihood ?? (jets ? .gaussian : .bernoulli),
            sigma: jets ? 0.01 : 0.1, beta: model.beta, plain: kind == .ae)
        if let names = spec.classNames { c.classes = names.count }
        try check(c, path: path, batch: options.batchSize)
        if c.likelihood == .bernoulli {
            // A Bernoulli likelihood is a probability per pixel: data outside [0, 1] is not what it models.
            let values = set.images.storage.buffer
            if let lo = values.min(), let hi = values.max(), lo < 0 || hi > 1 {
                throw FormatError(
                    path,
                    String(
                        format: "values span [%.4g, %.4g], but --likelihood bernoulli needs data in [0, 1] "
                            + "(use --likelihood gaussian, or rescale the data)", lo, hi))
            }
        }
        let task = VAETask(
            c, images: TrainingImages(train, spec: spec), lr: options.learningRate ?? 1e-3, seed: options.seed,
            validation: validation, validationLabels: validationLabels,
            policy: options.plannedPolicy(examples: train.count))
        task.warmupSteps = model.warmupSteps
        return (task, try RunFolder.json(c), train)
    }

    /// Refuses a configuration that cannot be built, or whose batch's activations alone would
    /// take more than 8× the input limit (2 GiB by default).
    static func check(_ c: some CheckedConfig & ActivationEstimate, path: String, batch: Int) throws {
        guard c.problems.isEmpty else {
            throw FormatError(path, "cannot build the model for this data: " + c.problems.joined(separator: "; "))
        }
        let bytes = c.activationBytes(batch: batch), budget = Double(InputLimits.current.maxBytes) * 8
        guard bytes <= budget else {
            throw FormatError(
                path,
                String(
                    format:
                        "--batch-size %d would need about %.1f GiB for one step's activations (budget %.1f GiB, "
                        + "8× --max-input-mib): lower the batch size or raise --max-input-mib", batch,
                    bytes / Double(1 << 30), budget / Double(1 << 30)))
        }
    }
}
