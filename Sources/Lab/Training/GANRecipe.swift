import Engine
import Models

/// How a GAN is trained, beside its architecture: the objective, the discriminator's learning rate
/// and steps, the generator's weight average and the augmentation both networks' images pass
/// through. Recorded in options.json (`genlab train --config` replays it).
public struct GANRecipe: Codable, Equatable, Sendable {
    /// `bce`: the non-saturating logistic loss with one-sided label smoothing (0.1) for real images;
    /// `hinge`: max(0, 1 − D(x)) + max(0, 1 + D(G(z))) for the discriminator, −D(G(z)) for the generator
    /// (Lim & Ye 2017; SNGAN, BigGAN).
    public enum Loss: String, NamedChoice { case bce, hinge }

    public var loss: Loss = .bce
    /// The discriminator's learning rate (TTUR, Heusel et al. 2017); nil: the generator's.
    public var lrD: Float?
    /// Discriminator steps per generator step.
    public var nCritic = 1
    /// Decay of an exponential moving average of the generator's weights (e.g. 0.999), kept in the
    /// checkpoint and used by sample, interpolate, quality and export; nil: none.
    public var ema: Float?
    /// DiffAugment policies applied to real and generated images before the discriminator.
    public var augment: [DiffAugment.Policy] = []

    public init() {}

    /// What is wrong with it, if anything.
    public var problems: [String] {
        var out: [String] = []
        if !(1...100).contains(nCritic) { out.append("--n-critic must be in 1...100, not \(nCritic)") }
        if let ema, !(ema > 0 && ema < 1) { out.append("--ema must be a decay in (0, 1), not \(ema)") }
        if let lrD, !(lrD > 0 && lrD <= 10) { out.append("--lr-d must be in (0, 10], not \(lrD)") }
        return out
    }
}
