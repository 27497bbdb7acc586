import Engine
import Models

/// How a GAN is trained, beside its architecture: the objective and its gradient penalties, the
/// discriminator's learning rate and steps, the generator's weight average and the augmentation
/// both networks' images pass through. Recorded in options.json (`genlab train --config` replays it).
public struct GANRecipe: Codable, Equatable, Sendable {
    /// `bce`: the non-saturating logistic loss with one-sided label smoothing (0.1) for real images;
    /// `hinge`: max(0, 1 − D(x)) + max(0, 1 + D(G(z))) for the discriminator, −D(G(z)) for the generator
    /// (Lim & Ye 2017; SNGAN, BigGAN); `wgan-gp`: the Wasserstein critic D(G(z)) − D(x) with a
    /// gradient penalty (λ = 10 unless `gp` says otherwise) and −D(G(z)) for the generator
    /// (Gulrajani et al. 2017).
    public enum Loss: String, NamedChoice {
        case bce, hinge
        case wganGP = "wgan-gp"
    }

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
    /// λ of the gradient penalty λ·E[(‖∇D(x̂)‖ − 1)²] at x̂ between real and generated images; nil:
    /// 10 for wgan-gp, none otherwise.
    public var gp: Float?
    /// Penalise only gradient norms above 1: E[max(0, ‖∇D(x̂)‖ − 1)²] (nil: two-sided, as WGAN-GP).
    public var gpOneSided: Bool?
    /// γ of the R1 penalty γ/2·E[‖∇D(x)‖²] on real images (Mescheder et al. 2018); nil: none.
    public var r1: Float?

    public init() {}

    /// The gradient penalty's λ in force, if any.
    public var gradientPenalty: Float? { gp ?? (loss == .wganGP ? 10 : nil) }

    /// Whether the discriminator's input gradient is itself differentiated (a penalty), which
    /// needs a discriminator without BatchNorm.
    public var differentiatesCritic: Bool { gradientPenalty != nil || r1 != nil }

    /// What is wrong with it, if anything.
    public var problems: [String] {
        var out: [String] = []
        if let gp, !(gp > 0 && gp <= 10_000) { out.append("--gp must be in (0, 10000], not \(gp)") }
        if let r1, !(r1 > 0 && r1 <= 10_000) { out.append("--r1 must be in (0, 10000], not \(r1)") }
        if gpOneSided == true && gradientPenalty == nil {
            out.append("--gp-one-sided needs a gradient penalty (--gp LAMBDA or --loss wgan-gp)")
        }
        if !(1...100).contains(nCritic) { out.append("--n-critic must be in 1...100, not \(nCritic)") }
        if let ema, !(ema > 0 && ema < 1) { out.append("--ema must be a decay in (0, 1), not \(ema)") }
        if let lrD, !(lrD > 0 && lrD <= 10) { out.append("--lr-d must be in (0, 10], not \(lrD)") }
        return out
    }
}
