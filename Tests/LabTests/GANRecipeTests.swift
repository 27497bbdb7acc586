import Datasets
import Engine
import Formats
import Foundation
import Models
import NN
import XCTest

@testable import Lab

/// DiffAugment's three policies, the hinge loss with critic steps, the generator's weight average, and
/// the gradient penalties (WGAN-GP, R1) that differentiate the discriminator's input gradient.
final class GANRecipeTests: XCTestCase {
    func ramp(_ n: Int, _ c: Int, _ s: Int) -> Tensor {
        Tensor(shape: [n, c, s, s], data: (0..<(n * c * s * s)).map { Float($0 % 97) / 97 + 0.1 })
    }

    func testTranslationShiftsEachImageAndFillsZeros() {
        let x = ramp(3, 2, 16)
        var rng = PRNG(seed: 1)
        let y = DiffAugment.translation(x, rng: &rng)
        let xs = x.scalars, ys = y.scalars, per = 2 * 16 * 16
        for i in 0..<3 {
            // Some shift (dy, dx) within 2 pixels maps x onto y, zeros where it brings nothing in.
            var found = false
            for dy in -2...2 {
                for dx in -2...2 {
                    var ok = true
                    for ch in 0..<2 {
                        for r in 0..<16 {
                            for c in 0..<16 {
                                let sy = r - dy, sx = c - dx
                                let want =
                                    (0..<16).contains(sy) && (0..<16).contains(sx)
                                    ? xs[i * per + ch * 256 + sy * 16 + sx] : 0
                                if ys[i * per + ch * 256 + r * 16 + c] != want { ok = false }
                            }
                        }
                    }
                    found = found || ok
                }
            }
            XCTAssertTrue(found, "image \(i) is not a shift of its input")
        }
    }

    func testCutoutZeroesAtMostHalfTheSideSquared() {
        let x = ramp(4, 1, 16)
        var rng = PRNG(seed: 2)
        let y = DiffAugment.cutout(x, rng: &rng).scalars
        for i in 0..<4 {
            let zeros = y[(i * 256)..<((i + 1) * 256)].filter { $0 == 0 }.count
            XCTAssertGreaterThan(zeros, 0)
            XCTAssertLessThanOrEqual(zeros, 64)
        }
    }

    /// Gradients flow through every policy: the analytic gradient of a weighted sum equals finite differences.
    func testAugmentationIsDifferentiable() {
        let x = ramp(2, 3, 8)
        x.requiresGrad = true
        let weights = ramp(2, 3, 8).scalars.map { $0 * 3 - 1 }
        let w = Tensor(shape: x.shape, data: weights)
        func value(_ input: Tensor) -> Tensor {
            var rng = PRNG(seed: 4)  // the same draws every time
            return (DiffAugment.apply(input, [.color, .translation, .cutout], rng: &rng) * w).sum()
        }
        value(x).backward()
        let g = x.grad!.scalars
        let eps: Float = 1e-2
        for k in stride(from: 0, to: x.count, by: 37) {
            var up = x.scalars, down = x.scalars
            up[k] += eps; down[k] -= eps
            let numeric =
                (value(Tensor(shape: x.shape, data: up)).item() - value(Tensor(shape: x.shape, data: down)).item())
                / (2 * eps)
            XCTAssertEqual(g[k], numeric, accuracy: 2e-2 * max(1, abs(numeric)), "element \(k)")
        }
    }

    func task(_ recipe: GANRecipe) throws -> GANTask {
        let set = try ImageSet.load(repositoryRoot + "/Datasets/faces").scaled(.minusOneToOne)
        let spec = DataSpec(source: "faces", imageSize: 25, channels: 1, scaling: .minusOneToOne)
        var config = DCGAN.Config(
            imageSize: 25, channels: 1, latentDim: 16, generatorFeatures: 8, discriminatorFeatures: 8)
        if recipe.differentiatesCritic { config.discriminatorNorm = .none }
        return GANTask(config, images: TrainingImages(set, spec: spec), seed: 3, recipe: recipe)
    }

