import Engine
import Formats
import Foundation
import Models
import NN

/// VAE (or plain autoencoder) training: Adam, loss = mean over the batch of reconstruction
/// NLL + β·KL, with β ramped linearly from 0 over `warmupSteps`; a held-out split gives the
/// validation negative ELBO each epoch. An autoencoder's loss is the reconstruction NLL alone, and
/// it logs `loss` and `val_loss` only.
public final class VAETask: ImageTrainingTask {
    public var kind: ModelKind { vae.config.plain ? .ae : .vae }
    public let vae: VAE
    public let images: TrainingImages
    let optimizer: Adam
    let validation: Tensor?
    /// The held-out images' classes (a conditional VAE).
    let validationLabels: [Int]?
    let prior: Tensor
    public var warmupSteps = 0
    var parallel: DataParallel?

    /// The base learning rate and how the optimiser is driven around it.
    let baseRate: Float
    let policy: OptimizerPolicy

    public init(
        _ config: VAE.Config, images: TrainingImages, lr: Float = 1e-3, seed: UInt64, validation: Tensor?,
        validationLabels: [Int]? = nil, policy: OptimizerPolicy = OptimizerPolicy()
    ) {
        self.images = images
        var rng = PRNG(seed: seed).fork(3)
        vae = VAE(config, rng: &rng)
        optimizer = policy.optimizer(vae.namedParameters(), lr: lr)
        baseRate = lr
        self.policy = policy
        self.validation = validation
        self.validationLabels = validationLabels
        var fixed = PRNG(seed: seed).fork(4)
        // A conditional model's grid shows every class in turn.
        prior = vae.conditioned(
            Tensor.normal([64, config.latentDim], rng: &fixed),
            labels: ClassConditioning.labels(nil, count: 64, classes: config.classCount))
    }

    public var metricNames: [String] {
        vae.config.plain
            ? ["loss", "val_loss"]
            : ["loss", "reconstruction", "kl", "beta", "val_neg_elbo", "val_reconstruction", "val_kl"]
    }
    public var plottedMetrics: [String] {
        vae.config.plain ? ["loss", "val_loss"] : ["loss", "reconstruction", "kl", "val_neg_elbo"]
    }

    /// Figures an autoencoder logged under a VAE's names before it became its own model, by their
    /// name now (`--keep-best` takes the old spellings with a note).
    public static let autoencoderRenamedMetrics = ["val_neg_elbo": "val_loss", "val_reconstruction": "val_loss"]

    public var exampleCount: Int { images.set.count }
    public var reportRows: [(String, String)] { images.reportRows }

    /// β after `steps` finished steps: ramped linearly from 0 over `warmupSteps`.
    public func beta(after steps: Int) -> Float {
        warmupSteps > 0 ? vae.config.beta * Swift.min(1, Float(steps) / Float(warmupSteps)) : vae.config.beta
    }

    public func step(
        _ examples: [Int], at position: StepPosition, data: inout PRNG, noise: inout PRNG
    ) -> [String: Double] {
        step(
            images.batch(examples), labels: images.labels(examples), beta: beta(after: position.step), noise: &noise,
            at: position.step)
    }

    /// One Adam update on the images `x` (of classes `labels` for a conditional VAE) with KL weight `b`.
    public func step(
        _ x: Tensor, labels: [Int]? = nil, beta b: Float, noise: inout PRNG, at step: Int = 0
    ) -> [String: Double] {
        let t = vae.terms(x, labels: labels) { parallel?.normal($0, rng: &noise) ?? Tensor.normal($0, rng: &noise) }
        let recon = t.reconstruction.mean(), kl = t.kl.mean()
        let loss = recon + kl * b
        optimizer.zeroGrad()
        loss.backward()
        parallel?.averageGradients(optimizer.parameters)
        policy.prepare(optimizer, base: baseRate, step: step)
        optimizer.step()
        if vae.config.plain { return ["loss": Double(loss.item())] }
        return [
            "loss": Double(loss.item()), "reconstruction": Double(recon.item()), "kl": Double(kl.item()),
            "beta": Double(b),
        ]
    }

    /// Negative ELBO (β = 1) on the held-out images, one posterior sample each.
    public func evaluate(noise: inout PRNG) -> [String: Double] {
        guard let validation else { return [:] }
        return noGrad {
            vae.eval()
            defer { vae.train() }
            var recon = 0.0, kl = 0.0
            let n = validation.shape[0]
            for start in stride(from: 0, to: n, by: 256) {
                let end = Swift.min(n, start + 256)
                let x = validation.slice(axis: 0, start: start, end: end)
                let t = vae.terms(x, labels: validationLabels.map { Array($0[start..<end]) }, rng: &noise)
                recon += Double(t.reconstruction.sum().item()); kl += Double(t.kl.sum().item())
            }
            if vae.config.plain { return ["val_loss": recon / Double(n)] }
            return [
                "val_neg_elbo": (recon + kl) / Double(n), "val_reconstruction": recon / Double(n),
                "val_kl": kl / Double(n),
            ]
        }
    }

    public func useDataParallel(_ parallel: DataParallel, synchroniseBatchNorm: Bool) {
        self.parallel = parallel
        parallel.synchroniseBatchNorm(in: vae, synchroniseBatchNorm)
    }

    public func samples() -> SampleImages? {
        vae.eval()
        defer { vae.train() }
        guard vae.config.plain else { return images.samples(vae.decode(prior)) }
        // A plain autoencoder has no prior to draw from (decoding random codes gives noise): its
        // grid is held-out inputs over their reconstructions, row by row.
        let source = validation ?? images.set.images
        let n = Swift.min(32, source.shape[0])
        guard n > 0 else { return nil }
        let inputs = source.slice(axis: 0, start: 0, end: n).detach()
        let labels = validation != nil ? validationLabels : images.labels(Array(0..<n))
        let reconstructions = vae.reconstruct(inputs, labels: labels.map { Array($0.prefix(n)) })
        return images.samples(Self.pairedRows(inputs, reconstructions, columns: 8))
    }

    /// Rows of `columns` inputs, each followed by the row of their reconstructions.
    static func pairedRows(_ a: Tensor, _ b: Tensor, columns: Int) -> Tensor {
        let n = a.shape[0]
        var parts: [Tensor] = []
        for start in stride(from: 0, to: n, by: columns) {
            let end = Swift.min(n, start + columns)
            parts += [a.slice(axis: 0, start: start, end: end), b.slice(axis: 0, start: start, end: end)]
        }
        return Tensor.concat(parts, axis: 0).detach()
    }

    public func checkpoint(training: TrainingState) throws -> Checkpoint {
        try Checkpoint(
            kind: kind.rawValue, config: vae.config, module: vae, optimizer: optimizer, training: training,
            metadata: images.metadata())
    }

    public func restore(_ checkpoint: Checkpoint, file: String) throws {
        try images.checkResumable(checkpoint, file: file)
        try vae.load(checkpoint, optimizer: optimizer, file: file)
    }
}
