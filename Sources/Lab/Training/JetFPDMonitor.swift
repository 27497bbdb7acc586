import Datasets
import Engine
import Foundation
import Models

/// A jet-image GAN's figure of merit at the end of each epoch, `val_fpd`: JetNet's Fréchet physics
/// distance (the one `genlab quality` reports) between `count` jets drawn from fixed noise and
/// `count` fixed training jets. A GAN's losses do not say when its jets are good — the game
/// oscillates — so this is what `--keep-best val_fpd` selects the epoch by (as JetNet's papers pick
/// their epoch by FPD or W1 on a validation sample). Deterministic: a resumed run logs the same.
struct JetFPDMonitor {
    /// Jets on each side (FPD is extrapolated from a quarter of it to it, as `quality` does).
    static let count = 1000

    let reference: [[Double]]
    let noise: Tensor
    let window: Double

    /// Nil unless the training images are jet images.
    init?(images: TrainingImages, gan: DCGAN) {
        guard images.spec.isJetImages, images.set.count >= 2 else { return nil }
        window = images.spec.jetImage.window
        var pick = PRNG(seed: 0x6670_6472)
        let chosen = Array(pick.permutation(images.set.count).prefix(Self.count))
        reference = JetNetMetrics.features(images: images.set.batch(chosen), window: window).efpFPD
        var draw = PRNG(seed: 0x6670_6467)
        let c = gan.config
        noise = gan.conditioned(
            Tensor.normal([Self.count, c.latentDim], rng: &draw),
            labels: ClassConditioning.labels(nil, count: Self.count, classes: c.classCount))
    }

    /// FPD of `generator`'s jets (in evaluation mode) against the reference jets.
    func fpd(_ generator: DCGAN.Generator) -> Double {
        let jets: Tensor = noGrad {
            generator.eval()
            defer { generator.train() }
            return generator(noise)
        }
        let sample = JetNetMetrics.features(images: jets, window: window).efpFPD
        let n = min(reference.count, sample.count)
        return JetNetMetrics.fpd(real: reference, gen: sample, minSamples: max(n / 4, 20), maxSamples: n).value
    }
}
