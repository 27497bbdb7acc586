import Engine
import NN

/// A supervised CNN tagger for jet images (signal vs background): the upper bound to quote beside
/// an unsupervised anomaly score. Two conv + max-pool stages, then a small MLP to one logit.
public final class JetTagger: Module {
    public struct Config: Codable, Equatable, Sendable {
        public var imageSize: Int
        public var channels: Int = 1
        public var features: Int = 16
        public var hidden: Int = 64
        public init(imageSize: Int, channels: Int = 1, features: Int = 16, hidden: Int = 64) {
            self.imageSize = imageSize; self.channels = channels; self.features = features; self.hidden = hidden
        }
    }

    public let config: Config
    public let features: Sequential
    public let head: Sequential

    public init(_ c: Config, rng: inout PRNG) {
        config = c
        features = Sequential([
            Conv2d(c.channels, c.features, kernel: 3, padding: 1, rng: &rng), ReLU(), MaxPool2d(2),
            Conv2d(c.features, 2 * c.features, kernel: 3, padding: 1, rng: &rng), ReLU(), MaxPool2d(2), Flatten(),
        ])
        let s = c.imageSize / 4
        head = Sequential([Linear(2 * c.features * s * s, c.hidden, rng: &rng), ReLU(), Linear(c.hidden, 1, rng: &rng)])
    }

    /// Signal logits, one per image.
    public override func forward(_ x: Tensor) -> Tensor {
        guard x.rank == 4, x.shape[1] == config.channels, x.shape[2] == config.imageSize, x.shape[3] == config.imageSize
        else {
            shapeFailure(
                "JetTagger",
                "input \(x.shape), model expects [N, \(config.channels), \(config.imageSize), \(config.imageSize)]")
        }
        return head(features(x)).reshape([x.shape[0]])
    }
}
