import Engine
import Formats
import Foundation
import Models
import NN

/// GAN training: a discriminator step per batch and a generator step every `recipe.nCritic`-th,
/// Adam(2e-4, β₁ = 0.5) (the discriminator's rate may differ: TTUR), BCE on logits with a
/// non-saturating generator loss (or the original minimax one) and one-sided label smoothing for real
/// images, the hinge loss, or the Wasserstein loss; gradient penalties on the discriminator's input
/// gradient (WGAN-GP between real and generated images, R1 on real ones — gradients of gradients);
/// optionally DiffAugment on both networks' views and an exponential moving average of the
/// generator's weights.
public final class GANTask: ImageTrainingTask {
    public let kind = ModelKind.gan
    public let gan: DCGAN
    public let images: TrainingImages
    let optG: Adam, optD: Adam
    let fixedNoise: Tensor
    public var nonSaturating = true
    public var labelSmoothing: Float = 0.1
    public let recipe: GANRecipe
    /// The generator's weight average (`recipe.ema`); what samples are drawn from when present.
    public let averaged: DCGAN.Generator?
    var parallel: DataParallel?
    /// Jet images: the epoch's FPD against training jets (`val_fpd`).
    let jetFPD: JetFPDMonitor?
    /// Consecutive steps with D(fake) below 0.02, and whether the user has been told.
    var starvedSteps = 0, warnedStarved = false

    /// The base learning rate and how both optimisers are driven around it.
    let baseRate: Float
    let policy: OptimizerPolicy

    public init(
        _ config: DCGAN.Config, images: TrainingImages, lr: Float = 2e-4, seed: UInt64,
        policy: OptimizerPolicy = OptimizerPolicy(), recipe: GANRecipe = GANRecipe()
    ) {
        self.images = images
        self.recipe = recipe
        var rng = PRNG(seed: seed).fork(3)
        gan = DCGAN(config, rng: &rng)
        optG = policy.optimizer(gan.generator.namedParameters(prefix: "generator."), lr: lr, betas: (0.5, 0.999))
        optD = policy.optimizer(
            gan.discriminator.namedParameters(prefix: "discriminator."), lr: recipe.lrD ?? lr, betas: (0.5, 0.999))
        baseRate = lr
        if recipe.ema != nil {
            let copy = gan.makeGenerator()
            try! copy.loadStateDict(gan.generator.stateDict())  // same architecture: cannot fail
            averaged = copy
        } else {
            averaged = nil
        }
        self.policy = policy
        jetFPD = JetFPDMonitor(images: images, gan: gan)
        var fixed = PRNG(seed: seed).fork(4)
        // A conditional model's grid shows every class in turn.
        fixedNoise = gan.conditioned(
            Tensor.normal([64, config.latentDim], rng: &fixed),
            labels: ClassConditioning.labels(nil, count: 64, classes: config.classCount))
    }

    public var metricNames: [String] {
        ["loss_D", "loss_G", "D_real", "D_fake"] + (recipe.differentiatesCritic ? ["penalty"] : [])
            + (jetFPD != nil ? ["val_fpd"] : [])
    }

    /// A jet GAN's FPD against training jets, from the generator it samples with (`val_fpd`).
    public func evaluate(noise: inout PRNG) -> [String: Double] {
        guard let jetFPD else { return [:] }
        return ["val_fpd": jetFPD.fpd(averaged ?? gan.generator)]
    }
    public var plottedMetrics: [String] { ["loss_D", "loss_G"] }

    public var exampleCount: Int { images.set.count }
    public var reportRows: [(String, String)] { images.reportRows }

    public func step(
        _ examples: [Int], at position: StepPosition, data: inout PRNG, noise: inout PRNG
    ) -> [String: Double] {
        step(images.batch(examples), labels: images.labels(examples), noise: &noise, at: position.step)
    }

