import Engine
import Foundation
import Formats
import Models
import NN

/// VAE (or plain autoencoder) training: Adam, loss = mean over the batch of reconstruction
/// NLL + β·KL, with β ramped linearly from 0 over `warmupSteps`; a held-out split gives the
/// validation negative ELBO each epoch.
public final class VAETask: TrainingTask {
    public var kind: String { vae.config.plain ? "ae" : "vae" }
    public let vae: VAE
    let optimizer: Adam
    let validation: Tensor?
    let prior: Tensor
    public var warmupSteps = 0
    var steps = 0
    var parallel: DataParallel?

    public init(_ config: VAE.Config, lr: Float = 1e-3, seed: UInt64, validation: Tensor?) {
        var rng = PRNG(seed: seed).fork(3)
        vae = VAE(config, rng: &rng)
        optimizer = Adam(vae.namedParameters(), lr: lr)
        self.validation = validation
        var fixed = PRNG(seed: seed).fork(4)
        prior = Tensor.normal([64, config.latentDim], rng: &fixed)
    }

    public var metricNames: [String] { ["loss", "reconstruction", "kl", "beta", "val_neg_elbo", "val_reconstruction", "val_kl"] }
    public var plottedMetrics: [String] { vae.config.plain ? ["loss", "val_neg_elbo"] : ["loss", "reconstruction", "kl", "val_neg_elbo"] }

    public var beta: Float {
        warmupSteps > 0 ? vae.config.beta * Swift.min(1, Float(steps) / Float(warmupSteps)) : vae.config.beta
    }

    public func step(_ x: Tensor, noise: inout PRNG) -> [String: Double] {
        let b = beta
        let t = vae.terms(x) { parallel?.normal($0, rng: &noise) ?? Tensor.normal($0, rng: &noise) }
        let recon = t.reconstruction.mean(), kl = t.kl.mean()
        let loss = recon + kl * b
        optimizer.zeroGrad()
        loss.backward()
        parallel?.averageGradients(optimizer.parameters)
        optimizer.step()
        steps += 1
        return ["loss": Double(loss.item()), "reconstruction": Double(recon.item()), "kl": Double(kl.item()), "beta": Double(b)]
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
                let x = validation.slice(axis: 0, start: start, end: Swift.min(n, start + 256))
                let t = vae.terms(x, rng: &noise)
                recon += Double(t.reconstruction.sum().item()); kl += Double(t.kl.sum().item())
            }
            return ["val_neg_elbo": (recon + kl) / Double(n), "val_reconstruction": recon / Double(n), "val_kl": kl / Double(n)]
        }
    }

    public func useDataParallel(_ parallel: DataParallel, synchroniseBatchNorm: Bool) {
        self.parallel = parallel
        parallel.synchroniseBatchNorm(in: vae, synchroniseBatchNorm)
    }

    public func samples() -> Tensor {
        vae.eval()
        defer { vae.train() }
        return vae.decode(prior)
    }

    public func checkpoint(training: TrainingState, data: DataSpec) throws -> Checkpoint {
        var t = training
        t.extra["vae_steps"] = String(steps)
        return try Checkpoint(kind: kind, config: vae.config, module: vae, optimizer: optimizer, training: t,
                              metadata: ["genlab.data": String(decoding: try JSONEncoder().encode(data), as: UTF8.self)])
    }

    public func restore(_ checkpoint: Checkpoint, file: String) throws {
        try checkpoint.restore(into: vae, optimizer: optimizer, file: file)
        steps = Int(checkpoint.training?.extra["vae_steps"] ?? "0") ?? 0
    }
}
