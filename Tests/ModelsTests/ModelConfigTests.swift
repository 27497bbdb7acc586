import Engine
import Foundation
import Models
import NN
import XCTest

/// The models' typed configuration and the shapes they are built to.
final class ModelConfigTests: XCTestCase {
    func testNamedChoicesDecodeTheirNamesAndRefuseOthersByName() throws {
        let decoder = JSONDecoder()
        XCTAssertEqual(
            try decoder.decode([ModelKind].self, from: Data(#"["gan","ae","symmetry"]"#.utf8)), [.gan, .ae, .symmetry])
        XCTAssertThrowsError(try decoder.decode([VAE.Architecture].self, from: Data(#"["cnn"]"#.utf8))) {
            XCTAssertTrue("\($0)".contains("'cnn' is not mlp or conv"), "\($0)")
        }
        XCTAssertEqual(DCGAN.Output.choices, "tanh, relu, sigmoid or square")
        XCTAssertEqual(
            String(decoding: try JSONEncoder().encode(VAE.Likelihood.gaussian), as: UTF8.self), #""gaussian""#)
        // A config from a checkpoint written before the enums: the same JSON decodes.
        let old =
            #"{"imageSize":25,"channels":1,"latentDim":8,"architecture":"conv","hidden":[32,64],"#
            + #""likelihood":"gaussian","sigma":0.01,"beta":1,"plain":true}"#
        let c = try decoder.decode(VAE.Config.self, from: Data(old.utf8))
        XCTAssertEqual(c.architecture, .conv)
        XCTAssertEqual(c.likelihood, .gaussian)
        XCTAssertTrue(c.problems.isEmpty)
    }

    func testEveryGeneratorOutputGivesImagesOfTheConfiguredShapeAndRange() {
        for output in DCGAN.Output.allCases {
            var rng = PRNG(seed: 1)
            let gan = DCGAN(
                DCGAN.Config(
                    imageSize: 25, channels: 1, latentDim: 8, generatorFeatures: 8, discriminatorFeatures: 8,
                    output: output), rng: &rng)
            let images = noGrad { gan.generator(Tensor.normal([3, 8], rng: &rng)) }
            XCTAssertEqual(images.shape, [3, 1, 25, 25], "\(output)")
            let v = images.scalars
            switch output {
            case .tanh: XCTAssertTrue(v.allSatisfy { (-1...1).contains($0) })
            case .sigmoid: XCTAssertTrue(v.allSatisfy { (0...1).contains($0) })
            case .relu, .square: XCTAssertTrue(v.allSatisfy { $0 >= 0 })
            }
            XCTAssertEqual(noGrad { gan.discriminator(images) }.shape.first, 3)
        }
    }

    func testBothVAEArchitecturesReconstructAtTheInputShape() {
        for architecture in VAE.Architecture.allCases {
            var rng = PRNG(seed: 2)
            let vae = VAE(VAE.Config(imageSize: 16, channels: 1, latentDim: 4, architecture: architecture), rng: &rng)
            let x = Tensor.uniform([2, 1, 16, 16], rng: &rng)
            let t = noGrad { vae.terms(x, rng: &rng) }
            XCTAssertEqual(t.reconstruction.shape, [2], "\(architecture): one NLL per image")
            XCTAssertEqual(noGrad { vae.decode(Tensor.zeros([2, 4])) }.shape, [2, 1, 16, 16], "\(architecture)")
        }
    }
}

/// Every checkpoint kind has a parameter or work budget: fields each within limits cannot add up
/// to a terabyte or to hours on one image.
final class ConfigBudgetTests: XCTestCase {
    func testATaggerConfigWithinEveryFieldLimitIsStillRefusedOverTheParameterBudget() {
        XCTAssertEqual(JetTagger.Config(imageSize: 25).problems, [])
        let huge = JetTagger.Config(imageSize: 512, channels: 4, features: 1024, hidden: 8192)
        XCTAssertTrue(huge.problems.contains { $0.contains("million parameters") }, "\(huge.problems)")
    }

    func testASymmetryCNNConfigIsBudgetedToo() {
        XCTAssertEqual(SymmetryCNN.Config().problems, [])
        let huge = SymmetryCNN.Config(imageSize: 256, channels: 64, classes: 64, features: 512, headGrid: 64)
        XCTAssertTrue(huge.problems.contains { $0.contains("million parameters") }, "\(huge.problems)")
    }

    func testADecoyFitsWorkGrowsWithStepsWidthsAndPixels() {
        var c = DecoyNet.Config()
        let base = c.fitWork(pixels: 1024)
        XCTAssertLessThan(base * 50, ModelLimits.maxDecoyFitWork, "the shipped decoy is far inside the budget")
        c.steps *= 2
        XCTAssertEqual(c.fitWork(pixels: 1024), 2 * base, accuracy: base * 1e-9)
        XCTAssertEqual(c.fitWork(pixels: 4096), 8 * base, accuracy: base * 1e-9)
        c.steps = 100_000; c.hidden = [1024, 1024]
        XCTAssertEqual(c.problems, [], "each field is within its own limit")
        XCTAssertGreaterThan(c.fitWork(pixels: 1024), ModelLimits.maxDecoyFitWork)
    }
}