    /// One discriminator update on the images `real` (of classes `labels` for a conditional GAN, whose
    /// fakes are drawn for the same classes), and a generator update every `nCritic`-th step.
    public func step(_ real: Tensor, labels: [Int]? = nil, noise: inout PRNG, at step: Int = 0) -> [String: Double] {
        let n = real.shape[0]
        let z =
            parallel?.normal([n, gan.config.latentDim], rng: &noise)
            ?? Tensor.normal([n, gan.config.latentDim], rng: &noise)
        let classes = gan.isConditional ? ClassConditioning.oneHot(labels ?? [], classes: gan.config.classCount) : nil
        let fake = gan.generator(gan.conditioned(z, labels: labels))
        // What the discriminator sees: both kinds of image through the same random augmentation.
        func view(_ x: Tensor) -> Tensor {
            recipe.augment.isEmpty ? x : DiffAugment.apply(x, recipe.augment, rng: &noise)
        }
        // In the discriminator's own representation (√pT for jets), where the penalties are taken;
        // R1 differentiates D at the real images, so they enter as leaves that require a gradient.
        let d = gan.discriminator
        let realView = d.represent(view(real)).detach(), fakeView = d.represent(view(fake.detach())).detach()
        if recipe.r1 != nil { realView.requiresGrad = true }
        let dReal = d.judge(realView, classes: classes), dFake = d.judge(fakeView, classes: classes)
        var lossD: Tensor
        switch recipe.loss {
        case .bce:
            // Real → 1 − smoothing, fake → 0.
            lossD =
                Loss.bceWithLogits(dReal, Tensor.full([n], 1 - labelSmoothing))
                + Loss.bceWithLogits(dFake, Tensor.zeros([n]))
        case .hinge:
            lossD = (1 - dReal).relu().mean() + (1 + dFake).relu().mean()
        case .wganGP:
            lossD = dFake.mean() - dReal.mean()
        }
        var penalty: Tensor? = nil
        if let lambda = recipe.gradientPenalty {
            penalty = gradientPenalty(realView.detach(), fakeView, classes: classes, noise: &noise) * lambda
        }
        if let gamma = recipe.r1 {
            let r1 = Self.squaredGradientNorm(of: dReal, at: realView) * (gamma / 2)
            penalty = penalty.map { $0 + r1 } ?? r1
        }
        if let penalty { lossD = lossD + penalty }
        optD.zeroGrad()
        lossD.backward()
        parallel?.averageGradients(optD.parameters)
        policy.prepare(optD, base: recipe.lrD ?? baseRate, step: step)
        optD.step()
        var lossGValue: Double
        if (step + 1) % recipe.nCritic == 0 {
            // Generator: through a frozen discriminator (its own gradients would be cleared before its
            // next step unused): maximise log D(G(z)) (non-saturating) or minimise log(1 − D(G(z))); hinge: −D(G(z)).
            let lossG = gan.discriminator.frozen {
                let loss = generatorLoss(gan.discriminator(view(fake), classes: classes))
                optG.zeroGrad()
                loss.backward()
                return loss
            }
            parallel?.averageGradients(optG.parameters)
            policy.prepare(optG, base: baseRate, step: step)
            optG.step()
            updateAverage(generatorSteps: (step + 1) / recipe.nCritic)
            lossGValue = Double(lossG.item())
        } else {
            // No generator step: its loss on this batch, from the discriminator's view of the same fakes.
            lossGValue = Double(noGrad { generatorLoss(dFake) }.item())
        }
        let dFakeMean = Double(noGrad { dFake.sigmoid().mean() }.item())
        // A Wasserstein critic's outputs are not log-odds: a low σ(D(fake)) is no sign of a won game.
        if recipe.loss != .wganGP { watchForAStarvedGenerator(dFakeMean) }
        var metrics = [
            "loss_D": Double(lossD.item()), "loss_G": lossGValue,
            "D_real": Double(noGrad { dReal.sigmoid().mean() }.item()), "D_fake": dFakeMean,
        ]
        if let penalty { metrics["penalty"] = Double(penalty.item()) }
        return metrics
    }

    /// E[‖∇ₓD(x)‖²] over the batch (R1's expectation) for logits `d` computed from leaves `x`, on the tape.
    static func squaredGradientNorm(of d: Tensor, at x: Tensor) -> Tensor {
        let g = grad(of: d.sum(), withRespectTo: [x], createGraph: true)[0]!
        return (g * g).flatten(from: 1).sum(axes: [1]).mean()
    }

    /// E[(‖∇D(x̂)‖ − 1)²] — one-sided: E[max(0, ‖∇D(x̂)‖ − 1)²] — at x̂ = ε·real + (1 − ε)·fake with
    /// ε ~ U(0, 1) per image, images in the discriminator's representation: the gradient of D's sum
    /// is recorded, so the penalty's own gradient reaches D's weights.
    func gradientPenalty(_ real: Tensor, _ fake: Tensor, classes: Tensor? = nil, noise: inout PRNG) -> Tensor {
        let e = Tensor.uniform([real.shape[0], 1, 1, 1], rng: &noise)
        let between = (e * real + (1 - e) * fake).detach()
        between.requiresGrad = true
        let g = grad(
            of: gan.discriminator.judge(between, classes: classes).sum(), withRespectTo: [between], createGraph: true)[
                0]!
        // + 10⁻¹²: a finite derivative of the norm where the gradient vanishes.
        let norm = ((g * g).flatten(from: 1).sum(axes: [1]) + 1e-12).sqrt()
        let excess = recipe.gpOneSided == true ? (norm - 1).relu() : norm - 1
        return (excess * excess).mean()
    }

