import Engine
import NN

/// A DCGAN (Radford et al. 2016) whose depth follows the image size: a transposed-convolution
/// generator (BatchNorm + ReLU) and a convolutional discriminator (LeakyReLU 0.2), with the
/// paper's N(0, 0.02) initialisation. The discriminator outputs logits (BCE on logits).
public final class DCGAN {
    /// The generator's last activation: `tanh` for images in [−1, 1], `relu` for non-negative
    /// images, `sigmoid` for [0, 1], or `square` for jet images: s² with s = ReLU(·) ≥ 0, while the
    /// discriminator reads √x — the game is played on √pT, where the soft deposits that make up
    /// most of a jet's pixels are not negligible beside the hardest one.
    public enum Output: String, NamedChoice { case tanh, relu, sigmoid, square }

    public struct Config: Codable, Equatable, Sendable {
        public var imageSize: Int
        public var channels: Int
        public var latentDim: Int = 100
        /// Feature maps of the generator's last hidden layer (doubling towards the noise).
        public var generatorFeatures: Int = 64
        /// Feature maps of the discriminator's first layer (doubling with depth).
        public var discriminatorFeatures: Int = 64
        public var output: Output = .tanh
        /// The stabiliser: minibatch standard deviation (Karras et al. 2018) appended as a feature
        /// map before the discriminator's last layer, so it can see a collapsed batch.
        public var minibatchStd: Bool = true
        /// The discriminator's normalisation after its first block: BatchNorm, or none — a critic
        /// whose input gradient is penalised (WGAN-GP, R1) must treat each image on its own.
        public var discriminatorNorm: Normalization = .batch
        /// Spectral normalisation of every discriminator weight (Miyato et al. 2018; SNGAN).
        public var spectralNorm: Bool = false
        /// Classes of a class-conditional GAN (0: unconditional). The generator reads its noise
        /// followed by the class as a one-hot vector; the discriminator is a projection
        /// discriminator (Miyato & Koyama 2018): its logit gains ⟨embed(class), φ(x)⟩. Nil (absent
        /// from older and unconditional configs) or 0: unconditional.
        public var classes: Int?
        /// The number of classes (0 when unconditional).
        public var classCount: Int { classes ?? 0 }

        public enum Normalization: String, NamedChoice { case batch, none }

        public init(
            imageSize: Int, channels: Int, latentDim: Int = 100, generatorFeatures: Int = 64,
            discriminatorFeatures: Int = 64,
            output: Output = .tanh, minibatchStd: Bool = true
        ) {
            self.imageSize = imageSize; self.channels = channels; self.latentDim = latentDim
            self.generatorFeatures = generatorFeatures; self.discriminatorFeatures = discriminatorFeatures
            self.output = output; self.minibatchStd = minibatchStd
        }

        enum CodingKeys: String, CodingKey {
            case imageSize, channels, latentDim, generatorFeatures, discriminatorFeatures, output, minibatchStd
            case discriminatorNorm, spectralNorm, classes
        }

