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