    /// R1's E‖∇D(x)‖² differentiated with respect to the discriminator's weights (through the
    /// recorded input gradient) agrees with central differences — with a step small enough that it
    /// seldom crosses a LeakyReLU kink (the penalty jumps there), hence "95 % of the weights".
    func testR1PenaltysGradientReachesTheDiscriminatorsWeights() throws {
        var recipe = GANRecipe()
        recipe.r1 = 5
        let t = try task(recipe)
        XCTAssertFalse(t.gan.discriminator.namedModules().contains { $0.1 is BatchNorm2d }, "a critic with BatchNorm")
        XCTAssertEqual(t.metricNames.last, "penalty")
        let real = t.gan.discriminator.represent(t.images.set.batch(Array(0..<8)))
        func r1() -> Tensor {
            let x = real.detach()
            x.requiresGrad = true
            return GANTask.squaredGradientNorm(of: t.gan.discriminator.judge(x), at: x)
        }
        let w = t.gan.discriminator.blocks[1].parameters()[0]
        r1().backward()
        let analytic = w.grad!.scalars
        let eps: Float = 1e-4
        var agree = 0, tried = 0
        for k in stride(from: 0, to: w.count, by: 53) {
            let v = w.scalars[k]
            w.storage.pointer[k] = v + eps
            let up = Double(r1().item())
            w.storage.pointer[k] = v - eps
            let down = Double(r1().item())
            w.storage.pointer[k] = v
            let numeric = (up - down) / Double(2 * eps)
            tried += 1
            if abs(Double(analytic[k]) - numeric) <= 0.03 * abs(numeric) + 1e-3 * Double(analytic.map(abs).max()!) {
                agree += 1
            }
        }
        XCTAssertGreaterThanOrEqual(Double(agree) / Double(tried), 0.95, "\(agree) of \(tried) weights agree")
        var noise = PRNG(seed: 8)
        let before = t.gan.discriminator.parameters().map(\.scalars)
        let m = t.step(t.images.set.batch(Array(0..<16)), noise: &noise)
        XCTAssertGreaterThan(m["penalty"]!, 0)
        XCTAssertNotEqual(t.gan.discriminator.parameters().map(\.scalars), before)
    }

    /// Descending the WGAN-GP penalty alone brings the discriminator's gradient norm towards 1 (the
    /// penalty falls); one-sided, a discriminator whose gradient norms are all below 1 pays nothing.
    func testGradientPenaltyDrivesTheGradientNormTowardsOne() throws {
        var recipe = GANRecipe()
        recipe.loss = .wganGP
        let t = try task(recipe)
        let d = t.gan.discriminator
        let real = d.represent(t.images.set.batch(Array(0..<8)))
        var z = PRNG(seed: 5)
        let fake = noGrad { t.gan.generator(Tensor.normal([8, 16], rng: &z)) }
        var oneSidedRecipe = recipe
        oneSidedRecipe.gpOneSided = true
        let oneSided = try task(oneSidedRecipe)
        func penalty(of task: GANTask? = nil) -> Tensor {
            var noise = PRNG(seed: 6)
            return (task ?? t).gradientPenalty(real, fake, noise: &noise)
        }
        let optimiser = Adam(d.namedParameters(), lr: 1e-2)
        let first = penalty().item()
        XCTAssertGreaterThan(first, 0.5, "an initial critic's gradients are small: the penalty is near 1")
        for _ in 0..<20 {
            optimiser.zeroGrad()
            penalty().backward()
            optimiser.step()
        }
        XCTAssertLessThan(penalty().item(), 0.5 * first)
        XCTAssertEqual(penalty(of: oneSided).item(), 0)
        var noise = PRNG(seed: 7)
        XCTAssertGreaterThan(t.step(t.images.set.batch(Array(0..<16)), noise: &noise)["penalty"]!, 0)
    }

    /// --spectral-norm: every discriminator weight is wrapped, a training step moves the power
    /// iteration, and a checkpoint round trip restores u and v.
    func testSpectralNormalisedDiscriminator() throws {
        let set = try ImageSet.load(repositoryRoot + "/Datasets/faces").scaled(.minusOneToOne)
        let spec = DataSpec(source: "faces", imageSize: 25, channels: 1, scaling: .minusOneToOne)
        var config = DCGAN.Config(
            imageSize: 25, channels: 1, latentDim: 16, generatorFeatures: 8, discriminatorFeatures: 8)
        config.spectralNorm = true
        let t = GANTask(config, images: TrainingImages(set, spec: spec), seed: 3)
        let wrapped = t.gan.discriminator.namedModules().filter { $0.1 is SpectralNorm }.count
        XCTAssertEqual(wrapped, t.gan.discriminator.blocks.count + 1, "every conv and the last linear")
        let key = "discriminator.blocks.0.0.weight_u"
        let before = t.gan.module.stateDict()[key]!.scalars
        var noise = PRNG(seed: 2)
        _ = t.step(t.images.set.batch(Array(0..<16)), noise: &noise)
        let after = t.gan.module.stateDict()[key]!.scalars
        XCTAssertNotEqual(before, after)
        let again = GANTask(config, images: TrainingImages(set, spec: spec), seed: 4)
        try again.gan.module.loadStateDict(t.gan.module.stateDict())
        XCTAssertEqual(again.gan.module.stateDict()[key]!.scalars, after)
    }

    /// A GAN configuration written before the discriminator's normalisation was a choice reads as
    /// BatchNorm; a penalty recipe builds its discriminator without.
    func testOlderConfigsDecodeWithBatchNorm() throws {
        let old =
            #"{"imageSize":25,"channels":1,"latentDim":16,"generatorFeatures":8,"discriminatorFeatures":8,"#
            + #""output":"tanh","minibatchStd":true}"#
        let c = try JSONDecoder().decode(DCGAN.Config.self, from: Data(old.utf8))
        XCTAssertEqual(c.discriminatorNorm, .batch)
        var recipe = GANRecipe()
        recipe.gp = 5
        XCTAssertTrue(recipe.differentiatesCritic)
        XCTAssertEqual(recipe.gradientPenalty, 5)
        recipe.gp = nil
        recipe.gpOneSided = true
        XCTAssertEqual(recipe.problems.count, 1)
        recipe.loss = .wganGP
        XCTAssertEqual(recipe.gradientPenalty, 10)
        XCTAssertEqual(recipe.problems, [])
    }

