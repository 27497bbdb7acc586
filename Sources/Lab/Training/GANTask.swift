import Engine
import Formats
import Foundation
import Models
import NN

/// GAN training: one discriminator step and one generator step per batch, Adam(2e-4, β₁ = 0.5),
/// BCE on logits, non-saturating generator loss (or the original minimax one), one-sided label
/// smoothing for real images.
public final class GANTask: ImageTrainingTask {
    public let kind = ModelKind.gan
    public let gan: DCGAN
    public let images: TrainingImages
    let optG: Adam, optD: Adam
    let fixedNoise: Tensor
    public var nonSaturating = true
    public var labelSmoothing: Float = 0.1
    var parallel: DataParallel?

    /// The base learning rate and how both optimisers are driven around it.
    let baseRate: Float
    let policy: OptimizerPolicy

    public init(
        _ config: DCGAN.Config, images: TrainingImages, lr: Float = 2e-4, seed: UInt64,
        policy: OptimizerPolicy = OptimizerPolicy()
    ) {
        self.images = images
        var rng = PRNG(seed: seed).fork(3)
        gan = DCGAN(config, rng: &rng)
        optG = policy.optimizer(gan.generator.namedParameters(prefix: "generator."), lr: lr, betas: (0.5, 0.999))
        optD = policy.optimizer(
            gan.discriminator.namedParameters(prefix: "discriminator."), lr: lr, betas: (0.5, 0.999))
        baseRate = lr
        self.policy = policy
        var fixed = PRNG(seed: seed).fork(4)
        fixedNoise = Tensor.normal([64, config.latentDim], rng: &fixed)
    }

    public var metricNames: [String] { ["loss_D", "loss_G", "D_real", "D_fake"] }
    public var plottedMetrics: [String] { ["loss_D", "loss_G"] }

    public var exampleCount: Int { images.set.count }
    public var reportRows: [(String, String)] { images.reportRows }

    public func step(
        _ examples: [Int], at position: StepPosition, data: inout PRNG, noise: inout PRNG
    ) -> [String: Double] {
        step(images.batch(examples), noise: &noise, at: position.step)
    }

    /// One discriminator and one generator update on the images `real`.
    public func step(_ real: Tensor, noise: inout PRNG, at step: Int = 0) -> [String: Double] {
        let n = real.shape[0]
        let z =
            parallel?.normal([n, gan.config.latentDim], rng: &noise)
            ?? Tensor.normal([n, gan.config.latentDim], rng: &noise)
        let fake = gan.generator(z)
        // Discriminator: real → 1 − smoothing, fake → 0.
        let dReal = gan.discriminator(real), dFake = gan.discriminator(fake.detach())
        let lossD =
            Loss.bceWithLogits(dReal, Tensor.full([n], 1 - labelSmoothing))
            + Loss.bceWithLogits(dFake, Tensor.zeros([n]))
        optD.zeroGrad()
        lossD.backward()
        parallel?.averageGradients(optD.parameters)
        policy.prepare(optD, base: baseRate, step: step)
        optD.step()
        // Generator: maximise log D(G(z)) (non-saturating) or minimise log(1 − D(G(z))), through a
        // frozen discriminator (its own gradients would be cleared before its next step unused).
        let lossG = gan.discriminator.frozen {
            let dGen = gan.discriminator(fake)
            let loss =
                nonSaturating
                ? Loss.bceWithLogits(dGen, Tensor.ones([n])) : -Loss.bceWithLogits(dGen, Tensor.zeros([n]))
            optG.zeroGrad()
            loss.backward()
            return loss
        }
        parallel?.averageGradients(optG.parameters)
        policy.prepare(optG, base: baseRate, step: step)
        optG.step()
        return [
            "loss_D": Double(lossD.item()), "loss_G": Double(lossG.item()),
            "D_real": Double(noGrad { dReal.sigmoid().mean() }.item()),
            "D_fake": Double(noGrad { dFake.sigmoid().mean() }.item()),
        ]
    }

    public func useDataParallel(_ parallel: DataParallel, synchroniseBatchNorm: Bool) {
        self.parallel = parallel
        parallel.synchroniseBatchNorm(in: gan.module, synchroniseBatchNorm)
    }

    public func samples() -> SampleImages? {
        gan.generator.eval()
        defer { gan.generator.train() }
        return images.samples(gan.generator(fixedNoise))
    }

    public func checkpoint(training: TrainingState) throws -> Checkpoint {
        var optimiser = optG.stateDict()
        for (k, v) in optD.stateDict() { optimiser[k] = v }
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
    }
}
