import Engine
import NN

/// The symmetry detector's classifier: reads the PCA images of a decoy network's last hidden layer
/// (or, as a control, the raw image) and predicts the symmetry class and, as a regression head,
/// how strongly the symmetry is broken (ε, squashed to [0, 1] by a sigmoid).
///
/// Three conv + ReLU stages (max-pooling after the first two) and a global average pool, so the
/// features do not depend on where in the image a pattern sits.
public final class SymmetryCNN: Module {
    public struct Config: Codable, Equatable, Sendable {
        public var imageSize = 32
        /// Input channels: the number of PCA images (1 for the raw-image control).
        public var channels = 4
        public var classes = 6
        public var features = 16
        /// Side of the feature map the head reads (1: a global average pool; larger keeps the
        /// layout, which relations across the image — mirror pairs — need).
        public var headGrid = 4
        public init(imageSize: Int = 32, channels: Int = 4, classes: Int = 6, features: Int = 16, headGrid: Int = 4) {
            self.imageSize = imageSize; self.channels = channels; self.classes = classes; self.features = features; self.headGrid = headGrid
        }
    }

    public let config: Config
    public let features: Sequential
    public let classifier: Linear
    public let degree: Linear

    public init(_ c: Config, rng: inout PRNG) {
        config = c
        let f = c.features
        features = Sequential([
            Conv2d(c.channels, f, kernel: 3, padding: 1, rng: &rng), ReLU(), MaxPool2d(2),
            Conv2d(f, 2 * f, kernel: 3, padding: 1, rng: &rng), ReLU(), MaxPool2d(2),
            Conv2d(2 * f, 4 * f, kernel: 3, padding: 1, rng: &rng), ReLU(),
            AvgPool2d(c.imageSize / 4 / c.headGrid), Flatten(),
            Linear(4 * f * c.headGrid * c.headGrid, 4 * f, rng: &rng), ReLU(),
        ])
        classifier = Linear(4 * f, c.classes, rng: &rng)
        degree = Linear(4 * f, 1, rng: &rng)
    }

    /// Class logits [N, classes] and the ε head's logit [N].
    public func predict(_ x: Tensor) -> (classLogits: Tensor, degreeLogit: Tensor) {
        guard x.rank == 4, x.shape[1] == config.channels, x.shape[2] == config.imageSize, x.shape[3] == config.imageSize else {
            shapeFailure("SymmetryCNN", "input \(x.shape), model expects [N, \(config.channels), \(config.imageSize), \(config.imageSize)]")
        }
        let h = features(x)
        return (classifier(h), degree(h).reshape([x.shape[0]]))
    }

    public override func forward(_ x: Tensor) -> Tensor { predict(x).classLogits }
}