    /// With --n-critic 2 the generator moves every second step only; the average follows the recurrence.
    func testCriticStepsAndTheWeightAverage() throws {
        var recipe = GANRecipe()
        recipe.loss = .hinge; recipe.nCritic = 2; recipe.ema = 0.8
        let t = try task(recipe)
        let batch = t.images.set.batch(Array(0..<16))
        var noise = PRNG(seed: 9)
        let g0 = t.gan.generator.parameters().map(\.scalars), a0 = t.averaged!.parameters().map(\.scalars)
        XCTAssertEqual(g0, a0, "the average starts at the generator's weights")
        let m0 = t.step(batch, noise: &noise, at: 0)
        XCTAssertTrue(m0["loss_G"]!.isFinite)
        XCTAssertEqual(t.gan.generator.parameters().map(\.scalars), g0, "the generator moved on a critic-only step")
        _ = t.step(batch, noise: &noise, at: 1)
        let g1 = t.gan.generator.parameters().map(\.scalars)
        XCTAssertNotEqual(g1, g0, "the generator did not move on its step")
        // After the first generator step the warm-up's (1 + 1)/(10 + 1) is below 0.8.
        let d: Float = 2 / 11
        for (k, a) in t.averaged!.parameters().enumerated() {
            for i in stride(from: 0, to: a.count, by: 11) {
                XCTAssertEqual(a.scalars[i], d * g0[k][i] + (1 - d) * g1[k][i], accuracy: 1e-6)
            }
        }
    }

    /// A checkpoint with a weight average generates with it; --raw-weights with the generator's own.
    func testLoadedModelGeneratesWithTheAverage() throws {
        var recipe = GANRecipe()
        recipe.ema = 0.5
        let t = try task(recipe)
        var noise = PRNG(seed: 1)
        for s in 0..<3 { _ = t.step(t.images.set.batch(Array(0..<16)), noise: &noise, at: s) }
        let folder = scratchFolder("ema-load")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/checkpoint.safetensors"
        try t.checkpoint(training: TrainingState()).save(to: path)
        guard case let .gan(averaged, _) = try LoadedModel.load(path),
            case let .gan(raw, _) = try LoadedModel.load(path, rawWeights: true)
        else { return XCTFail("not a GAN") }
        XCTAssertEqual(averaged.generator.parameters().map(\.scalars), t.averaged!.parameters().map(\.scalars))
        XCTAssertEqual(raw.generator.parameters().map(\.scalars), t.gan.generator.parameters().map(\.scalars))
    }

    /// A jet GAN logs `val_fpd` each epoch (the FPD `quality` reports, against training jets), the
    /// same on a resumed run, and `--keep-best val_fpd` keeps the lowest; an image GAN has no val_fpd.
    func testAJetGANLogsItsFPDAndKeepsTheBestEpoch() throws {
        let jets = repositoryRoot + "/Datasets/jets/qcd_train.h5"
        var o = TrainOptions()
        o.epochs = 2; o.batchSize = 500; o.quiet = true; o.seed = 1; o.latentDim = 16; o.keepBest = "val_fpd"
        var m = TrainingSetup.ModelOptions()
        m.features = 8
        let straight = scratchFolder("jet-fpd"), split = scratchFolder("jet-fpd-split")
        let trainer = try TrainingSetup.make(kind: .gan, data: jets, out: straight, options: o, model: m)
        XCTAssertTrue(trainer.task.metricNames.contains("val_fpd"))
        try trainer.train()
        func fpds(_ run: String) throws -> [Double] {
            let lines = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8).split(separator: "\n")
            let i = try XCTUnwrap(lines[0].split(separator: ",").firstIndex(of: "val_fpd"))
            return lines.dropFirst().compactMap {
                Double($0.split(separator: ",", omittingEmptySubsequences: false)[i])
            }
        }
        let values = try fpds(straight)
        XCTAssertEqual(values.count, 2, "one val_fpd an epoch")
        XCTAssertTrue(values.allSatisfy { $0.isFinite && $0 > 0 }, "\(values)")
        let best = try String(contentsOfFile: straight + "/best.json", encoding: .utf8)
        XCTAssertTrue(best.contains("val_fpd"), best)
        let record = try JSONDecoder().decode(BestCheckpoint.Record.self, from: Data(best.utf8))
        XCTAssertEqual(record.value, values.min()!, accuracy: 1e-4 * values.min()!)
        // Stopped after the first epoch and resumed: the same figures.
        var first = o
        first.epochs = 1
        try TrainingSetup.make(kind: .gan, data: jets, out: split, options: first, model: m).train()
        try TrainingSetup.make(kind: .gan, data: jets, out: split, options: o, model: m).train(resume: true)
        XCTAssertEqual(try fpds(split), values)
        XCTAssertFalse(try task(GANRecipe()).metricNames.contains("val_fpd"), "faces are not jets")
    }
}
