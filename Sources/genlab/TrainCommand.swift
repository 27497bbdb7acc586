import ArgumentParser
import Cluster
import Engine
import Foundation
import Lab
import Models

/// `genlab train gan|vae|ae`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a GAN, VAE or autoencoder on an image folder or an image/array file.",
        discussion: """
            Writes Outputs/NAME/: checkpoint.safetensors (every epoch, atomic), metrics.csv, loss.png, \
            samples_epoch_NNN.png, config.json, data.json, options.json. Ctrl-C saves a checkpoint and stops; \
            --resume continues exactly. --config OUT/options.json replays a run (flags typed beside it win).
            """)

    @Argument(
        help: "gan, vae, ae or flow (a normalising flow on a table of event features).",
        transform: Choice.parse("model kind", among: ModelKind.generative + [.flow])) var kind: ModelKind
    @Option(
        help: ArgumentHelp(
            "Image folder, or .npy / IDX / HDF5 file (FILE.h5:/dataset names a dataset); repeat it to train on "
                + "several sources at once (one image size; a flow or jets: one file)."))
    var data: [String]
    @Option(help: "Run folder.") var out: String
    @Option(help: "Epochs.") var epochs = 5
    @Option(name: .customLong("batch-size"), help: "Batch size.") var batchSize = 64
    @Option(parsing: .unconditional, help: "Learning rate (default: 2e-4 GAN, 1e-3 VAE/AE).") var lr: Float?
    @Option(name: .customLong("latent-dim"), help: "Latent dimensions (default: 100 GAN, 16 VAE, 8 for jets).")
    var latentDim: Int?
    @Option(
        name: .customLong("image-size"),
        help: "Centre-crop and resize images to this square size (default: the data's size).") var imageSize: Int?
    @Option(help: "Channels: 1 (grey) or 3 (RGB); default as the data.") var channels: Int?
    @Option(help: "Random seed for initialisation, data order and noise.") var seed: UInt64 = 0
    @Flag(help: "Continue from OUT/checkpoint.safetensors.") var resume = false
    @Flag(help: "Replace a run already in OUT (its checkpoint, metrics and sample grids are removed first).")
    var overwrite = false
    @Option(help: "VAE/AE architecture: conv or mlp (default: conv).", transform: Choice.parse("--arch")) var arch = VAE
        .Architecture
        .conv
    @Option(
        help:
            "VAE hidden widths, comma-separated: MLP layers or the conv layers' channels (default: 32,64; mlp: 400)."
    ) var hidden: String?
    @Option(parsing: .unconditional, help: "VAE KL weight β.") var beta: Float = 1
    @Option(parsing: .unconditional, help: "Steps over which β ramps up from 0.") var warmup = 0
    @Option(
        help: "VAE decoder likelihood: bernoulli or gaussian (default: bernoulli images, gaussian jets).",
        transform: Choice.parse("--likelihood"))
    var likelihood: VAE.Likelihood?
    @Option(
        help: ArgumentHelp(
            "GAN: base feature maps (default: 64). Flow: the columns it models, comma-separated "
                + "(default: mJ1,deltaMJ,tau21J1,tau21J2)."))
    var features: String?
    @Option(help: "Flow: the columns it is conditioned on, comma-separated, or none (default: mjj).") var context:
        String?
    @Option(
        help: "Flow: each block's map, affine (MAF) or spline (rational-quadratic) (default: affine).",
        transform: Choice.parse("--transform"))
    var transform: ConditionalFlow.Transform?
    @Option(help: "Flow: MADE blocks (default: 6).") var blocks: Int?
    @Option(help: "Flow: spline bins (default: 8).") var bins: Int?
    @Option(
        help: "Flow: input scaling, logit (of the range, then standardised) or standard (default: logit).",
        transform: Choice.parse("--scaling"))
    var scaling: ConditionalFlow.Scaling?
    @Option(
        name: .customLong("logit-margin"),
        help: "Flow: the logit's range is the data's widened by this fraction on each side (default: 0.05).")
    var logitMargin: Float?
    @Option(help: "Flow: train on rows with LOW <= NAME < HIGH, as NAME:LOW:HIGH; repeatable (default: all rows).")
    var keep: [String] = []
    @Option(help: "Flow: leave out rows with LOW <= NAME < HIGH (a signal region, e.g. mjj:3.3:3.7) (default: none).")
    var exclude: [String] = []
    @Flag(name: .customLong("background-only"), help: "Flow: train on the rows labelled 0 alone (default: all).")
    var backgroundOnly = false
    @Option(
        help: ArgumentHelp(
            "GAN loss: bce (non-saturating, label smoothing 0.1), hinge, or wgan-gp (Wasserstein critic with a "
                + "gradient penalty, λ = 10 unless --gp) (default: bce)."),
        transform: Choice.parse("--loss"))
    var loss: GANRecipe.Loss?
    @Option(
        name: .customLong("lr-d"), parsing: .unconditional,
        help: "GAN discriminator learning rate, for two time-scale updates (default: --lr).")
    var lrD: Float?
    @Option(name: .customLong("n-critic"), help: "GAN discriminator steps per generator step (default: 1).")
    var nCritic: Int?
    /// Penalty weights are numbers: `.unconditional` lets a value such as 1e-3 through.
    @Option(parsing: .unconditional, help: Self.gpHelp) var gp: Float?
    @Flag(
        name: .customLong("gp-one-sided"),
        help: "GAN: penalise only gradient norms above 1 (default: two-sided, as WGAN-GP).")
    var gpOneSided = false
    @Option(parsing: .unconditional, help: Self.r1Help) var r1: Float?
    @Flag(
        name: .customLong("spectral-norm"),
        help: "GAN: spectral normalisation of every discriminator weight (SNGAN) (default: off).")
    var spectralNorm = false
    @Flag(
        help: ArgumentHelp(
            "GAN or VAE: class-conditional, on the data's labels (a folder's class sub-folders, an HDF5/.npz labels "
                + "array, an IDX label file); `sample --class` picks the class (default: off)."))
    var conditional = false
    static let gpHelp = ArgumentHelp(
        "GAN: gradient penalty λ·E[(‖∇D(x̂)‖ − 1)²] between real and generated images, any loss; the discriminator "
            + "then has no BatchNorm (default: 10 with --loss wgan-gp, else none).")
    static let r1Help = ArgumentHelp(
        "GAN: R1 penalty γ/2·E[‖∇D(x)‖²] on real images, e.g. 1 to 10; the discriminator then has no BatchNorm "
            + "(default: none).")
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "GAN: keep an exponential moving average of the generator's weights with this decay, e.g. 0.999; "
                + "sample, interpolate, quality and export use it (--raw-weights: not). (default: none)"))
    var ema: Float?
    @Option(
        help: ArgumentHelp(
            "GAN: DiffAugment policies, comma-separated, applied to real and generated images before the "
                + "discriminator: color, translation, cutout (default: none)."))
    var augment: String?
    @Option(
        name: .customLong("max-steps"),
        help: "Stop (with a checkpoint) after this many steps in total (default: all epochs).")
    var maxSteps: Int?
    @Option(
        name: .customLong("sample-every"),
        help: "Keep a sample grid every N epochs (and the last); default: about twenty a run.")
    var sampleEvery: Int?
    @Flag(
        name: .customLong("sync-batchnorm"),
        help:
            ArgumentHelp(
                "Under mpirun: BatchNorm statistics over the whole global batch (default: each rank's share, "
                    + "as PyTorch DDP).")
    )
    var syncBatchNorm = false
    @Option(
        name: .customLong("lr-schedule"),
        help: "Learning-rate schedule: constant, cosine (to 0) or step (× 0.1 a third) (default: constant).",
        transform: Choice.parse("--lr-schedule"))
    var lrSchedule = OptimizerPolicy.Schedule.constant
    @Option(name: .customLong("warmup-steps"), help: "Steps of linear learning-rate warm-up before the schedule.")
    var warmupSteps = 0
    @Option(
        name: .customLong("weight-decay"), parsing: .unconditional,
        help: "Decoupled weight decay (AdamW, as torch.optim.AdamW; 0: plain Adam).")
    var weightDecay: Float = 0
    @Option(
        name: .customLong("grad-clip"), parsing: .unconditional,
        help: "Clip each optimiser step's global gradient norm to this (default: no clipping).")
    var gradClip: Float?
    @Option(
        name: .customLong("keep-best"),
        help: ArgumentHelp(
            "Also keep best.safetensors: the epoch with the best value of this logged figure, e.g. val_neg_elbo "
                + "(VAE), val_loss (AE), val_fpd (jet GAN) (lowest; highest for AUC, accuracy, D_real) (default: "
                + "none)."))
    var keepBest: String?
    @Option(help: "Replay a run: its options.json (flags typed beside it win). (default: none)") var config: String?
    @OptionGroup var output: OutputOptions
    @OptionGroup var limits: InputLimitOptions

    func validate() throws {
        try Check.positive(epochs, "--epochs", max: 1_000_000)
        try Check.range(warmupSteps, "--warmup-steps", 0...1_000_000_000)
        try Check.finite(weightDecay, "--weight-decay", in: 0...10)
        if let gradClip { try Check.finite(gradClip, "--grad-clip", in: 0...1e9, openLower: true) }
        try Check.positive(batchSize, "--batch-size", max: 65_536)
        if let lr { try Check.finite(lr, "--lr", in: 0...10, openLower: true) }
        try Check.finite(beta, "--beta", in: 0...1e6)
        try Check.range(warmup, "--warmup", 0...100_000_000)
        if let latentDim { try Check.positive(latentDim, "--latent-dim", max: 4096) }
        guard !data.isEmpty else { throw ValidationError("give the data: --data PATH (repeat it for several sources)") }
        if kind == .flow, data.count > 1 {
            throw ValidationError("a flow trains on one feature table: give --data once")
        }
        if let imageSize { try Check.range(imageSize, "--image-size", 8...512) }
        if let channels, ![1, 3].contains(channels) {
            throw ValidationError("--channels must be 1 (grey) or 3 (RGB), not \(channels)")
        }
        if let features, kind != .flow {
            guard let f = Int(features) else { throw ValidationError("--features: '\(features)' is not a number") }
            try Check.positive(f, "--features", max: 1024)
        }
        if kind != .flow,
            context != nil || transform != nil || blocks != nil || bins != nil || scaling != nil
                || logitMargin != nil || !keep.isEmpty || !exclude.isEmpty || backgroundOnly
        {
            throw ValidationError(
                "--context, --transform, --blocks, --bins, --scaling, --logit-margin, --keep, --exclude and "
                    + "--background-only are flow options")
        }
        if kind == .flow, let problems = try? flowOptions().problems, !problems.isEmpty {
            throw ValidationError(problems.joined(separator: "; "))
        }
        _ = try flowOptions()
        if let lrD { try Check.finite(lrD, "--lr-d", in: 0...10, openLower: true) }
        if let nCritic { try Check.range(nCritic, "--n-critic", 1...100) }
        if let ema { try Check.finite(ema, "--ema", in: 0...1, openLower: true) }
        if ema == 1 { throw ValidationError("--ema must be below 1 (a decay; 0.999 is usual)") }
        _ = try augmentPolicies()
        if let gp { try Check.finite(gp, "--gp", in: 0...10_000, openLower: true) }
        if let r1 { try Check.finite(r1, "--r1", in: 0...10_000, openLower: true) }
        if kind != .gan,
            loss != nil || lrD != nil || nCritic != nil || ema != nil || augment != nil || gp != nil
                || gpOneSided || r1 != nil || spectralNorm
        {
            throw ValidationError(
                "--loss, --lr-d, --n-critic, --ema, --augment, --gp, --gp-one-sided, --r1 and --spectral-norm are GAN "
                    + "options")
        }
        if gpOneSided && gp == nil && loss != .wganGP {
            throw ValidationError("--gp-one-sided needs a gradient penalty (--gp LAMBDA or --loss wgan-gp)")
        }
        if let maxSteps { try Check.positive(maxSteps, "--max-steps", max: Int.max) }
        if let sampleEvery { try Check.positive(sampleEvery, "--sample-every", max: 1_000_000) }
        if resume && overwrite { throw ValidationError("--resume and --overwrite exclude each other") }
        if let hidden {
            for part in hidden.split(separator: ",", omittingEmptySubsequences: false) {
                guard let v = Int(part), (1...8192).contains(v) else {
                    throw ValidationError(
                        "--hidden: '\(part)' is not a width in 1...8192 (comma-separated widths, e.g. 32,64)")
                }
            }
        }
    }

    func run() throws {
        try output.run { try kind == .flow ? trainFlow() : train() }
    }

    /// The flow's typed options from the flags.
    func flowOptions() throws -> FlowOptions {
        var f = FlowOptions()
        func list(_ text: String) -> [String] {
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let features, kind == .flow { f.features = list(features) }
        if let context { f.context = context == "none" ? [] : list(context) }
        if let transform { f.transform = transform }
        if let blocks { f.blocks = blocks }
        if let bins { f.bins = bins }
        if let scaling { f.scaling = scaling }
        if let logitMargin { f.logitMargin = logitMargin }
        if let hidden, kind == .flow { f.hidden = hidden.split(separator: ",").compactMap { Int($0) } }
        f.keep = try keep.map { try RangeCut(parsing: $0, flag: "--keep") }
        f.exclude = try exclude.map { try RangeCut(parsing: $0, flag: "--exclude") }
        f.backgroundOnly = backgroundOnly
        return f
    }

    /// The shared loop's options from the flags (every model kind; the image-only ones stay nil for a flow).
    func loopOptions() -> TrainOptions {
        var options = TrainOptions()
        options.epochs = epochs; options.batchSize = batchSize; options.learningRate = lr; options.latentDim = latentDim
        options.imageSize = imageSize; options.seed = seed; options.maxSteps = maxSteps
        options.quiet = output.quiet
        options.sampleEvery = sampleEvery
        if Cluster.world.isDistributed { options.ranks = Cluster.world.size }
        if syncBatchNorm { options.syncBatchNorm = true }
        var policy = OptimizerPolicy()
        policy.schedule = lrSchedule; policy.warmupSteps = warmupSteps; policy.weightDecay = weightDecay
        policy.gradClip = gradClip
        if policy != OptimizerPolicy() { options.optimizer = policy }
        options.keepBest = keepBest
        if kind == .ae, let old = keepBest, let new = VAETask.autoencoderRenamedMetrics[old] {
            // An autoencoder logs its held-out loss as val_loss since it stopped being a VAE.
            Deprecation.note("--keep-best \(old) for an autoencoder", use: "--keep-best \(new)", quiet: output.quiet)
            options.keepBest = new
        }
        return options
    }

    /// `train flow`: a conditional normalising flow on the rows of a feature table.
    func trainFlow() throws -> Outcome {
        try OutputGuard.refuse(folder: out, inputs: data)
        if loss != nil || lrD != nil || nCritic != nil || ema != nil || augment != nil || gp != nil || gpOneSided
            || r1 != nil || spectralNorm || imageSize != nil || channels != nil || latentDim != nil || conditional
        {
            throw ValidationError(
                "--loss, --lr-d, --n-critic, --ema, --augment, --gp, --gp-one-sided, --r1, --spectral-norm, "
                    + "--image-size, --channels, --latent-dim and --conditional are image-model options (a flow's "
                    + "condition is --context)")
        }
        let options = loopOptions()
        let flow = try flowOptions()
        let trainer = try TrainingSetup.makeFlow(data: data[0], out: out, options: options, flow: flow)
        if let task = trainer.task as? FlowTask {
            print(
                "training a flow (\(flow.transform)) on \(data[0]): \(task.exampleCount) rows of "
                    + "\(flow.features.joined(separator: ", "))"
                    + (flow.context.isEmpty ? "" : " given \(flow.context.joined(separator: ", "))"))
        }
        let s = try trainer.train(resume: resume, overwrite: overwrite)
        print(
            String(
                format: "%@ after %d steps (%d epochs) in %.1f s", s.interrupted ? "stopped" : "done", s.steps,
                s.epochs, s.seconds))
        for k in s.lastMetrics.keys.sorted() where ["loss", "val_nll"].contains(k) {
            print(String(format: "  %@ = %.5g", k, s.lastMetrics[k]!))
        }
        print("run folder: \(out) (checkpoint.safetensors, metrics.csv, loss.png, report.html)")
        if s.interrupted { throw ExitCode(130) }
        var figures = s.lastMetrics
        figures["seconds"] = s.seconds
        return Outcome(
            command: "train", out: out,
            files: ["checkpoint.safetensors", "metrics.csv", "loss.png", "options.json"].map { out + "/" + $0 },
            figures: figures)
    }

    /// --augment as policies; an unknown name is refused with the allowed ones.
    func augmentPolicies() throws -> [DiffAugment.Policy]? {
        guard let augment else { return nil }
        return try augment.split(separator: ",").map { part in
            guard let p = DiffAugment.Policy(rawValue: part.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--augment: '\(part)' is not \(DiffAugment.Policy.choices)")
            }
            return p
        }
    }

    // Long: sets the run up from the flags, trains, and reports what it did.
    func train() throws -> Outcome {
        try OutputGuard.refuse(folder: out, inputs: data)
        let options = loopOptions()
        let cluster = Cluster.world
        if kind == .ae, beta != 1 || warmup != 0, cluster.isRoot, !output.quiet {
            // Kept working (scripts pass them), but said: an autoencoder has no KL term to weigh.
            FileHandle.standardError.write(
                Data(
                    "genlab: note: an autoencoder has no KL term: --beta and --warmup change nothing (train vae)\n".utf8
                ))
        }
        var model = TrainingSetup.ModelOptions()
        model.architecture = arch; model.beta = beta; model.warmupSteps = warmup; model.likelihood = likelihood
        model.features = features.flatMap { Int($0) }; model.channels = channels
        model.loss = loss; model.lrD = lrD; model.nCritic = nCritic; model.ema = ema;
        model.augment = try augmentPolicies()
        model.gp = gp; model.gpOneSided = gpOneSided ? true : nil; model.r1 = r1
        model.spectralNorm = spectralNorm ? true : nil
        model.conditional = conditional ? true : nil
        model.hidden = hidden.map { h in h.split(separator: ",").compactMap { Int($0) } }
        let trainer = try TrainingSetup.make(kind: kind, sources: data, out: out, options: options, model: model)
        if let images = trainer.images {
            let spec = images.spec
            print(
                "training \(kind) on \(spec.source): \(images.set.count) images "
                    + "\(spec.channels)×\(spec.imageSize)×\(spec.imageSize) (\(spec.scaling))"
                    + (cluster.isDistributed
                        ? ", data-parallel over \(cluster.size) ranks (global batch \(batchSize))" : ""))
            if let names = spec.classNames {
                print("class-conditional on \(names.count) classes: \(names.joined(separator: ", "))")
            }
        }
        let s = try trainer.train(resume: resume, overwrite: overwrite)
        print(
            String(
                format: "%@ after %d steps (%d epochs) in %.1f s", s.interrupted ? "stopped" : "done", s.steps,
                s.epochs, s.seconds))
        for k in s.lastMetrics.keys.sorted() where !["step", "epoch", "samples_per_s"].contains(k) {
            print(String(format: "  %@ = %.5g", k, s.lastMetrics[k]!))
        }
        if cluster.isDistributed, s.stepsThisRun > 0 {
            let steps = Double(s.stepsThisRun)
            print(
                String(
                    format: "all-reduce on rank 0: %.2f MB of gradients a step, %.2f ms a step (%.1f%% of the run)",
                    Double(s.reducedBytes) / steps / 1e6, s.reduceSeconds / steps * 1e3,
                    100 * s.reduceSeconds / max(s.seconds, 1e-9)))
        }
        print("run folder: \(out) (checkpoint.safetensors, metrics.csv, loss.png, samples.png)")
        if s.interrupted { throw ExitCode(130) }  // Ctrl-C: saved, and the shell sees the interrupt
        var figures = s.lastMetrics
        figures["seconds"] = s.seconds
        return Outcome(
            command: "train", out: out,
            files: ["checkpoint.safetensors", "metrics.csv", "loss.png", "samples.png", "options.json"].map {
                out + "/" + $0
            }, figures: figures)
    }
}
