import Engine
import Foundation
import NN

/// A variational autoencoder (Kingma & Welling 2014), MLP or convolutional, with the
/// reparameterisation trick, a KL weight β (with warm-up in the trainer), and a Bernoulli or
/// Gaussian decoder likelihood. `plain` makes it a deterministic autoencoder instead: the same
/// encoder and decoder, a code head and no log-variance head, no sampling, no KL term.
public final class VAE: Module {
    /// MLP or convolutional encoder and decoder.
    public enum Architecture: String, NamedChoice { case mlp, conv }
    /// The decoder's likelihood: Bernoulli (data in [0, 1], BCE) or Gaussian with a fixed σ.
    public enum Likelihood: String, NamedChoice { case bernoulli, gaussian }

    public struct Config: Codable, Equatable, Sendable {
        public var imageSize: Int
        public var channels: Int
        public var latentDim: Int = 16
        public var architecture: Architecture = .conv
        /// Hidden widths: MLP layer sizes, or the two conv layers' channels.
        public var hidden: [Int] = [32, 64]
        public var likelihood: Likelihood = .bernoulli
        public var sigma: Float = 0.1
        public var beta: Float = 1
        /// An autoencoder: no log-variance head, no sampling, no KL term.
        public var plain: Bool = false
        /// Classes of a class-conditional VAE (nil or 0: unconditional): the encoder's features and
        /// the decoder's code are each followed by the one-hot class (Sohn et al. 2015's CVAE).
        public var classes: Int?
        /// The number of classes (0 when unconditional).
        public var classCount: Int { classes ?? 0 }

        public init(
            imageSize: Int, channels: Int, latentDim: Int = 16, architecture: Architecture = .conv,
            hidden: [Int]? = nil,
            likelihood: Likelihood = .bernoulli, sigma: Float = 0.1, beta: Float = 1, plain: Bool = false
        ) {
            self.imageSize = imageSize; self.channels = channels; self.latentDim = latentDim;
            self.architecture = architecture
            self.hidden = hidden ?? (architecture == .mlp ? [400] : [32, 64])
            self.likelihood = likelihood; self.sigma = sigma; self.beta = beta; self.plain = plain
        }
    }

    public let config: Config
    public let encoder: Sequential
    /// The code head: the posterior mean of a VAE, the code of an autoencoder.
    public let mu: Linear
    /// log σ² of q(z | x); nil for an autoencoder, which has no posterior width.
    public let logVar: Linear?
    public let decoder: Sequential
    let pixels: Int

    public init(_ c: Config, rng: inout PRNG) {
        config = c
        pixels = c.channels * c.imageSize * c.imageSize
        let features: Int
        if c.architecture == .mlp {
            var layers: [Module] = [Flatten()]
            var width = pixels
            for h in c.hidden { layers += [Linear(width, h, rng: &rng), ReLU()]; width = h }
            encoder = Sequential(layers)
            features = width
            var dec: [Module] = []
            width = c.latentDim + c.classCount
            for h in c.hidden.reversed() { dec += [Linear(width, h, rng: &rng), ReLU()]; width = h }
            dec += [Linear(width, pixels, rng: &rng), Reshape([c.channels, c.imageSize, c.imageSize])]
            decoder = Sequential(dec)
        } else {
            let (c1, c2) = (c.hidden[0], c.hidden.count > 1 ? c.hidden[1] : c.hidden[0] * 2)
            let s = ((c.imageSize + 2 - 4) / 2 + 1 + 2 - 4) / 2 + 1
            encoder = Sequential([
                Conv2d(c.channels, c1, kernel: 4, stride: 2, padding: 1, rng: &rng), ReLU(),
                Conv2d(c1, c2, kernel: 4, stride: 2, padding: 1, rng: &rng), ReLU(), Flatten(),
            ])
            features = c2 * s * s
            let start = (c.imageSize + 3) / 4
            decoder = Sequential([
                Linear(c.latentDim + c.classCount, c2 * start * start, rng: &rng), ReLU(), Reshape([c2, start, start]),
                ConvTranspose2d(c2, c1, kernel: 4, stride: 2, padding: 1, rng: &rng), ReLU(),
                ConvTranspose2d(c1, c.channels, kernel: 4, stride: 2, padding: 1, rng: &rng),
                CentreCrop(c.imageSize),
            ])
        }
        mu = Linear(features + c.classCount, c.latentDim, rng: &rng)
        // Built last, so an autoencoder's other weights draw the same numbers a VAE's do.
        logVar = c.plain ? nil : Linear(features + c.classCount, c.latentDim, rng: &rng)
    }

    /// The keys of the log-variance head that autoencoder checkpoints written before the head was
    /// dropped carry (weights nothing read; left out when such a checkpoint is loaded).
    static let legacyAutoencoderKeys = ["logVar.weight", "logVar.bias"]

    /// Loads a checkpoint of this model (and the optimiser's state), naming `file` in errors. An
    /// autoencoder checkpoint from before the autoencoder lost its log-variance head still loads.
    public func load(_ checkpoint: Checkpoint, optimizer: Optimizer? = nil, file: String) throws {
        var checkpoint = checkpoint
        if config.plain { for key in Self.legacyAutoencoderKeys { checkpoint.model[key] = nil } }
        try checkpoint.restore(into: self, optimizer: optimizer, file: file)
    }