        // Checkpoints written before a field existed decode with its default.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            imageSize = try c.decode(Int.self, forKey: .imageSize)
            channels = try c.decode(Int.self, forKey: .channels)
            latentDim = try c.decodeIfPresent(Int.self, forKey: .latentDim) ?? 100
            generatorFeatures = try c.decodeIfPresent(Int.self, forKey: .generatorFeatures) ?? 64
            discriminatorFeatures = try c.decodeIfPresent(Int.self, forKey: .discriminatorFeatures) ?? 64
            output = try c.decodeIfPresent(Output.self, forKey: .output) ?? .tanh
            minibatchStd = try c.decodeIfPresent(Bool.self, forKey: .minibatchStd) ?? true
            discriminatorNorm = try c.decodeIfPresent(Normalization.self, forKey: .discriminatorNorm) ?? .batch
            spectralNorm = try c.decodeIfPresent(Bool.self, forKey: .spectralNorm) ?? false
            classes = try c.decodeIfPresent(Int.self, forKey: .classes)
        }
    }

    public let config: Config
    public var isConditional: Bool { config.classCount > 0 }
    public let generator: Generator
    public let discriminator: Discriminator

    public init(_ config: Config, rng: inout PRNG) {
        self.config = config
        generator = Generator(config, rng: &rng)
        discriminator = Discriminator(config, rng: &rng)
        Init.dcgan(generator, rng: &rng)
        Init.dcgan(discriminator, rng: &rng)
    }

    /// A second generator of the same architecture (for a weight average); its weights are to be loaded.
    public func makeGenerator() -> Generator {
        var rng = PRNG(seed: 0)
        return Generator(config, rng: &rng)
    }

    /// Both networks under one key space: "generator.…" and "discriminator.…".
    public var module: Module { Pair(generator: generator, discriminator: discriminator) }

    final class Pair: Module {
        let generator: Generator
        let discriminator: Discriminator
        init(generator: Generator, discriminator: Discriminator) {
            self.generator = generator; self.discriminator = discriminator
        }
    }

    /// Noise → image.
    public final class Generator: Module {
        public let project: Linear
        public let bn0: BatchNorm2d
        public let blocks: [Module]
        public let toImage: ConvTranspose2d
        let plan: UpsamplingPlan
        let width: Int, output: Output

        init(_ c: Config, rng: inout PRNG) {
            plan = UpsamplingPlan(size: c.imageSize)
            output = c.output
            width = c.generatorFeatures << (plan.doublings - 1)
            project = Linear(c.latentDim + c.classCount, width * plan.start * plan.start, bias: false, rng: &rng)
            bn0 = BatchNorm2d(width)
            var blocks: [Module] = []
            var ch = width
            for _ in 0..<(plan.doublings - 1) {
                blocks.append(
                    Sequential([
                        ConvTranspose2d(ch, ch / 2, kernel: 4, stride: 2, padding: 1, bias: false, rng: &rng),
                        BatchNorm2d(ch / 2), ReLU(),
                    ]))
                ch /= 2
            }
            self.blocks = blocks
            toImage = ConvTranspose2d(ch, c.channels, kernel: 4, stride: 2, padding: 1, rng: &rng)
        }

        /// Noise [N, latentDim] — for a conditional generator followed by the one-hot class,
        /// [N, latentDim + classes] (`DCGAN.conditioned`) — → images.
        public override func forward(_ z: Tensor) -> Tensor {
            var h = bn0(project(z).reshape([z.shape[0], width, plan.start, plan.start])).relu()
            for b in blocks { h = b(h) }
            h = toImage(h).centreCrop(plan.size)
            switch output {
            case .tanh: return h.tanh()
            case .relu: return h.relu()
            case .square: let s = h.relu(); return s * s
            case .sigmoid: return h.sigmoid()
            }
        }
    }

    /// Image → real/fake logit.
    public final class Discriminator: Module {
        public let blocks: [Module]
        /// The last layer: a Linear (spectrally normalised with `spectralNorm`).
        public let classify: Module
        /// A conditional discriminator's class embedding (a Linear without bias on the one-hot
        /// class, as wide as the features it is projected on); nil when unconditional.
        public let embed: Module?
        let minibatchStd: Bool
        let readsRoot: Bool

        init(_ c: Config, rng: inout PRNG) {
            let plan = UpsamplingPlan(size: c.imageSize)
            var blocks: [Module] = []
            var ch = c.channels, next = c.discriminatorFeatures, size = c.imageSize
            for i in 0..<plan.doublings {
                let conv = Conv2d(ch, next, kernel: 4, stride: 2, padding: 1, bias: i == 0, rng: &rng)
                var layers: [Module] = [c.spectralNorm ? SpectralNorm(conv, rng: &rng) : conv]
                if i > 0 && c.discriminatorNorm == .batch { layers.append(BatchNorm2d(next)) }
                layers.append(LeakyReLU(0.2))
                blocks.append(Sequential(layers))
                ch = next
                next *= 2
                size = (size + 2 - 4) / 2 + 1
            }
            self.blocks = blocks
            minibatchStd = c.minibatchStd
            readsRoot = c.output == .square
            let features = (ch + (c.minibatchStd ? 1 : 0)) * size * size
            let linear = Linear(features, 1, rng: &rng)
            classify = c.spectralNorm ? SpectralNorm(linear, rng: &rng) : linear
            if c.classCount > 0 {
                let table = Linear(c.classCount, features, bias: false, rng: &rng)
                embed = c.spectralNorm ? SpectralNorm(table, rng: &rng) : table
            } else {
                embed = nil
            }
        }

        public override func forward(_ x: Tensor) -> Tensor { judge(represent(x)) }

        /// Real/fake logits of images of the given classes (one-hot rows; nil for an unconditional model).
        public func callAsFunction(_ x: Tensor, classes: Tensor?) -> Tensor { judge(represent(x), classes: classes) }

        /// The images as the discriminator reads them: √(x + 10⁻⁸) for jet images (a finite
        /// gradient where a generated pixel is exactly 0), else as they are. Gradient penalties are
        /// taken with respect to this representation, where the game is played.
        public func represent(_ x: Tensor) -> Tensor { readsRoot ? (x + 1e-8).sqrt() : x }

        /// Real/fake logits for images already in the discriminator's representation; a conditional
        /// discriminator also reads their classes as one-hot rows.
        public func judge(_ represented: Tensor, classes: Tensor? = nil) -> Tensor {
            var h = represented
            for b in blocks { h = b(h) }
            if minibatchStd {
                // One extra map: the batch's mean per-feature standard deviation.
                let sd = (h.variance(axes: [0], unbiased: false) + 1e-8).sqrt().mean()
                h = Tensor.concat(
                    [h, sd.reshape([1, 1, 1, 1]).expand([h.shape[0], 1, h.shape[2], h.shape[3]])], axis: 1)
            }
            let features = h.flatten(from: 1)
            let logit = classify(features).reshape([represented.shape[0]])
            guard let embed else { return logit }
            guard let classes, classes.rank == 2, classes.shape[0] == represented.shape[0] else {
                shapeFailure("DCGAN.Discriminator", "a conditional discriminator needs one class row per image")
            }
            return logit + (embed(classes) * features).sum(axes: [1])
        }
    }
}

extension DCGAN {
    /// The generator's input: noise [N, latentDim] followed by the one-hot classes (unchanged for an
    /// unconditional model, which takes no labels).
    public func conditioned(_ z: Tensor, labels: [Int]?) -> Tensor {
        ClassConditioning.append(to: z, labels: labels, classes: config.classCount, model: "DCGAN")
    }
}