    /// The generator's loss on the discriminator's logits for its images: −log D (non-saturating) or
    /// log(1 − D) (minimax) for bce, −D for hinge and wgan-gp.
    func generatorLoss(_ dGen: Tensor) -> Tensor {
        let n = dGen.shape[0]
        switch recipe.loss {
        case .bce:
            return nonSaturating
                ? Loss.bceWithLogits(dGen, Tensor.ones([n])) : -Loss.bceWithLogits(dGen, Tensor.zeros([n]))
        case .hinge, .wganGP: return -dGen.mean()
        }
    }

    /// averaged ← d · averaged + (1 − d) · generator, buffers (BatchNorm statistics) copied, with
    /// d = min(decay, (1 + t)/(10 + t)) after t generator steps: the warm-up of TensorFlow's
    /// ExponentialMovingAverage(num_updates), so that a short run's average is not its initialisation.
    func updateAverage(generatorSteps t: Int) {
        guard let averaged, let ema = recipe.ema else { return }
        let decay = min(ema, Float(1 + t) / Float(10 + t))
        for ((_, a), (_, p)) in zip(averaged.namedParameters(), gan.generator.namedParameters()) {
            let pa = a.storage.pointer, pp = p.storage.pointer
            for i in 0..<a.count { pa[i] = decay * pa[i] + (1 - decay) * pp[i] }
        }
        for ((_, a), (_, b)) in zip(averaged.namedBuffers(), gan.generator.namedBuffers()) { a.value = b.value.copy() }
    }

    /// One warning when D(fake) stays near 0 for 300 steps: the discriminator has won and the
    /// generator learns little (mode collapse is near).
    func watchForAStarvedGenerator(_ dFake: Double) {
        starvedSteps = dFake < 0.02 ? starvedSteps + 1 : 0
        guard starvedSteps >= 300, !warnedStarved else { return }
        warnedStarved = true
        Warnings.emit(
            "D(fake) has stayed below 0.02 for 300 steps: the discriminator wins and the generator learns little "
                + "(mode collapse is likely); try --augment translation,cutout,color, --loss hinge, a lower --lr-d, "
                + "or stop earlier")
    }

    public func useDataParallel(_ parallel: DataParallel, synchroniseBatchNorm: Bool) {
        self.parallel = parallel
        parallel.synchroniseBatchNorm(in: gan.module, synchroniseBatchNorm)
    }

    public func samples() -> SampleImages? {
        let generator = averaged ?? gan.generator
        generator.eval()
        defer { generator.train() }
        return images.samples(generator(fixedNoise))
    }

    public func checkpoint(training: TrainingState) throws -> Checkpoint {
        var optimiser = optG.stateDict()
        for (k, v) in optD.stateDict() { optimiser[k] = v }
        for (k, v) in averaged?.stateDict() ?? [:] { optimiser[Self.averagePrefix + k] = v }
        var c = try Checkpoint(
            kind: kind.rawValue, config: gan.config, module: gan.module, training: training, metadata: images.metadata()
        )
        c.optimizer = optimiser
        return c
    }

    public func restore(_ checkpoint: Checkpoint, file: String) throws {
        try images.checkResumable(checkpoint, file: file)
        try checkpoint.restore(into: gan.module, file: file)
        if let state = checkpoint.optimizer {
            do {
                try optG.loadStateDict(state.filter { $0.key.hasPrefix("generator.") })
                try optD.loadStateDict(state.filter { $0.key.hasPrefix("discriminator.") })
            } catch { throw FormatError(file, "\(error)") }
        }
        if let averaged {
            // A run that did not average before starts its average from the weights it resumes with.
            let saved = Self.average(in: checkpoint)
            do { try averaged.loadStateDict(saved.isEmpty ? gan.generator.stateDict() : saved) } catch {
                throw FormatError(file, "the generator's weight average: \(error)")
            }
        }
    }

    /// Where the checkpoint keeps the generator's weight average: beside the optimiser state
    /// (`_optimizer.ema.generator.<key>`), so that the model's own keys stay what PyTorch loads strictly.
    public static let averagePrefix = "ema.generator."

    /// The generator's weight average a checkpoint holds, keyed as the generator's state dict (empty if none).
    public static func average(in checkpoint: Checkpoint) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, v) in checkpoint.optimizer ?? [:] where k.hasPrefix(averagePrefix) {
            out[String(k.dropFirst(averagePrefix.count))] = v
        }
        return out
    }
}