    /// (μ, log σ²) of q(z | x) — of q(z | x, class) for a conditional VAE, given the images' labels;
    /// (code, nil) for an autoencoder.
    public func encode(_ x: Tensor, labels: [Int]? = nil) -> (mu: Tensor, logVar: Tensor?) {
        guard x.rank == 4, x.shape[1] == config.channels, x.shape[2] == config.imageSize, x.shape[3] == config.imageSize
        else {
            shapeFailure(
                "VAE.encode",
                "input \(x.shape), model expects [N, \(config.channels), \(config.imageSize), \(config.imageSize)]")
        }
        let h = ClassConditioning.append(
            to: encoder(x), labels: labels, classes: config.classCount, model: "VAE.encode")
        return (mu(h), logVar.map { $0(h).clamp(min: -20, max: 20) })
    }

    /// The decoder's input: codes [N, latentDim] followed by the one-hot classes (the codes
    /// themselves for an unconditional VAE, which takes no labels).
    public func conditioned(_ z: Tensor, labels: [Int]?) -> Tensor {
        ClassConditioning.append(to: z, labels: labels, classes: config.classCount, model: "VAE.decode")
    }

    /// Decoder output before the likelihood's link: logits (Bernoulli) or means (Gaussian), for
    /// decoder inputs (`conditioned` codes).
    public func decodeRaw(_ z: Tensor) -> Tensor { decoder(z) }

    /// The decoder's mean image for decoder inputs (`conditioned` codes).
    public func decode(_ z: Tensor) -> Tensor {
        let raw = decodeRaw(z)
        return config.likelihood == .bernoulli ? raw.sigmoid() : raw
    }

    public override func forward(_ x: Tensor) -> Tensor { decode(encode(x).mu) }

    /// The reconstruction of images of the given classes (labels nil for an unconditional VAE).
    public func reconstruct(_ x: Tensor, labels: [Int]?) -> Tensor {
        decode(conditioned(encode(x, labels: labels).mu, labels: labels))
    }

    /// z = μ + σ·ε with ε from the given stream (the reparameterisation trick); μ for an autoencoder.
    public func sample(mu: Tensor, logVar: Tensor?, rng: inout PRNG) -> Tensor {
        sample(mu: mu, logVar: logVar) { Tensor.normal($0, rng: &rng) }
    }

    /// z = μ + σ·ε with ε = noise(shape of μ); μ for an autoencoder (noise is not called).
    public func sample(mu: Tensor, logVar: Tensor?, noise: ([Int]) -> Tensor) -> Tensor {
        guard let logVar else { return mu }
        return mu + (logVar * 0.5).exp() * noise(mu.shape)
    }

    /// KL(q(z | x) ‖ N(0, I)) per example; zeros for an autoencoder.
    public func kl(mu: Tensor, logVar: Tensor?) -> Tensor {
        guard let logVar else { return Tensor.zeros([mu.shape[0]]) }
        return Loss.gaussianKL(mu: mu, logVar: logVar, reduction: .none)
    }

    /// Per-example terms of the negative ELBO: reconstruction −log p(x | z) and KL(q ‖ p), each [N].
    public func terms(
        _ x: Tensor, labels: [Int]? = nil, rng: inout PRNG
    ) -> (
        reconstruction: Tensor, kl: Tensor, mu: Tensor
    ) {
        terms(x, labels: labels) { Tensor.normal($0, rng: &rng) }
    }

    /// The terms with the reparameterisation's ε drawn by `noise` (data-parallel training draws
    /// the whole global batch's ε and keeps this rank's rows).
    public func terms(
        _ x: Tensor, labels: [Int]? = nil, noise: ([Int]) -> Tensor
    ) -> (
        reconstruction: Tensor, kl: Tensor, mu: Tensor
    ) {
        let (m, lv) = encode(x, labels: labels)
        let z = sample(mu: m, logVar: lv, noise: noise)
        let recon = reconstructionNLL(decodeRaw(conditioned(z, labels: labels)), x)
        return (recon, kl(mu: m, logVar: lv), m)
    }

    /// −log p(x | decoder output), summed over pixels, one value per example.
    public func reconstructionNLL(_ raw: Tensor, _ x: Tensor) -> Tensor {
        let n = x.shape[0]
        if config.likelihood == .bernoulli {
            return Loss.bceWithLogits(raw, x, reduction: .none).reshape([n, -1]).sum(axes: [1])
        }
        let s = config.sigma
        let constant = Float(pixels) * (Foundation.log(s) + 0.5 * Foundation.log(2 * Float.pi))
        let d = raw - x
        return (d * d).reshape([n, -1]).sum(axes: [1]) * (0.5 / (s * s)) + constant
    }
}

/// Crops the centred size×size window (decoders that overshoot the image size).
public final class CentreCrop: Module {
    public let size: Int
    public init(_ size: Int) { self.size = size }
    public override func forward(_ x: Tensor) -> Tensor { x.centreCrop(size) }
}
